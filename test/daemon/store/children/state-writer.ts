// Child process for store.test.ts. Hardhat runs every .ts under test/ as a test file, so this script only acts
// when the parent sets POQ_TEST_CHILD; imported any other way it does nothing.
import { SaltStore, newSalt } from "../../../../daemon/store/salt-store.ts";
import { EquivocationGuard, EquivocationError } from "../../../../daemon/store/equivocation-guard.ts";

const [mode, stateDir, arg] = process.argv.slice(2);

if (process.env.POQ_TEST_CHILD === "state-writer") {
  if (mode === "salts") {
    // Writes salts as fast as it can and reports each one after save() returned: those must survive SIGKILL.
    const store = new SaltStore(stateDir!);
    for (let i = 0; ; i++) {
      const salt = newSalt();
      // A large field makes each write span several syscalls, so the kill often lands mid-write.
      store.save({ taskId: String(i), round: 0, score: i % 10_001, salt, commitment: `0x${"ab".repeat(32)}` });
      process.stdout.write(`saved ${i} ${salt}\n`);
    }
  } else if (mode === "sign") {
    // Races another process to sign tasks 0..N-1 with its own score; prints what it was allowed to sign.
    const guard = new EquivocationGuard(stateDir!);
    const score = Number(arg);
    for (let task = 0; task < 1000; task++) {
      try {
        guard.checkAndRecord({ taskId: String(task), outputHash: `0x${"11".repeat(32)}`, score });
        process.stdout.write(`signed ${task} ${score}\n`);
      } catch (error) {
        if (!(error instanceof EquivocationError)) throw error;
        process.stdout.write(`refused ${task} ${score}\n`);
      }
    }
  }
}
