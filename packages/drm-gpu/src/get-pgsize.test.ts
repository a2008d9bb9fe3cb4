import { SZ_1G, SZ_1M, SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { alignBits, getPgsize, PgCount } from "./get-pgsize.js";

// get_pgsize() (panfrost_mmu.c and panthor_mmu.c): expected values worked out by hand from
// the kernel's arithmetic (blk_offset = -addr % SZ_2M, min_not_zero, the 1 GiB cap).
const CASES: Array<[string, number, number, number, number]> = [
  ["aligned, one page", 0, SZ_4K, SZ_4K, 1],
  ["aligned, under 2M", 0, SZ_2M - SZ_4K, SZ_4K, 511],
  ["aligned, sub-page size rounds down", 0, 6 * 1024, SZ_4K, 1],
  ["aligned, zero size: min_not_zero(0, 0) = 0", 0, 0, SZ_4K, 0],
  ["aligned, exactly 2M", 0, SZ_2M, SZ_2M, 1],
  ["aligned, 2M + 4K: blocks first", 0, SZ_2M + SZ_4K, SZ_2M, 1],
  ["aligned, 1G", 0, SZ_1G, SZ_2M, 512],
  ["aligned, 3G: capped at the 1G boundary", 0, 3 * SZ_1G, SZ_2M, 512],
  ["2M into a 1G block", SZ_2M, SZ_1G, SZ_2M, 511],
  ["2M below a 1G boundary", SZ_1G - SZ_2M, 8 * SZ_2M, SZ_2M, 1],
  ["4K past a 2M boundary: pages to the next boundary", SZ_4K, 4 * SZ_2M, SZ_4K, 511],
  ["1M past: 256 pages", SZ_1M, 4 * SZ_2M, SZ_4K, 256],
  ["unaligned, short run", SZ_4K, 3 * SZ_4K, SZ_4K, 3],
  ["unaligned, zero size: min_not_zero picks blk_offset", SZ_4K, 0, SZ_4K, 511],
  ["above 4G", 2 ** 40 + SZ_2M, SZ_1G, SZ_2M, 511],
  ["above 2^48", 2 ** 48 + SZ_1G - SZ_4K, SZ_1G, SZ_4K, 1],
];

describe("get_pgsize (panfrost_mmu.c, panthor_mmu.c)", () => {
  const out = new PgCount();
  it.each(CASES)("%s", (_name, addr, size, pgsize, count) => {
    expect(getPgsize(addr, size, out)).toBe(pgsize);
    expect(out.count).toBe(count);
  });

  it("iova | paddr: a 2M-aligned IOVA with a 4K-aligned paddr gets 4K pages", () => {
    expect(getPgsize(alignBits(SZ_1G, 2 ** 33 + SZ_4K), 4 * SZ_2M, out)).toBe(SZ_4K);
    expect(out.count).toBe(511);
    expect(getPgsize(alignBits(SZ_1G + SZ_2M, 2 ** 34), 4 * SZ_2M, out)).toBe(SZ_2M);
    expect(out.count).toBe(4);
  });

  it("alignBits keeps only what get_pgsize reads (bits 29:0 of each side)", () => {
    expect(alignBits(2 ** 40 + 0x1000, 2 ** 35 + 0x20_0000)).toBe(0x20_1000);
    expect(alignBits(2 ** 47, 2 ** 39)).toBe(0);
  });
});
