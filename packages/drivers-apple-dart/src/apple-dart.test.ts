/**
 * The DART driver's paging behaviour: lazy finalize and what the ops do before it, attach
 * (streams, TTBR/TCR programming), geometry edges, the TLB invalidation the kernel issues per
 * map/unmap (apple_dart_iotlb_sync / _iotlb_sync_map / _flush_iotlb_all: one stream-wide
 * invalidation each), iova_to_phys_length, and allocation failure at finalize.
 */
import {
  IOMMU_CACHE,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  IotlbGather,
  iommuDomainInspector,
  iommuFlushIotlbAll,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  iommuUnmapFast,
  PhysLength,
  SizeOut,
  SZ_4K,
  SZ_16K,
  SZ_32M,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { AppleDart, appleDartMaster } from "./apple-dart.js";
import {
  DART_T8020_STREAM_COMMAND_INVALIDATE,
  DART_T8020_TCR_BYPASS_DAPF,
  DART_T8020_TCR_BYPASS_DART,
  DART_T8020_TCR_TRANSLATE_ENABLE,
  DART_T8020_TTBR_VALID,
  DART_T8110_TCR_FOUR_LEVEL,
  DART_T8110_TCR_TRANSLATE_ENABLE,
} from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IommuError) return e.code;
    throw e;
  }
  return "none";
}

describe("apple_dart_domain_alloc_paging / apple_dart_finalize_domain", () => {
  it("with a device (the default) the domain is finalized at allocation", () => {
    const dart = new AppleDart({ variant: "t8103", pgsize: SZ_4K });
    const d = dart.domainAllocPaging();
    expect(d.finalized).toBe(true);
    expect(d.pgtblOps).not.toBeNull();
    expect(d.ops).toBe(dart.ops);
    expect(d.streamMaps.map((s) => [s.dart, [...s.sidmap.keys()].filter((i) => s.sidmap[i])])).toEqual([
      [dart, [0]],
    ]);
  });

  it("flags: the driver has no domain_alloc_paging_flags → -EOPNOTSUPP", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    expect(dart.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(-95);
  });

  it("a DART page larger than PAGE_SIZE: -EINVAL, and def_domain_type forces IDENTITY", () => {
    const dart = new AppleDart({ variant: "t6000" }); // 16K DART, 4K kernel
    expect(dart.domainAllocPagingFlags(0)).toBe(-22);
    expect(errnoOf(() => dart.domainAllocPaging())).toBe("EINVAL");
    expect(dart.defDomainType()).toBe(IOMMU_DOMAIN_IDENTITY);
    // Allocated without a device it exists, but the first attach refuses it.
    const lazy = dart.domainAllocPaging({ master: null });
    expect(dart.attachDev(lazy)).toBe(-22);
    expect(lazy.finalized).toBe(false);
    // Same DART under a 16K kernel.
    expect(new AppleDart({ variant: "t6000", pageSize: SZ_16K }).defDomainType()).toBe(0);
    expect(new AppleDart({ variant: "t6000", pageSize: SZ_16K, bypass: false }).defDomainType()).toBe(
      IOMMU_DOMAIN_DMA,
    );
  });

  it("capable(): apple-dart has no capable op", () => {
    expect(new AppleDart().capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(false);
  });
});

describe("before finalize (allocated without a device)", () => {
  const dart = new AppleDart({ pgsize: SZ_4K });
  const d = dart.domainAllocPaging({ master: null });

  it("has no table, pgsize_bitmap 0 and an empty geometry", () => {
    expect([d.finalized, d.pgtblOps, d.pgsizeBitmap]).toEqual([false, null, 0]);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0, forceAperture: false });
  });

  it("iommu_map → -ENODEV (WARN: empty pgsize_bitmap), iommu_unmap → 0, iova_to_phys → 0", () => {
    const warns = d.counters.warns;
    expect(errnoOf(() => iommuMap(d, 0, 0, SZ_4K, RW))).toBe("ENODEV");
    expect(iommuUnmap(d, 0, SZ_4K)).toBe(0);
    expect(d.counters.warns - warns).toBe(2);
    expect(iommuIovaToPhys(d, 0x1000)).toBe(0);
  });

  it("the driver's own ops: map_pages → -ENODEV, iova_to_phys_length → unmapped (the `if (!ops)` guards)", () => {
    expect(d.ops!.mapPages(d, 0, 0, SZ_4K, 1, RW, 0, new SizeOut())).toBe(-19);
    const out = new PhysLength();
    d.ops!.iovaToPhysLength(d, 0x1000, out);
    expect([out.mapped, out.phys, out.length]).toEqual([false, 0, 2 ** 64]);
  });

  it("apple_dart_unmap_pages has no guard: a raw call is a NULL dereference (typed EFAULT)", () => {
    const bugs = d.counters.bugs;
    expect(errnoOf(() => d.ops!.unmapPages(d, 0, SZ_4K, 1, null))).toBe("EFAULT");
    expect(d.counters.bugs).toBe(bugs + 1);
  });

  it("iova_to_phys_length: nothing translates — unmapped, one 2^64 span", () => {
    const out = iommuIovaToPhysLength(d, 0x1234_5000);
    expect([out.mapped, out.length]).toEqual([false, 2 ** 64]);
  });

  it("the syncs flush nothing (no stream maps yet)", () => {
    const before = dart.tlbFlushes;
    iommuFlushIotlbAll(d);
    expect(dart.tlbFlushes).toBe(before);
  });

  it("first attach finalizes for the master's DART and programs its streams", () => {
    expect(dart.attachDev(d, dart.master([2, 3]))).toBe(0);
    expect(d.finalized).toBe(true);
    expect(d.pgsizeBitmap).toBe(SZ_4K);
    expect(d.geometry.apertureEnd).toBe(2 ** 32 - 1);
    iommuMap(d, 0x4000_0000, 0x8_0000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, 0x4000_0123)).toBe(0x8_0000_0123);
  });
});

