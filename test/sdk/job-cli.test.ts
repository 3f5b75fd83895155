import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseEther } from "viem";
import { runCli } from "../../daemon/cli/poq.ts";
import { mintTokens, waitOk } from "../../scripts/localnet/actors.ts";
import { startLocalnet, type Actor, type Localnet } from "../../scripts/localnet/index.ts";
import { getProtocolContracts } from "../../sdk/contracts.ts";

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const MODEL = "cli-test-model";
const EVALUATOR = { id: `0x${"ab".repeat(32)}` as const, uri: "test://evaluator" };

describe("poq job post | wait | get (CLI over the requester SDK)", () => {
  let net: Localnet;
  let requester: Actor;
  let provider: Actor;
  let connection: string[];
  let payer: string[];

  before(async () => {
    net = await startLocalnet({ params: { answerWindow: 5 }, evaluators: [EVALUATOR] });
    provider = await net.actor("provider");
    await net.stake(provider, { role: "provider", amount: parseEther("1000"), models: [MODEL] });
    requester = await net.actor("requester");
    await mintTokens(net.chain, net.manifest, requester, parseEther("100"));
    connection = ["--deployment", net.manifestPath, "--rpc-url", net.chain.rpcUrl];
    payer = ["--keystore", requester.keystorePath, "--password-file", requester.passwordFile];
  });
  after(() => net?.teardown.run());

  it("has --help on each job command", async () => {
    for (const sub of ["post", "wait", "get"]) {
      const { code, out } = await cli(["job", sub, "--help"]);
      assert.equal(code, 0);
      assert.match(out, new RegExp(`Usage: poq job ${sub}`));
    }
  });

  it("posts a job (approving the fee), reads it, and waits for its settlement", async () => {
    const posted = await cli(["job", "post", ...connection, ...payer, "--model", MODEL, "--prompt", "Why is the sky blue?", "--fee", "2.5", "--json"]);
    assert.equal(posted.code, 0, posted.err);
    const { taskId, seedBlock } = JSON.parse(posted.out) as { taskId: string; seedBlock: string };
    assert.equal(taskId, "1");
    // The provider is drawn from the hash of the block after the creation: a read sees it once a later block exists.
    const head = await net.chain.publicClient.getBlockNumber();
    await net.chain.testClient.mine({ blocks: Number(BigInt(seedBlock) + 1n - head) });
    const got = await cli(["job", "get", taskId, ...connection]);
    assert.equal(got.code, 0, got.err);
    assert.match(got.out, /status\s+Assigned/);
    assert.match(got.out, new RegExp(`provider\\s+${provider.address}`, "i"));
    assert.match(got.out, /fee\s+2\.5 POQ/, "amounts in tokens, not base units");

    // Nobody answers: after the answer window anyone may reassign; with no other provider the fee comes back.
    await net.chain.testClient.mine({ blocks: 6 });
    const market = getProtocolContracts(net.manifest, { public: net.chain.publicClient, wallet: requester.wallet }).taskMarket;
    await waitOk(net.chain.publicClient, await market.write.reassign([1n]), "reassign");
    const waited = await cli(["job", "wait", taskId, ...connection, "--timeout", "5"]);
    assert.equal(waited.code, 0, waited.err);
    assert.match(waited.out, /status\s+Refunded \(NoProvider, 2\.5 POQ back\)/);
    const json = await cli(["job", "wait", taskId, ...connection, "--json"]);
    assert.equal(JSON.parse(json.out).refund.amount, "2500000000000000000");
  });

  it("explains bad jobs and bad input in one line, without sending anything", async () => {
    const unknown = await cli(["job", "post", ...connection, ...payer, "--model", "nobody-serves-this", "--prompt", "hi", "--fee", "1"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /^poq: no active provider serves model "nobody-serves-this"/);
    const big = path.join(net.dir, "big-prompt.txt");
    writeFileSync(big, "x".repeat(net.manifest.parameters.market.maxPromptBytes + 1));
    const oversize = await cli(["job", "post", ...connection, ...payer, "--model", MODEL, "--prompt-file", big, "--fee", "1"]);
    assert.equal(oversize.code, 1);
    assert.match(oversize.err, /prompt is 8193 bytes .* at most 8192/);
    const poor = await cli(["job", "post", ...connection, ...payer, "--model", MODEL, "--prompt", "hi", "--fee", "1000000"]);
    assert.equal(poor.code, 1);
    assert.match(poor.err, /holds .* but the fee is/);
    assert.equal((await cli(["job", "post", ...connection, ...payer, "--model", MODEL, "--prompt", "hi", "--fee", "ten"])).code, 64);
    const approve = await cli(["job", "post", ...connection, ...payer, "--model", MODEL, "--prompt", "hi", "--fee", "1", "--approve", "unlimited"]);
    assert.equal(approve.code, 64);
    assert.match(approve.err, /--approve must be "standing" or "exact", got "unlimited"/);
    assert.equal((await cli(["job", "post", ...connection, "--model", MODEL, "--prompt", "hi", "--fee", "1"])).code, 64, "no keystore");
    assert.equal((await cli(["job", "get", "1", "--rpc-url", net.chain.rpcUrl])).code, 64, "no deployment");
    assert.equal((await cli(["job", "get", "abc", ...connection])).code, 64);
    const missing = await cli(["job", "get", "99", ...connection]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /task 99 does not exist/);
    const nonce = await net.chain.publicClient.getTransactionCount({ address: requester.address });
    assert.equal(nonce, 4, "only the first test's approve, createTask and reassign (and the mint) were sent");
  });
});
