// Model-only: the deterministic generator behind the fake user memory layout.
const MASK64 = (1n << 64n) - 1n;
const GAMMA = 0x9e3779b97f4a7c15n;
const MUL1 = 0xbf58476d1ce4e5b9n;
const MUL2 = 0x94d049bb133111ebn;

/**
 * SplitMix64 (Steele, Lea, Flood 2014), the generator the VFIO vectors' fake memory uses to
 * scatter pages. Off the hot path (one draw per backing chunk), so plain bigint arithmetic.
 */
export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint | number) {
    this.state = BigInt(seed) & MASK64;
  }

  /** The next 64-bit output. */
  next(): bigint {
    this.state = (this.state + GAMMA) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * MUL1) & MASK64;
    z = ((z ^ (z >> 27n)) * MUL2) & MASK64;
    return z ^ (z >> 31n);
  }

  /** `next() mod n` as a number (n below 2^53). */
  nextBelow(n: number): number {
    return Number(this.next() % BigInt(n));
  }
}