describe("apple_dart_attach_dev_paging: TTBRs, TCR, invalidation", () => {
  it("T8020, 4K pages: 4 TTBRs (VALID | pa >> 12), TCR TRANSLATE_ENABLE, one STREAM_COMMAND", () => {
    const dart = new AppleDart({ variant: "t8103", pgsize: SZ_4K });
    const d = dart.domainAllocPaging({ master: null });
    const flushes = dart.tlbFlushes;
    expect(dart.attachDev(d, dart.master([1, 5]))).toBe(0);
    const ttbrs = d.pgtblCfg!.appleDartCfg!.ttbr;
    expect(ttbrs).toHaveLength(4);
    for (const sid of [1, 5])
      for (let i = 0; i < 4; i++)
        expect(dart.ttbr[sid * 4 + i]).toBe((DART_T8020_TTBR_VALID | (ttbrs[i]! / 4096)) >>> 0);
    expect(dart.ttbr[0]).toBe(0);
    expect([dart.tcr[1], dart.tcr[5], dart.tcr[0]]).toEqual([
      DART_T8020_TCR_TRANSLATE_ENABLE,
      DART_T8020_TCR_TRANSLATE_ENABLE,
      0,
    ]);
    expect(dart.tlbFlushes).toBe(flushes + 1);
    expect(dart.tlbLog.at(-1)).toEqual({
      reg: "STREAM_COMMAND",
      value: DART_T8020_STREAM_COMMAND_INVALIDATE,
      sids: [1, 5],
    });
  });

  it("T8020, 16K pages: one TTBR, the other three cleared", () => {
    const dart = new AppleDart({ variant: "t6000", pageSize: SZ_16K });
    const d = dart.domainAllocPaging({ master: null });
    dart.ttbr.fill(0xdead);
    expect(dart.attachDev(d, dart.master([0]))).toBe(0);
    expect(dart.ttbr[0]).toBe((DART_T8020_TTBR_VALID | (d.pgtblCfg!.appleDartCfg!.ttbr[0]! / 4096)) >>> 0);
    expect([dart.ttbr[1], dart.ttbr[2], dart.ttbr[3]]).toEqual([0, 0, 0]);
  });

  it("T8110: one TTBR (VALID bit 0 | (pa >> 14) << 2), FOUR_LEVEL with a 42-bit VA, one TLB_CMD per stream", () => {
    const dart = new AppleDart({ variant: "t8110", vaBits: 42, pageSize: SZ_16K });
    const d = dart.domainAllocPaging({ master: null });
    const cmds = dart.tlbCommands;
    expect(dart.attachDev(d, dart.master([7, 9, 200]))).toBe(0);
    const pa = d.pgtblCfg!.appleDartCfg!.ttbr[0]!;
    expect(dart.ttbr[9]).toBe((1 | ((pa / SZ_16K) * 4)) >>> 0);
    expect(dart.tcr[200]).toBe(DART_T8110_TCR_TRANSLATE_ENABLE | DART_T8110_TCR_FOUR_LEVEL);
    expect(dart.tlbCommands - cmds).toBe(3);
    expect(dart.tlbLog.slice(-3).map((c) => c.value)).toEqual([0x107, 0x109, 0x1c8]);
    expect(d.counters.warns).toBe(0);
  });

  it("a master on another DART cannot join a finalized domain: -EINVAL (apple_dart_mod_streams)", () => {
    const a = new AppleDart({ pgsize: SZ_4K, name: "a" });
    const b = new AppleDart({ pgsize: SZ_4K, name: "b" });
    const d = a.domainAllocPaging();
    expect(a.attachDev(d, b.master([0]))).toBe(-22);
    expect(a.attachDev(d, a.master([4]))).toBe(0);
    expect(d.streamMaps[0]!.sidmap[4]).toBe(1);
  });

  it("identity attach: bypass TCR, -EINVAL without PARAMS2 bypass support; blocked: TCR off", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    expect(dart.attachIdentity(dart.master([3]))).toBe(0);
    expect(dart.tcr[3]).toBe(DART_T8020_TCR_BYPASS_DAPF | DART_T8020_TCR_BYPASS_DART);
    expect(dart.attachBlocked(dart.master([3]))).toBe(0);
    expect(dart.tcr[3]).toBe(0);
    expect(new AppleDart({ bypass: false }).attachIdentity()).toBe(-22);
  });
});

