/**
 * Counts and sizes the kernel narrows to C `int` (or wraps as size_t / unsigned long), at
 * their wrap points, for every io-pgtable format: `min_t(int, pgcount, max_entries)` in
 * io-pgtable-arm.c and io-pgtable-dart.c, `int num_entries = size >> shift` in
 * io-pgtable-arm-v7s.c, `*mapped += num_entries * size` (size_t), and the `iova + size`
 * of arm_lpae_read_and_clear_dirty (unsigned long).
 */

import {
  IommuCounters,
  IotlbGather,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "./alloc.js";
import type { AppleDartIoPgtable } from "./apple-dart/apple-dart.js";
import type { ArmV7sIoPgtable } from "./arm-v7s/arm-v7s.js";
import { IO_PGTABLE_QUIRK_ARM_HD, IoPgtableFmt } from "./io-pgtable.js";
import { createIoPgtableDomain } from "./io-pgtable-domain.js";
import { ioPgtableIovaToPhys } from "./iova-to-phys.js";
import { alloc, leafPte } from "./testing/lpae-harness.js";
import { testCfg } from "./testing/table-harness.js";
import { cInt, WRAP_POINTS, wrapCount, wrapSize } from "./testing/wrap-points.js";

const RW = 3;
const K4 = 0x1000;
const S1 = IoPgtableFmt.ARM_64_LPAE_S1;

function mapPages(
  ops: { mapPages: (...a: never[]) => number },
  iova: number,
  pa: number,
  size: number,
  count: number,
) {
  const m = new SizeOut();
  const ret = (ops.mapPages as (...a: unknown[]) => number)(iova, pa, size, count, RW, 0, m);
  return { ret, mapped: m.value };
}

/** The kernel's `min_t(int, pgcount, max_entries)`. */
function numEntries(count: number, maxEntries: number): number {
  return Math.min(cInt(count), maxEntries);
}

describe("ARM LPAE: min_t(int, pgcount, max_entries) in __arm_lpae_unmap", () => {
  it("regression: `unmap_pages 0 1000 0x80000000` over 512 pages returns 0 and touches nothing", () => {
    const h = alloc(S1);
    expect(mapPages(h.ops, 0, 0, K4, 512)).toEqual({ ret: 0, mapped: 512 * K4 });
    const before = { live: h.allocator.liveCount, writes: h.counters.pteWrites };
    // 0x80000000 as a C int is -2^31: the kernel's loop runs zero times.
    expect(h.ops.unmapPages(0, K4, 0x8000_0000, new IotlbGather())).toBe(0);
    expect(h.allocator.liveCount).toBe(before.live);
    expect(h.counters.pteWrites).toBe(before.writes);
    expect(h.counters.warns).toBe(0);
    expect(h.tlb.walks).toEqual([]);
    for (let i = 0; i < 512; i++) expect(ioPgtableIovaToPhys(h.ops, i * K4 + 5)).toBe(i * K4 + 5);
    // 2^32 + 1 narrows to 1.
    expect(h.ops.unmapPages(0, K4, 2 ** 32 + 1, null)).toBe(K4);
    expect(ioPgtableIovaToPhys(h.ops, 5)).toBe(0);
    expect(ioPgtableIovaToPhys(h.ops, K4 + 5)).toBe(K4 + 5);
  });

  it("regression: iommu_unmap(2^43) of a 4K-only ARM_64_LPAE_S1 domain is 0, the table intact", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const ops = allocIoPgtableOps(S1, {
      quirks: 0,
      pgsizeBitmap: 0x1000,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      allocator,
      counters,
    })!;
    const d = createIoPgtableDomain(ops);
    expect(d.pgsizeBitmap).toBe(0x1000);
    iommuMap(d, 0, 0x5000, K4, RW);
    const live = allocator.liveCount;
    // iommu_pgsize asks for 2^31 pages of 4K: (int) -2^31, nothing unmapped, the core stops.
    expect(iommuUnmap(d, 0, 2 ** 43)).toBe(0);
    expect(allocator.liveCount).toBe(live);
    expect(counters.tablesFreed).toBe(0);
    const r = iommuIovaToPhysLength(d, 0x123);
    expect([r.mapped, r.phys, r.length]).toEqual([true, 0x5123, K4]);
    expect(counters.warns).toBe(0);
    // The table still works: the page unmaps normally.
    expect(iommuUnmap(d, 0, K4)).toBe(K4);
  });

  it("property: unmap_pages clears exactly min((int)pgcount, entries left) leaves, never more", () => {
    fc.assert(
      fc.property(wrapCount(), fc.integer({ min: 0, max: 511 }), (count, idx) => {
        const h = alloc(S1);
        mapPages(h.ops, 0, 0x10_0000, K4, 512);
        const n = numEntries(count, 512 - idx);
        const got = count === 0 ? 0 : Math.max(n, 0) * K4;
        expect(h.ops.unmapPages(idx * K4, K4, count, null)).toBe(got);
        // Entries [idx, idx + n) are gone, everything else is still mapped.
        for (const i of [0, idx - 1, idx, idx + 1, idx + Math.max(n, 0) - 1, idx + Math.max(n, 0), 511]) {
          if (i < 0 || i > 511) continue;
          const gone = count !== 0 && i >= idx && i < idx + n;
          expect(ioPgtableIovaToPhys(h.ops, i * K4)).toBe(gone ? 0 : 0x10_0000 + i * K4);
        }
        expect(h.allocator.liveCount).toBe(4);
      }),
      { numRuns: 200 },
    );
  });

  it("property: map_pages writes min((int)pgcount, entries left) leaves; `mapped` adds n·size as size_t", () => {
    fc.assert(
      fc.property(wrapCount(), fc.integer({ min: 0, max: 511 }), (count, idx) => {
        const h = alloc(S1);
        const n = numEntries(count, 512 - idx);
        const r = mapPages(h.ops, idx * K4, 0x10_0000, K4, count);
        expect(r.ret).toBe(0);
        // A negative n is the kernel's size_t wrap of `num_entries * size` (2^64 + v).
        expect(r.mapped).toBe(n * K4);
        expect(ioPgtableIovaToPhys(h.ops, idx * K4)).toBe(n > 0 ? 0x10_0000 : 0);
        if (idx + n < 512) expect(ioPgtableIovaToPhys(h.ops, (idx + Math.max(n, 0)) * K4)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("block sizes at the wrap points: 2M and 1G unmap counts narrow the same way", () => {
    for (const [size, n] of [
      [0x20_0000, 4],
      [0x4000_0000, 2],
    ] as const) {
      for (const count of WRAP_POINTS) {
        const h = alloc(S1);
        mapPages(h.ops, 0, 0, size, n);
        const want = count === 0 ? 0 : Math.max(numEntries(count, 512), 0);
        expect(h.ops.unmapPages(0, size, count, null)).toBe(Math.min(want, n) * size);
      }
    }
  });
});

describe("ARM LPAE: pgsize at the wrap points is validated as a size_t against the bitmap", () => {
  it("map -EINVAL and unmap 0, each with a WARN, for every wrap point but the page sizes", () => {
    for (const pgsize of WRAP_POINTS) {
      const h = alloc(S1);
      const r = mapPages(h.ops, 0, 0, pgsize, 1);
      const u = h.ops.unmapPages(0, pgsize, 1, null);
      expect([r.ret, r.mapped, u]).toEqual([-22, 0, 0]);
      expect(h.counters.warns).toBe(2);
    }
  });
});

describe("ARM LPAE: read_and_clear_dirty's iova + size is unsigned long", () => {
  it("a range that wraps past 2^64 passes the ias check on the wrapped end and walks nothing", () => {
    const h = alloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_HD });
    mapPages(h.ops, 0, 0x10_0000, K4, 4);
    const seen: number[] = [];
    const dirty = { record: (a: number) => seen.push(a) };
    // 0x2000 + (2^64 − 0x1000) = 2^64 + 0x1000: last byte 0xfff, end 0x1000 < start.
    expect(h.ops.readAndClearDirty!(0x2000, 2 ** 64 - 0x1000, 0, dirty)).toBe(0);
    expect(h.counters.warns).toBe(0);
    // 0x1000 + (2^64 − 0x1000) = 2^64: last byte 2^64 − 1, beyond ias.
    expect(h.ops.readAndClearDirty!(0x1000, 2 ** 64 - 0x1000, 0, dirty)).toBe(-22);
    expect(h.counters.warns).toBe(1);
    expect(seen).toEqual([]);
    expect(h.ops.readAndClearDirty!(0, 0x4000, 0, dirty)).toBe(0);
    expect(seen).toEqual([0, K4, 2 * K4, 3 * K4]);
    expect(leafPte(h, 0).ret).toBe(0);
  });
});

describe("ARMv7 short descriptor: int num_entries = size >> LVL_SHIFT", () => {
  function v7s() {
    const cfg = testCfg({ pgsizeBitmap: 0x111_1000 });
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg, cfg)!;
    return { ops, iop: ioPgtableOpsToPgtable(ops) as ArmV7sIoPgtable, cfg };
  }

  it("unmap: a size whose L1 count is a negative int returns the size and clears nothing", () => {
    const { ops, cfg } = v7s();
    expect(mapPages(ops, 0, 0x10_0000, 0x10_0000, 1).ret).toBe(0);
    // 2^51 >> 20 = 2^31: (int) -2^31, `if (num_entries)` is taken with empty loops.
    expect(ops.unmapPages(0, 2 ** 51, 1, null)).toBe(2 ** 51);
    expect(ioPgtableIovaToPhys(ops, 0x123)).toBe(0x10_0123);
    expect(cfg.tlb.calls).toEqual([]);
    // 2^52 >> 20 = 2^32: (int) 0, so the walk goes on into a section: partial, refused.
    expect(ops.unmapPages(0, 2 ** 52, 1, null)).toBe(0);
    expect(cfg.counters.warns).toBe(1);
    expect(ioPgtableIovaToPhys(ops, 0x123)).toBe(0x10_0123);
  });

  it("map: a negative count writes nothing, succeeds and adds pgsize to `mapped`", () => {
    const { ops, iop } = v7s();
    expect(mapPages(ops, 0, 0x10_0000, 2 ** 51, 1)).toEqual({ ret: 0, mapped: 2 ** 51 });
    for (let i = 0; i < iop.l1Entries; i++) expect(iop.l1Entry(i)).toBe(0);
    // (int)(2^52 >> 20) = 0 and (int)(2^52 >> 12) = 0: no level takes it, WARN -EINVAL.
    expect(mapPages(ops, 0, 0x10_0000, 2 ** 52, 1)).toEqual({ ret: -22, mapped: 0 });
  });

  it("property: the L1 count of any page size is (int)(size >> 20), as the kernel narrows it", () => {
    fc.assert(
      fc.property(wrapSize(0x10_0000), (size) => {
        const { ops, iop } = v7s();
        const n = cInt(Math.floor(size / 0x10_0000));
        const r = mapPages(ops, 0, 0, size, 1);
        if (n > 0 && n <= iop.l1Entries) {
          expect(r).toEqual({ ret: 0, mapped: size });
          expect(iop.l1Entry(n - 1)).not.toBe(0);
        } else if (n < 0) {
          expect(r).toEqual({ ret: 0, mapped: size });
          expect(iop.l1Entry(0)).toBe(0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("a 2^63-page map runs the size_t loop until the L1 index wraps onto its own first page", () => {
    const { ops, cfg } = v7s();
    // 2^20 pages fill the 4 GiB; the next one aliases iova 0 (the L1 index is masked): -EEXIST.
    expect(mapPages(ops, 0, 0, K4, 2 ** 63)).toEqual({ ret: -17, mapped: 2 ** 32 });
    expect(cfg.counters.warns).toBe(1);
  });

  it("pgcount wrap points: the loop is a size_t count, unmap stops at the first hole", () => {
    for (const count of WRAP_POINTS) {
      const { ops } = v7s();
      mapPages(ops, 0, 0x10_0000, K4, 3);
      expect(ops.unmapPages(0, K4, count, null)).toBe(Math.min(count, 3) * K4);
    }
  });
});

describe("Apple DART: min_t(int, pgcount, max_entries)", () => {
  it("pgsize at the wrap points is not the bitmap: map -EINVAL, unmap 0, each with a WARN", () => {
    for (const pgsize of WRAP_POINTS) {
      const { ops, cfg } = dart(IoPgtableFmt.APPLE_DART2);
      expect(mapPages(ops, 0, 0, pgsize, 1)).toEqual({ ret: -22, mapped: 0 });
      expect(ops.unmapPages(0, pgsize, 1, null)).toBe(0);
      expect(cfg.counters.warns).toBe(2);
    }
  });

  function dart(fmt: IoPgtableFmt) {
    const cfg = testCfg({ pgsizeBitmap: 0x4000, ias: 32, oas: fmt === IoPgtableFmt.APPLE_DART ? 36 : 42 });
    const ops = allocIoPgtableOps(fmt, cfg, cfg)!;
    return { ops, iop: ioPgtableOpsToPgtable(ops) as AppleDartIoPgtable, cfg };
  }

  for (const fmt of [IoPgtableFmt.APPLE_DART, IoPgtableFmt.APPLE_DART2]) {
    it(`fmt ${fmt} property: map and unmap take min((int)pgcount, entries left)`, () => {
      fc.assert(
        fc.property(wrapCount(), fc.integer({ min: 0, max: 2047 }), (count, idx) => {
          const { ops, iop } = dart(fmt);
          const pg = iop.pgsize;
          const n = numEntries(count, 2048 - idx);
          const r = mapPages(ops, idx * pg, 0x100_0000, pg, count);
          expect(r).toEqual({ ret: 0, mapped: n * pg });
          expect(ioPgtableIovaToPhys(ops, idx * pg)).toBe(n > 0 ? 0x100_0000 : 0);
          const u = ops.unmapPages(idx * pg, pg, count, null);
          expect(u).toBe(count === 0 ? 0 : Math.max(n, 0) * pg);
          expect(ioPgtableIovaToPhys(ops, idx * pg)).toBe(0);
        }),
        { numRuns: 150 },
      );
    });
  }
});
