/**
 * Seeded randomness for the simulator: one seed string gives the same run, bit for bit, on every machine.
 * Uniforms come from seedrandom's Alea generator (fast, well tested); the distributions below are the textbook
 * transforms on top of it.
 */
import seedrandom from "seedrandom";

export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Integer uniform in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** Normal with the given mean and standard deviation (Box-Muller). */
  normal(mean: number, sd: number): number;
  /** exp(normal(mu, sigma)): heavy-ish right tail, used for stakes. */
  logNormal(mu: number, sigma: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** A generator for one named stream of a run: `createRandom(seed, "earnings")` never shares state with others. */
export function createRandom(seed: string, stream: string): Random {
  const next = seedrandom.alea(`${seed}/${stream}`);
  let spare: number | null = null; // Box-Muller makes normals in pairs; keep the second one
  const standardNormal = (): number => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const u = 1 - next(); // (0, 1]: log(u) stays finite
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    uniform: () => next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    normal: (mean, sd) => mean + sd * standardNormal(),
    logNormal: (mu, sigma) => Math.exp(mu + sigma * standardNormal()),
    chance: (p) => next() < p,
  };
}