describe("geometry edges", () => {
  it("32-bit aperture: the last page maps, iova_to_phys_length reports the DART page", () => {
    const dart = new AppleDart({ variant: "t6000", pageSize: SZ_16K });
    const d = dart.domainAllocPaging();
    const last = 2 ** 32 - SZ_16K;
    iommuMap(d, last, 0x3_ffff_c000, SZ_16K, RW);
    const out = iommuIovaToPhysLength(d, last + 0x123);
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0x3_ffff_c123, SZ_16K]);
    // The first iova above the aperture: the 16K, ias 32 table has one TTBR covering 2^36, so
    // 2^32 is inside the table's reach but never reached by an in-aperture map.
    expect(iommuIovaToPhysLength(d, 2 ** 32).mapped).toBe(false);
  });

  it("4K pages: 4 TTBRs, the TTBR boundary at 1 GiB", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    const d = dart.domainAllocPaging();
    iommuMap(d, 0x4000_0000 - SZ_4K, 0x1000_0000, 2 * SZ_4K, RW);
    expect(iommuIovaToPhys(d, 0x4000_0000)).toBe(0x1000_1000);
    // Above 4 GiB the TTBR index is out of range: nothing maps, a lookup spans the hole.
    const out = iommuIovaToPhysLength(d, 2 ** 32);
    expect(out.mapped).toBe(false);
    expect(out.length).toBeGreaterThanOrEqual(2 ** 32);
  });

  it("paddr beyond oas: -ERANGE with a WARN (36-bit DART1)", () => {
    const d = new AppleDart({ pgsize: SZ_4K }).domainAllocPaging();
    expect(errnoOf(() => iommuMap(d, 0, 2 ** 36, SZ_4K, RW))).toBe("ERANGE");
    iommuMap(d, 0, 2 ** 36 - SZ_4K, SZ_4K, RW);
    expect(iommuIovaToPhys(d, 0)).toBe(2 ** 36 - SZ_4K);
  });

  it("iova_to_phys_length: an empty leaf slot is one DART page; an empty table entry its span", () => {
    const d = new AppleDart({ variant: "t6000", pageSize: SZ_16K }).domainAllocPaging();
    iommuMap(d, SZ_32M, 0x1_0000_0000, SZ_16K, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, SZ_32M + SZ_16K, out);
    expect([out.mapped, out.length]).toEqual([false, SZ_16K]);
    iommuIovaToPhysLength(d, 2 * SZ_32M, out);
    expect([out.mapped, out.length]).toEqual([false, SZ_32M]);
  });
});

