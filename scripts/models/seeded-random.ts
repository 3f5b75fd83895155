/**
 * Deterministic pseudo-random numbers for generated model weights. Uses only 32-bit integer arithmetic and one
 * float multiply (no Math.log/Math.sin), so every JavaScript engine on every CPU produces the same bits and a
 * generated model is byte-identical for the same seed.
 */

/** splitmix32: spreads a small seed over the 128-bit state of sfc32. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    const mix = splitmix32(seed);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
  }

  /** sfc32: next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /**
   * Fills a Float32Array with uniform values of the given standard deviation (uniform on [-a, a] with
   * a = std * sqrt(3)): same variance as the usual normal init, without transcendental functions.
   */
  fillUniform(target: Float32Array, std: number): Float32Array {
    const halfWidth = std * Math.sqrt(3);
    const toUnit = 2 / 4294967296; // maps [0, 2^32) onto [0, 2)
    for (let i = 0; i < target.length; i++) target[i] = (this.nextUint32() * toUnit - 1) * halfWidth;
    return target;
  }
}
