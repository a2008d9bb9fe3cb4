import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { iommuPgsize, PgsizeResult } from "./pgsize.js";

const K4 = 0x1000;
const M2 = 0x200000;
const G1 = 0x40000000;

/** Straight from the kernel's description, on bigints: the reference for the property test. */
function reference(
  bitmap: bigint,
  iova: bigint,
  paddr: bigint,
  size: bigint,
): { pgsize: bigint; count: bigint } {
  const merge = iova | paddr;
  let sizes: bigint[] = [];
  for (let b = 0n; b < 64n; b++) if ((bitmap >> b) & 1n) sizes.push(1n << b);
  const maxBySize = 1n << BigInt(size.toString(2).length - 1);
  sizes = sizes.filter((s) => s <= maxBySize);
  if (merge !== 0n) {
    let align = 0n;
    while (((merge >> align) & 1n) === 0n) align++;
    sizes = sizes.filter((s) => s <= 1n << align);
  }
  if (sizes.length === 0) return { pgsize: 0n, count: 0n };
  const pgsize = sizes[sizes.length - 1]!;
  const bigger: bigint[] = [];
  for (let b = 0n; b < 64n; b++) if ((bitmap >> b) & 1n && 1n << b > pgsize) bigger.push(1n << b);
  if (bigger.length && ((iova ^ paddr) & (bigger[0]! - 1n)) === 0n) {
    const next = bigger[0]!;
    const offset = next - (merge & (next - 1n));
    if (offset + next < 1n << 64n && offset + next <= size) size = offset;
  }
  return { pgsize, count: size / pgsize };
}

function split(bitmap: number, iova: number, paddr: number, size: number) {
  const steps: Array<[number, number]> = [];
  const r = new PgsizeResult();
  while (size > 0) {
    iommuPgsize(bitmap, iova, paddr, size, r);
    steps.push([r.pgsize, r.count]);
    const n = r.pgsize * r.count;
    iova += n;
    paddr += n;
    size -= n;
  }
  return steps;
}

describe("iommuPgsize", () => {
  it("splits the spec's worked example: 4K x1, 2M x2, 4K x1", () => {
    expect(split(K4 | M2 | G1, 0x1ff000, 0x1ff000, 0x402000)).toEqual([
      [K4, 1],
      [M2, 2],
      [K4, 1],
    ]);
  });

  it("stops a small-page run at the boundary where a larger page becomes usable", () => {
    expect(split(K4 | M2, 0x100000, 0x300000, 0x300000)).toEqual([
      [K4, 256],
      [M2, 1],
    ]);
  });

  it("never reaches the larger page when iova and paddr differ modulo it", () => {
    expect(split(K4 | M2, 0x200000, 0x201000, 0x400000)).toEqual([[K4, 1024]]);
  });

  it("treats a zero address as unlimited alignment", () => {
    expect(split(K4 | M2 | G1, 0, 0, 0x80000000)).toEqual([[G1, 2]]);
  });

  it("reports pgsize 0 (the kernel's BUG_ON) when nothing fits", () => {
    const r = iommuPgsize(K4 | M2, 0x1ffe, 0x1ffe, 0x2002, new PgsizeResult());
    expect(r.pgsize).toBe(0);
  });

  it("is exact with addresses and sizes near 2^64", () => {
    const top = 2 ** 64 - 2 ** 30; // 0xffffffffc0000000, exact as a double
    expect(split(K4 | M2 | G1, top, top, G1)).toEqual([[G1, 1]]);
    const r = iommuPgsize(K4 | M2 | G1, 0xffff800000000000, 0x1000, 2 ** 63, new PgsizeResult());
    expect([r.pgsize, r.count]).toEqual([K4, 2 ** 51]);
  });

  it("matches a brute-force reference (property)", () => {
    const page = fc.integer({ min: 0, max: 2 ** 20 - 1 }).map((n) => n * K4);
    const bitmapArb = fc
      .subarray([12, 13, 14, 16, 21, 25, 29, 30, 36, 39], { minLength: 1 })
      .map((bits) => bits.reduce((a, b) => a + 2 ** b, 0));
    fc.assert(
      fc.property(
        bitmapArb,
        page,
        page,
        fc.integer({ min: 1, max: 2 ** 20 }),
        (bitmap, iova, paddr, pages) => {
          const size = pages * K4;
          const ref = reference(BigInt(bitmap), BigInt(iova), BigInt(paddr), BigInt(size));
          const got = iommuPgsize(bitmap, iova, paddr, size, new PgsizeResult());
          expect(BigInt(got.pgsize)).toBe(ref.pgsize);
          expect(BigInt(got.count)).toBe(ref.count);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