describe("leaf entries the driver's cfg produces (subpage protection, flags)", () => {
  // io-pgtable-dart: subpage start [63:52] = 0 and end [51:40] = 0xfff (the whole page);
  // DART1 also sets SP_DIS (bit 1); DART2 has NO_CACHE (bit 1) without IOMMU_CACHE instead.
  const leaf = (variant: "t8103" | "t6000", prot: number) => {
    const d = new AppleDart({ variant, pageSize: SZ_16K }).domainAllocPaging();
    iommuMap(d, 0x10_0000, 0x2_0000_0000, SZ_16K, prot);
    const walk = iommuDomainInspector(d)!.walk(0x10_0000);
    return walk.steps.at(-1)!.raw;
  };

  it("DART1 (t8103): SP_DIS, whole-page subpage range, NO_WRITE for read-only", () => {
    const raw = leaf("t8103", IOMMU_READ);
    expect([(raw >> 52n) & 0xfffn, (raw >> 40n) & 0xfffn]).toEqual([0n, 0xfffn]);
    expect([raw & 1n, (raw >> 1n) & 1n, (raw >> 7n) & 1n, (raw >> 8n) & 1n]).toEqual([1n, 1n, 1n, 0n]);
  });

  it("DART2 (t6000): NO_CACHE without IOMMU_CACHE, NO_READ for write-only", () => {
    const raw = leaf("t6000", IOMMU_WRITE);
    expect((raw >> 40n) & 0xfffn).toBe(0xfffn);
    expect([raw & 1n, (raw >> 1n) & 1n, (raw >> 2n) & 1n, (raw >> 3n) & 1n]).toEqual([1n, 1n, 0n, 1n]);
    expect((leaf("t6000", RW | IOMMU_CACHE) >> 1n) & 1n).toBe(0n);
  });
});

describe("TLB invalidation per call (apple_dart_iotlb_sync / _iotlb_sync_map / _flush_iotlb_all)", () => {
  it("iommu_map: one stream-wide invalidation (iotlb_sync_map), whatever the size", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    const d = dart.domainAllocPaging();
    const f0 = dart.tlbFlushes;
    iommuMap(d, 0, 0x1000_0000, SZ_4K, RW);
    iommuMap(d, 0x10_0000, 0x2000_0000, 0x40_0000, RW);
    expect(dart.tlbFlushes - f0).toBe(2);
    expect(d.counters.flushAll).toBe(2);
    expect(d.counters.syncMaps).toBe(2);
  });

  it("iommu_unmap: one invalidation per call that unmapped something, none per page", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    const d = dart.domainAllocPaging();
    iommuMap(d, 0, 0x1000_0000, 0x10_0000, RW);
    const f0 = dart.tlbFlushes;
    const c0 = d.counters.flushAll;
    expect(iommuUnmap(d, 0, 0x8_0000)).toBe(0x8_0000); // 128 pages
    expect(iommuUnmap(d, 0x8_0000, SZ_4K)).toBe(SZ_4K);
    expect(dart.tlbFlushes - f0).toBe(2);
    expect(d.counters.flushAll - c0).toBe(2);
    expect(d.counters.flushPage).toBe(0);
    // Unmapping a hole: 0 bytes, the core syncs nothing.
    expect(iommuUnmap(d, 0x20_0000, SZ_4K)).toBe(0);
    expect(dart.tlbFlushes - f0).toBe(2);
  });

  it("iommu_unmap_fast + one iommu_iotlb_sync: one invalidation for the batch", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    const d = dart.domainAllocPaging();
    iommuMap(d, 0, 0x1000_0000, 0x10_0000, RW);
    const f0 = dart.tlbFlushes;
    const g = new IotlbGather();
    for (let i = 0; i < 16; i++) iommuUnmapFast(d, i * SZ_4K * 2, SZ_4K, g);
    expect(dart.tlbFlushes).toBe(f0);
    iommuIotlbSync(d, g);
    expect(dart.tlbFlushes - f0).toBe(1);
  });

  it("T8110: every invalidation is one TLB_CMD per stream of the domain", () => {
    const dart = new AppleDart({ variant: "t8110", pageSize: SZ_16K });
    const dev = dart.device([1, 2, 3, 4]);
    const d = dev.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error(`alloc ${d}`);
    const c0 = dart.tlbCommands;
    iommuMap(d, 0, 0x1000_0000, SZ_16K, RW);
    iommuUnmap(d, 0, SZ_16K);
    expect(dart.tlbCommands - c0).toBe(2 * 4);
    expect(d.counters.flushAll).toBe(2);
  });

  it("a master behind two DARTs: every sync invalidates both", () => {
    const a = new AppleDart({ pgsize: SZ_4K, name: "a" });
    const b = new AppleDart({ pgsize: SZ_4K, name: "b" });
    const master = appleDartMaster([
      { dart: a, sids: [0] },
      { dart: b, sids: [1, 2] },
    ]);
    const d = a.domainAllocPaging({ master });
    expect(a.attachDev(d, master)).toBe(0);
    expect(b.ttbr[1 * 4]).toBe(a.ttbr[0]);
    const fa = a.tlbFlushes;
    const fb = b.tlbFlushes;
    iommuMap(d, 0, 0x1000_0000, SZ_4K, RW);
    iommuUnmap(d, 0, SZ_4K);
    expect([a.tlbFlushes - fa, b.tlbFlushes - fb]).toEqual([2, 2]);
    expect(d.counters.flushAll).toBe(4);
  });

  it("free: the table goes, no TLB flush (no iommu_flush_ops); a second free is a no-op", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    const allocator = new TableAllocator();
    const d = dart.domainAllocPaging({ allocator });
    iommuMap(d, 0, 0x1000_0000, SZ_4K, RW);
    const f0 = dart.tlbFlushes;
    expect(allocator.liveCount).toBeGreaterThan(0);
    d.ops!.free!(d);
    expect(allocator.liveCount).toBe(0);
    expect(dart.tlbFlushes).toBe(f0);
    expect(d.pgtblOps).toBeNull();
    d.ops!.free!(d);
  });
});

