/**
 * Port of drivers/iommu/generic_pt/kunit_generic_pt.h (suite `<fmt>_fmt_test`): the format
 * encode/decode functions checked level by level, per kernel kunit cfg.
 */
import { describe, expect, it } from "vitest";
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE, PtAttrs } from "./pt-defs.js";
import { bitmapSizesDesc, computeBestPgsizeLg2 } from "./pt-iter.js";
import { ctz, ffz32, flsIdx } from "./pt-log2.js";
import { KUNIT_CFGS, kunitFixture } from "./testing/kunit.js";

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kunit's brute force: the largest size in the bitmap va/oa align to that fits [va, last]. */
function refBestPgsize(bitmap: bigint, va: bigint, last: bigint, oa: bigint): number {
  for (let lg2 = 63; lg2 >= 1; lg2--) {
    const sz = 1n << BigInt(lg2);
    if (!(bitmap & sz)) continue;
    if (va % sz || oa % sz) continue;
    if (va + sz - 1n > last) continue;
    return lg2;
  }
  return 0;
}

/** computeBestPgsizeLg2 on addresses split into frames of 2^g bytes (4 KiB, amdv1_mock 2 KiB). */
function bestOf(bitmap: bigint, va: bigint, last: bigint, oa: bigint, g = 12): number {
  const sizes = bitmapSizesDesc(Number(bitmap));
  const G = BigInt(g);
  const m = (1n << G) - 1n;
  return computeBestPgsizeLg2(
    sizes,
    Number(va >> G),
    Number(va & m),
    Number(last >> G),
    Number(last & m),
    Number(oa >> G),
    Number(oa & m),
    g,
  );
}

describe("test_bitops", () => {
  it("fls/ffs/ffz limits and identities", () => {
    expect(flsIdx(0)).toBe(-1);
    expect(flsIdx(2 ** 52 - 1)).toBe(51);
    expect(ctz(1)).toBe(0);
    expect(ctz(2 ** 51)).toBe(51);
    for (let i = 0; i < 32; i++) expect(ffz32(2 ** i - 1)).toBe(i);
    const rnd = prng(1);
    for (let k = 0; k < 1000; k++) {
      const v = Math.floor(rnd() * 2 ** 32) >>> 0 || 1;
      expect(v % 2 ** ctz(v)).toBe(0);
      const z = ffz32(v);
      expect(v % 2 ** z).toBe(2 ** z - 1);
    }
  });
});

describe("test_best_pgsize", () => {
  it("matches the brute-force reference", () => {
    const rnd = prng(2);
    const bitmaps = [0xfff7ffffff000n, 0x40201000n, 0x8040211000n, 0x1000n, 0n];
    for (const bitmap of bitmaps) {
      for (let k = 0; k < 2000; k++) {
        const lg = (n: number) => BigInt(Math.floor(rnd() * n));
        const va = (lg(2 ** 26) << lg(26)) << 12n;
        const oa = (lg(2 ** 20) << lg(20)) << 12n;
        const len = ((lg(2 ** 20) + 1n) << lg(20)) << 12n;
        const last = va + len - 1n;
        if (last >= 1n << 64n) continue;
        expect(bestOf(bitmap, va, last, oa)).toBe(refBestPgsize(bitmap, va, last, oa));
      }
      // zero prefix, sizes above 32 bits
      expect(bestOf(bitmap, 0n, (1n << 40n) - 1n, 0n)).toBe(refBestPgsize(bitmap, 0n, (1n << 40n) - 1n, 0n));
    }
    // va >= last → 0 (a one-byte range included)
    expect(bestOf(0x1000n, 0x1000n, 0x1000n, 0n)).toBe(0);
  });

  it("matches the brute-force reference in 2 KiB frames (amdv1_mock's granule)", () => {
    const rnd = prng(3);
    // The mock's get_info bitmap, MOCK_IOMMUPT_HUGE's, 2K alone.
    for (const bitmap of [0x3f_ffff_f800n, 0x10_1000n, 0x800n]) {
      for (let k = 0; k < 2000; k++) {
        const lg = (n: number) => BigInt(Math.floor(rnd() * n));
        const va = (lg(2 ** 26) << lg(26)) << 11n;
        const oa = (lg(2 ** 20) << lg(20)) << 11n;
        const len = ((lg(2 ** 20) + 1n) << lg(20)) << 11n;
        const last = va + len - 1n;
        if (last >= 1n << 64n) continue;
        expect(bestOf(bitmap, va, last, oa, 11)).toBe(refBestPgsize(bitmap, va, last, oa));
      }
    }
    // A sub-granule start fits nothing.
    expect(bestOf(0x800n, 0x400n, 0xfffn, 0x400n, 11)).toBe(0);
  });
});

