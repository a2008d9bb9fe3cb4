import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { holeSpanOutside, type IovaRange } from "./hole-span.js";

const LOW48: IovaRange = [0n, (1n << 48n) - 1n];
const HIGH48: IovaRange = [0xffff_0000_0000_0000n, (1n << 64n) - 1n];

describe("holeSpanOutside", () => {
  it("crosses the space above a 48-bit table in power-of-two steps (16 lookups from 2^48 to 2^64)", () => {
    expect(holeSpanOutside(2 ** 48, [LOW48])).toBe(2 ** 48);
    expect(holeSpanOutside(2 ** 48 + 5, [LOW48])).toBe(2 ** 48);
    expect(holeSpanOutside(2n ** 63n, [LOW48])).toBe(2 ** 63);
    let steps = 0;
    for (let iova = 1n << 48n; iova < 1n << 64n; steps++) iova += BigInt(holeSpanOutside(iova, [LOW48]));
    expect(steps).toBe(16);
  });
  it("the non-canonical middle of a sign-extended table", () => {
    expect(holeSpanOutside(2n ** 63n, [LOW48, HIGH48])).toBe(2 ** 62);
    expect(holeSpanOutside(0xfffe_ffff_ffff_f000n, [LOW48, HIGH48])).toBe(2 ** 48);
  });
  it("no ranges: the whole 2^64 space; inside a range: 0", () => {
    expect(holeSpanOutside(0x1234, [])).toBe(2 ** 64);
    expect(holeSpanOutside(0x1234, [LOW48])).toBe(0);
  });
  it("is the largest aligned block around the IOVA that misses every range (brute force)", () => {
    const arbRange = fc
      .tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }))
      .map(([a, b]): IovaRange => (a <= b ? [a, b] : [b, a]));
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.array(arbRange, { maxLength: 2 }),
        (iova, ranges) => {
          const inside = ranges.some(([lo, hi]) => iova >= lo && iova <= hi);
          const len = holeSpanOutside(iova, ranges);
          if (inside) return len === 0;
          const size = BigInt(len);
          const first = (iova / size) * size;
          const misses = (f: bigint, s: bigint) => ranges.every(([lo, hi]) => f + s - 1n < lo || f > hi);
          if (!misses(first, size)) return false;
          if (size === 1n << 64n) return true;
          const up = size * 2n;
          return !misses((iova / up) * up, up);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