describe("apple_dart_of_xlate: masters over several DARTs", () => {
  it("refuses DARTs of another page size or ias, more than 3 DARTs, a stream out of range", () => {
    const a = new AppleDart({ pgsize: SZ_4K });
    expect(
      errnoOf(() =>
        appleDartMaster([
          { dart: a, sids: [0] },
          { dart: new AppleDart(), sids: [0] },
        ]),
      ),
    ).toBe("EINVAL");
    expect(
      errnoOf(() =>
        appleDartMaster([
          { dart: a, sids: [0] },
          { dart: new AppleDart({ variant: "t8110", pgsize: SZ_4K }), sids: [0] },
        ]),
      ),
    ).toBe("none");
    const four = [0, 1, 2, 3].map(() => ({ dart: new AppleDart({ pgsize: SZ_4K }), sids: [0] }));
    expect(errnoOf(() => appleDartMaster(four))).toBe("EINVAL");
    expect(errnoOf(() => appleDartMaster([{ dart: a, sids: [16] }]))).toBe("EINVAL");
    expect(errnoOf(() => appleDartMaster([]))).toBe("EINVAL");
  });
});

describe("allocation failure", () => {
  it("finalize: a failed TTBR table allocation is -ENOMEM, nothing left allocated", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    for (let n = 1; n <= 4; n++) {
      const allocator = new TableAllocator();
      allocator.failNth(n);
      expect(dart.domainAllocPagingFlags(0, { allocator })).toBe(-12);
      expect(allocator.liveCount).toBe(0);
    }
    const lazy = dart.domainAllocPaging({ master: null, allocator: failing(1) });
    expect(dart.attachDev(lazy)).toBe(-12);
    expect(lazy.finalized).toBe(false);
    // A later attach retries and succeeds.
    expect(dart.attachDev(lazy)).toBe(0);
  });

  it("map: a failed leaf-table allocation is -ENOMEM and the core rolls back what was mapped", () => {
    const dart = new AppleDart({ pgsize: SZ_4K });
    const allocator = new TableAllocator();
    const d = dart.domainAllocPaging({ allocator });
    // 4 TTBR tables exist; the first map of each 2 MiB needs one leaf table.
    allocator.failNth(2);
    const e = (() => {
      try {
        iommuMap(d, 0x1f_f000, 0x1000_0000, 2 * SZ_4K, RW);
      } catch (err) {
        return err as IommuError;
      }
      throw new Error("no failure");
    })();
    expect([e.code, e.mapped, e.unrolled]).toEqual(["ENOMEM", SZ_4K, SZ_4K]);
    expect(iommuIovaToPhys(d, 0x1f_f000)).toBe(0);
  });
});

function failing(n: number): TableAllocator {
  const a = new TableAllocator();
  a.failNth(n);
  return a;
}