for (const cfg of KUNIT_CFGS) {
  describe(`${cfg.name}: fmt_test`, () => {
    const f = kunitFixture(cfg);
    const pt = f.domain.pt;
    const fmt = f.fmt;
    const feat = pt.features;
    const top = pt.topLevel;

    it("test_init", () => {
      expect(f.domain.pgsizeBitmap).not.toBe(0);
    });

    it("test_max_va", () => {
      expect(pt.maxVasz).toBeGreaterThanOrEqual(pt.topRangeBits);
    });

    it("test_table_radix", () => {
      // Item sizes are contiguous, non-overlapping VA bit fields that reach max_vasz.
      for (let l = 0; l < top; l++) expect(pt.itemLg2(l) + fmt.numItemsLg2(l)).toBe(pt.itemLg2(l + 1));
      expect(pt.itemLg2(top) + Math.log2(pt.topEntries)).toBe(pt.topRangeBits);
    });

    it("test_entry_possible_sizes", () => {
      for (let l = 0; l <= top; l++) {
        const sizes = bitmapSizesDesc(fmt.possibleSizes(l, feat));
        if (!fmt.canHaveLeaf(l)) {
          expect(sizes).toEqual([]);
          continue;
        }
        const isz = pt.itemLg2(l);
        for (const s of sizes) {
          expect(s).toBeGreaterThanOrEqual(isz);
          expect(s).toBeLessThan(isz + fmt.numItemsLg2(l));
        }
        // amdv1 level 3 lacks its own item size (512G, the hardware bug).
        if (!(fmt.name === "amdv1" && l === 3)) expect(sizes).toContain(isz);
      }
    });

    it("test_table_ptr", () => {
      const words = new Uint32Array(1024);
      for (let l = 1; l <= top; l++) {
        const pfn = Number(f.testOa >> BigInt(fmt.granuleLg2)) % 2 ** 30;
        fmt.writeTable(words, 2, pfn, l, feat);
        fmt.writeTable(words, 2, pfn, l, feat);
        expect(fmt.entryType(words[2]!, words[3]!, l, feat)).toBe(PT_ENTRY_TABLE);
        expect(fmt.tablePfn(words[2]!, words[3]!, feat)).toBe(pfn);
        words[2] = 0;
        words[3] = 0;
        expect(fmt.entryType(0, 0, l, feat)).toBe(PT_ENTRY_EMPTY);
      }
    });

    it("test_entry_oa", () => {
      const attrs = new PtAttrs();
      expect(fmt.setProt(3, feat, attrs)).toBe(0);
      for (let l = 0; l <= top; l++) {
        const isz = pt.itemLg2(l);
        for (const lg2 of bitmapSizesDesc(fmt.possibleSizes(l, feat))) {
          const maxOa = (1n << BigInt(pt.maxOasz)) - 1n;
          for (const oaSrc of [f.testOa, 0n, maxOa]) {
            const oa = oaSrc & ~((1n << BigInt(lg2)) - 1n);
            if (lg2 >= pt.maxOasz) continue;
            const words = new Uint32Array(1024);
            const n = fmt.writeLeaf(words, 0, l, Number(oa >> BigInt(fmt.granuleLg2)), lg2, attrs, feat);
            expect(n).toBe(2 ** (lg2 - isz));
            for (let i = 0; i < n; i++) {
              const lo = words[2 * i]!;
              const hi = words[2 * i + 1]!;
              expect(fmt.entryType(lo, hi, l, feat)).toBe(PT_ENTRY_OA);
              expect(fmt.entryOaPfn(lo, hi, l, feat)).toBe(Number(oa >> BigInt(fmt.granuleLg2)));
              expect(fmt.numContigLg2(lo, hi, l, feat)).toBe(lg2 - isz);
            }
            // a contiguous entry never spans the whole table
            expect(n).toBeLessThan(2 ** fmt.numItemsLg2(l));
            for (let i = 0; i < 2 * n; i++) words[i] = 0;
            expect(fmt.entryType(words[0]!, words[1]!, l, feat)).toBe(PT_ENTRY_EMPTY);
          }
        }
      }
    });

    // Formats without dirty bits: the kernel kunit_skip()s this case, and so do we.
    const hasDirty = !!(fmt.isWriteDirty && fmt.makeWriteClean && fmt.makeWriteDirty);
    (hasDirty
      ? it
      : (name: string, fn: () => void) => it.skip(`${name} — kunit_skip: the format has no dirty bit`, fn))(
      "test_dirty",
      () => {
        if (!fmt.isWriteDirty || !fmt.makeWriteClean || !fmt.makeWriteDirty) throw new Error("unreachable");
        const attrs = new PtAttrs();
        fmt.setProt(3, feat, attrs);
        for (let l = 0; l <= top; l++) {
          for (const lg2 of bitmapSizesDesc(fmt.possibleSizes(l, feat))) {
            const words = new Uint32Array(1024);
            const n = fmt.writeLeaf(words, 0, l, 0, lg2, attrs, feat);
            expect(fmt.isWriteDirty(words, 0, l, feat)).toBe(false);
            const item = n - 1;
            fmt.makeWriteDirty(words, item);
            for (let i = 0; i < n; i++) expect(fmt.isWriteDirty(words, i, l, feat)).toBe(true);
            fmt.makeWriteClean(words, 0, l, feat);
            expect(fmt.isWriteDirty(words, item, l, feat)).toBe(false);
          }
        }
      },
    );

    it("test_attr_from_entry", () => {
      // Every size × prot combination set_prot accepts: install, attr_from_entry, reinstall
      // gives the identical entry (every item of a contiguous one).
      for (let l = 0; l <= top; l++) {
        for (const lg2 of bitmapSizesDesc(fmt.possibleSizes(l, feat))) {
          if (lg2 >= pt.maxOasz) continue;
          const oaPfn = Number((f.testOa & ~((1n << BigInt(lg2)) - 1n)) >> 12n);
          for (let prot = 0; prot < 32; prot++) {
            const attrs = new PtAttrs();
            if (fmt.setProt(prot, feat, attrs) !== 0) continue;
            const a = new Uint32Array(1024);
            const n = fmt.writeLeaf(a, 0, l, oaPfn, lg2, attrs, feat);
            const back = new PtAttrs();
            fmt.attrFromEntry(a[0]!, a[1]!, l, feat, back);
            const b = new Uint32Array(1024);
            expect(fmt.writeLeaf(b, 0, l, oaPfn, lg2, back, feat)).toBe(n);
            expect(b).toEqual(a);
          }
        }
      }
    });
  });
}
