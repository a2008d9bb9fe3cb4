// drivers/iommu/mtk_iommu.c: attach-time finalise, IOVA regions, 4GB mode, the shared table and the TLB call pattern.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  SZ_1M,
  SZ_4G,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { MtkIommu, MtkM4uList, mtkIommuGetBankId, mtkIommuGetIovaRegionId } from "./mtk-iommu.js";
import { MTK_IOMMU_PLAT_DATA } from "./plat-data.js";
import { lookup, rawMap, setup } from "./testing/harness.js";
import { mtkIommuTlbAddr } from "./tlb.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const GAP_4G = SZ_4G - 8 * SZ_1M;

function thrown(fn: () => unknown): IommuError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IommuError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

describe("mtk_iommu_get_iova_region_id / geometry (mt8192_multi_dom, mt8192_larb_region_msk)", () => {
  const plat = MTK_IOMMU_PLAT_DATA.mt8192;
  const cases: ReadonlyArray<[string, { larb: number; ports: number[] }, number]> = [
    ["larb0 → region 0 (0 ~ 4G)", { larb: 0, ports: [0, 5] }, 0],
    ["larb1 → region 0", { larb: 1, ports: [31] }, 0],
    ["larb4 → region 1 (4G ~ 8G)", { larb: 4, ports: [2] }, 1],
    ["larb7 → region 1", { larb: 7, ports: [0] }, 1],
    ["larb13 port 0 → region 2 (its mask excludes ports 9/10)", { larb: 13, ports: [0] }, 2],
    ["larb13 ports 9,10 → region 4 (CCU0)", { larb: 13, ports: [9, 10] }, 4],
    ["larb14 port 4 → region 5 (CCU1)", { larb: 14, ports: [4] }, 5],
    ["larb13 ports 0,9: no region covers both → -EINVAL", { larb: 13, ports: [0, 9] }, -22],
    ["larb3: in no region (region 3's masks are all 0) → -EINVAL", { larb: 3, ports: [0] }, -22],
  ];
  for (const [name, master, want] of cases)
    it(name, () => expect(mtkIommuGetIovaRegionId(plat, master)).toBe(want));

  it("single-region SoCs answer region 0 for any master", () => {
    expect(mtkIommuGetIovaRegionId(MTK_IOMMU_PLAT_DATA.mt8183, { larb: 31, ports: [31] })).toBe(0);
  });

  it("the aperture is the region of the first attach: [base, base + size − 1], forced", () => {
    expect(setup({ soc: "mt8192" }).d.geometry).toEqual({
      apertureStart: 0,
      apertureEnd: GAP_4G - 1,
      forceAperture: true,
    });
    const r1 = setup({ soc: "mt8192" }, { master: { larb: 4, ports: [0] } }).d.geometry;
    expect(r1).toEqual({ apertureStart: SZ_4G, apertureEnd: SZ_4G + GAP_4G - 1, forceAperture: true });
    const ccu = setup({ soc: "mt8192" }, { master: { larb: 13, ports: [9] } }).d.geometry;
    expect(ccu).toEqual({ apertureStart: 0x2_4000_0000, apertureEnd: 0x2_43ff_ffff, forceAperture: true });
    expect(setup({ soc: "mt8173" }).d.geometry.apertureEnd).toBe(GAP_4G - 1);
  });

  it("edges: region 0's last page maps; the 8 MiB gap and other regions are still in the one table (no aperture check in map); 2^34 is beyond ias", () => {
    const { d } = setup({ soc: "mt8192" });
    iommuMap(d, GAP_4G - SZ_4K, 0x4000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, GAP_4G - SZ_4K + 0x10)).toBe(0x4000_0010);
    iommuMap(d, GAP_4G, 0x4000_1000, SZ_4K, RW); // outside the aperture: the kernel does not check
    iommuMap(d, SZ_4G, 0x4000_2000, SZ_4K, RW); // region 1's IOVAs, same table
    expect(lookup(d, SZ_4G)).toEqual({ mapped: true, phys: 0x4000_2000n, length: SZ_4K });
    expect(thrown(() => iommuMap(d, 2 ** 34, 0x4000_0000, SZ_4K, RW)).code).toBe("ERANGE");
    expect(lookup(d, 2 ** 34)).toEqual({ mapped: false, phys: 0n, length: 2 ** 34 });
  });

  it("a later attach of a device in another region does not move the aperture (finalise runs once)", () => {
    const { m4u, d } = setup({ soc: "mt8192" });
    expect(m4u.attachDevice(d, { larb: 4, ports: [1] })).toBe(0);
    expect(d.geometry.apertureStart).toBe(0);
    // The larb of the second device records region 1's bank (bits 63:32 of its base).
    expect(m4u.larbs.get(4)!.bank[1]).toBe(1);
    expect(m4u.larbs.get(4)!.mmu).toBe(0b10);
  });

  it("an unknown region fails the attach (-EINVAL) and the allocation with it", () => {
    const m4u = new MtkIommu({ soc: "mt8192", master: { larb: 3, ports: [0] } });
    expect(m4u.domainAllocPagingFlags(0)).toBe(-22);
    expect(m4u.domainAllocPagingFlags(0, { master: { larb: 32, ports: [0] } })).toBe(-22);
    expect(m4u.shareDom).toBeNull();
  });

  it("mt8195-infra banks: ports 16..19 → bank 0 (PCIe), 20..31 → bank 4 (USB), others → 0", () => {
    const p = MTK_IOMMU_PLAT_DATA["mt8195-infra"];
    expect(mtkIommuGetBankId(p, { larb: 0, ports: [17] })).toBe(0);
    expect(mtkIommuGetBankId(p, { larb: 0, ports: [25] })).toBe(4);
    expect(mtkIommuGetBankId(p, { larb: 0, ports: [3] })).toBe(0);
    const { m4u, d } = setup({ soc: "mt8195-infra" }, { master: { larb: 0, ports: [20] } });
    expect(d.bank).toBe(m4u.banks[4]);
    expect(m4u.banks[4]!.ptBaseAddr).toBe(d.cfg!.armV7sCfg!.ttbr);
    expect(m4u.banks[1]).toBeUndefined();
  });

  it("flags other than 0 → -EOPNOTSUPP (no domain_alloc_paging_flags)", () => {
    expect(new MtkIommu().domainAllocPagingFlags(1)).toBe(-95);
    expect(new MtkIommu().capable(0)).toBe(false);
  });
});

describe("before the first attach (the kernel's missing NULL checks)", () => {
  const { m4u, d } = setup({ soc: "mt8192" }, { attach: false });

  it("the domain has its bitmap but no table, bank or aperture", () => {
    expect(d.pgsizeBitmap).toBe(SZ_4K | SZ_64K | SZ_1M | SZ_16M);
    expect(d.pgtblOps).toBeNull();
    expect(d.bank).toBeNull();
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0, forceAperture: false });
    expect(d.ops!.inspect!(d)).toBeNull();
  });

  it("map, unmap, iova_to_phys_length (also under iommu_iova_to_phys) and the syncs dereference NULL: EFAULT", () => {
    expect(thrown(() => iommuMap(d, 0, 0x4000_0000, SZ_4K, RW)).op).toBe("mtk_iommu_map");
    expect(thrown(() => iommuUnmap(d, 0, SZ_4K)).op).toBe("mtk_iommu_unmap");
    expect(thrown(() => iommuIovaToPhys(d, 0)).op).toBe("mtk_iommu_iova_to_phys");
    expect(thrown(() => iommuIovaToPhysLength(d, 0)).code).toBe("EFAULT");
    expect(thrown(() => d.ops!.iotlbSyncMap!(d, 0, SZ_4K)).op).toBe("mtk_iommu_sync_map");
  });

  it("flush_iotlb_all checks dom->bank: nothing happens", () => {
    d.ops!.flushIotlbAll!(d);
    expect(d.counters.flushAll).toBe(0);
  });

  it("after attach everything works", () => {
    expect(m4u.attachDevice(d)).toBe(0);
    iommuMap(d, SZ_1M, 0x4000_0000, SZ_64K, RW);
    expect(lookup(d, SZ_1M + 0x1234)).toEqual({ mapped: true, phys: 0x4000_1234n, length: SZ_64K });
  });
});

describe("4GB mode (HAS_4GB_MODE + infracfg bit): bit 32 added on map, stripped on lookup ≥ 0x1_4000_0000", () => {
  const entryPa = (d: ReturnType<typeof setup>["d"], iova: number) =>
    d.ops!.inspect!(d)!.walk(iova).phys as bigint | undefined;

  it("DRAM B/C/D (1..4 GiB) is stored with bit 32 and reads back as the CPU PA", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    iommuMap(d, 0x10_0000, 0x8000_0000, SZ_1M, RW);
    expect(entryPa(d, 0x10_0000)).toBe(0x1_8000_0000n);
    expect(iommuIovaToPhys(d, 0x10_0123)).toBe(0x8000_0123);
    expect(lookup(d, 0x10_0123)).toEqual({ mapped: true, phys: 0x8000_0123n, length: SZ_1M });
  });

  it("DRAM E (4..5 GiB, bit 32 already set) is stored as is and not stripped (< 0x1_4000_0000)", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    iommuMap(d, 0x20_0000, 0x1_2000_0000, SZ_4K, RW);
    expect(entryPa(d, 0x20_0000)).toBe(0x1_2000_0000n);
    expect(iommuIovaToPhys(d, 0x20_0000)).toBe(0x1_2000_0000);
  });

  it("quirk: region A (I/O, < 1 GiB) reads back with bit 32 set (below the strip threshold)", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    iommuMap(d, 0x30_0000, 0x1000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, 0x30_0000)).toBe(0x1_1000_0000);
    expect(lookup(d, 0x30_0000).phys).toBe(0x1_1000_0000n);
  });

  it("quirk: a CPU PA ≥ 0x1_4000_0000 maps but reads back without bit 32", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    iommuMap(d, 0x40_0000, 0x1_5000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, 0x40_0000)).toBe(0x5000_0000);
  });

  it("oas 33: a PA ≥ 8 GiB is refused by the format (ERANGE + WARN)", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    expect(thrown(() => iommuMap(d, 0x40_0000, 0x2_0000_0000, SZ_4K, RW)).code).toBe("ERANGE");
    expect(d.counters.warns).toBe(1);
  });

  it("without the infracfg bit (or on a SoC without 4GB mode) PAs pass unchanged", () => {
    const off = setup({ soc: "mt8173", enable4GB: false }).d;
    iommuMap(off, 0x10_0000, 0x8000_0000, SZ_4K, RW);
    expect(entryPa(off, 0x10_0000)).toBe(0x8000_0000n);
    const noMode = setup({ soc: "mt8192", enable4GB: true }).d;
    iommuMap(noMode, 0x10_0000, 0x8000_0000, SZ_4K, RW);
    expect(entryPa(noMode, 0x10_0000)).toBe(0x8000_0000n);
  });

  it("a raw map_pages of a 16M supersection in 4GB mode: bit 32 in every replica, lengths 16M", () => {
    const { d } = setup({ soc: "mt2712", enable4GB: true });
    expect(rawMap(d, SZ_16M, 0x4100_0000, SZ_16M)).toEqual({ ret: 0, mapped: SZ_16M });
    expect(lookup(d, SZ_16M + 0xabc123)).toEqual({ mapped: true, phys: 0x41ab_c123n, length: SZ_16M });
  });
});

describe("shared page table (share_dom, SHARE_PGTABLE)", () => {
  it("every later domain of an M4U reuses the first one's table and cfg", () => {
    const { m4u, d } = setup({ soc: "mt8192" });
    const d2 = m4u.domainAllocPagingFlags(0, { master: { larb: 4, ports: [0] } });
    if (typeof d2 === "number") throw new Error(String(d2));
    expect(d2.pgtblOps).toBe(d.pgtblOps);
    expect(d2.cfg).toBe(d.cfg);
    expect(d2.geometry.apertureStart).toBe(SZ_4G); // but its own region
    iommuMap(d, 0x10_0000, 0x4000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d2, 0x10_0000)).toBe(0x4000_0000); // one table
    expect(m4u.banks[0]!.m4uDom).toBe(d);
  });

  it("quirk: freeing a domain keeps the table and its mappings; a new domain sees them", () => {
    const { m4u, d } = setup({ soc: "mt8183" });
    iommuMap(d, 0x10_0000, 0x4000_0000, SZ_4K, RW);
    const live = d.allocator.liveCount;
    d.ops!.free!(d);
    expect(d.freed).toBe(true);
    expect(d.allocator.liveCount).toBe(live);
    const d2 = m4u.domainAllocPagingFlags(0);
    if (typeof d2 === "number") throw new Error(String(d2));
    expect(iommuIovaToPhys(d2, 0x10_0000)).toBe(0x4000_0000);
  });

  it("SHARE_PGTABLE M4Us on one hw list share one table; a range flush goes to both", () => {
    const list = new MtkM4uList();
    const vdo = new MtkIommu({ soc: "mt8195-vdo", hwList: list });
    const vpp = new MtkIommu({ soc: "mt8195-vpp", hwList: list });
    const a = vdo.domainAllocPagingFlags(0);
    const b = vpp.domainAllocPagingFlags(0);
    if (typeof a === "number" || typeof b === "number") throw new Error("alloc");
    expect(b.pgtblOps).toBe(a.pgtblOps);
    expect(vdo.shareDom).toBe(a);
    expect(vpp.shareDom).toBeNull(); // share_dom lives on the list's first M4U
    const before = b.counters.flushRange;
    iommuMap(b, 0x10_0000, 0x4000_0000, SZ_4K, RW);
    expect(b.counters.flushRange - before).toBe(2); // iotlb_sync_map: one range flush per M4U
    expect(vdo.banks[0]!.invldStartA).toBe(0x10_0000);
    expect(vpp.banks[0]!.invldEndA).toBe(0x10_0000); // bits 31:12 of the last byte
    // flush_iotlb_all flushes only the domain's own M4U.
    b.ops!.flushIotlbAll!(b);
    expect(vpp.banks[0]!.fullFlushes).toBe(1);
    expect(vdo.banks[0]!.fullFlushes).toBe(0);
  });

  it("without SHARE_PGTABLE two M4Us have separate tables even on one list object", () => {
    const list = new MtkM4uList();
    const a = new MtkIommu({ soc: "mt8192", hwList: list }).domainAllocPagingFlags(0);
    const b = new MtkIommu({ soc: "mt8192", hwList: list }).domainAllocPagingFlags(0);
    if (typeof a === "number" || typeof b === "number") throw new Error("alloc");
    expect(b.pgtblOps === a.pgtblOps).toBe(false); // (not.toBe would stringify the tables)
    expect(list.members).toHaveLength(0);
  });
});

describe("TLB maintenance: counts per call against the kernel's call pattern", () => {
  it("MTK_IOMMU_TLB_ADDR folds IOVA bits 33:32 into register bits 1:0", () => {
    expect(mtkIommuTlbAddr(0x3_1234_5678)).toBe(0x1234_5003);
    expect(mtkIommuTlbAddr(0xffff_ffff)).toBe(0xffff_f000);
  });

  it("iommu_map: one range flush (iotlb_sync_map) of exactly the mapped range", () => {
    const { m4u, d } = setup({ soc: "mt8192" });
    iommuMap(d, 0x1_0010_0000, 0x4000_0000, 3 * SZ_64K, RW);
    expect(d.counters.flushRange).toBe(1);
    expect(m4u.banks[0]!.invldStartA).toBe(0x0010_0001);
    expect(m4u.banks[0]!.invldEndA).toBe(0x0012_f001);
  });

  it("iommu_unmap: the whole request in the gather, one range flush in iotlb_sync; no walk flush", () => {
    const { m4u, d } = setup({ soc: "mt8192" });
    iommuMap(d, 0x20_0000, 0x4000_0000, 2 * SZ_1M, RW); // two sections
    iommuMap(d, 0x40_0000, 0x5000_0000, SZ_64K + SZ_4K, RW); // an L2 table
    const before = d.counters.snapshot();
    expect(iommuUnmap(d, 0x20_0000, 2 * SZ_1M + SZ_64K + SZ_4K)).toBe(2 * SZ_1M + SZ_64K + SZ_4K);
    const delta = d.counters.since(before);
    expect(delta.flushRange).toBe(1);
    expect(delta.flushWalk + delta.flushPage + delta.flushAll).toBe(0);
    expect(m4u.banks[0]!.invldStartA).toBe(0x20_0000);
    expect(m4u.banks[0]!.invldEndA).toBe(0x41_0000);
  });

  it("unmapping a hole still syncs the gathered range (the range was added before the walk)", () => {
    const { d } = setup({ soc: "mt8192" });
    const before = d.counters.flushRange;
    expect(iommuUnmap(d, 0x80_0000, SZ_4K)).toBe(0);
    expect(d.counters.flushRange - before).toBe(1);
    expect(d.counters.warns).toBe(1); // __arm_v7s_unmap: WARN_ON(!ARM_V7S_PTE_IS_VALID)
  });

  it("runtime PM not in use: range flushes are skipped (PM_CLK_AO M4Us flush anyway)", () => {
    const { m4u, d } = setup({ soc: "mt8192", runtimeActive: false });
    iommuMap(d, 0x10_0000, 0x4000_0000, SZ_4K, RW);
    expect(d.counters.flushRange).toBe(0);
    expect(m4u.banks[0]!.rangeFlushes).toBe(0);
    const ao = setup({ soc: "mt8195-infra", runtimeActive: false }).d;
    iommuMap(ao, 0x10_0000, 0x4000_0000, SZ_4K, RW);
    expect(ao.counters.flushRange).toBe(1);
  });

  it("CPE_DONE poll timeout (1000 µs): dev_warn and a full flush after the range flush", () => {
    const lines: string[] = [];
    const { m4u, d } = setup({ soc: "mt8192", onMessage: (l) => lines.push(l) });
    m4u.cpeDoneTimeouts = 1;
    iommuMap(d, 0x10_0000, 0x4000_0000, SZ_4K, RW);
    expect(d.counters.flushRange).toBe(1);
    expect(d.counters.flushAll).toBe(1);
    expect(m4u.banks[0]!.syncTimeouts).toBe(1);
    expect(lines).toEqual([`${m4u.name}: Partial TLB flush timed out, falling back to full flush`]);
    expect(d.counters.warns).toBe(0); // dev_warn, not WARN()
    iommuMap(d, 0x20_0000, 0x4000_0000, SZ_4K, RW);
    expect(d.counters.flushAll).toBe(1);
  });
});

describe("allocation failure at every table allocation is rolled back", () => {
  it("the L1 table at attach: -ENOMEM, no share_dom, and the next attach succeeds", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const m4u = new MtkIommu({ soc: "mt8192", allocator });
    allocator.failNth(1);
    expect(m4u.domainAllocPagingFlags(0)).toBe(-12);
    expect(m4u.shareDom).toBeNull();
    expect(m4u.banks[0]!.m4uDom).toBeNull();
    expect(allocator.liveCount).toBe(0);
    expect(typeof m4u.domainAllocPagingFlags(0)).toBe("object");
  });

  it("each L2 slab block of a map: iommu_map fails -ENOMEM and nothing stays mapped", () => {
    // 4K pages in 9 different 1M sections: 9 L2 tables, 3 slab blocks of 4 tables each.
    const iovas = Array.from({ length: 9 }, (_, i) => 0x100_0000 + i * SZ_1M + 0xf_f000);
    let failures = 0;
    for (let n = 1; ; n++) {
      const { d } = setup({ soc: "mt8192" });
      iommuMap(d, 0x80_0000, 0x4000_0000, SZ_4K, RW); // an earlier mapping that must survive
      d.allocator.failNth(n);
      let failed = false;
      try {
        for (const iova of iovas) iommuMap(d, iova, 0x4000_0000 + iova, 2 * SZ_4K, RW);
      } catch (e) {
        if (!(e instanceof IommuError) || e.code !== "ENOMEM") throw e;
        failed = true;
        failures++;
        expect(e.mapped).toBe(e.unrolled);
      }
      d.allocator.failNth(0);
      expect(iommuIovaToPhys(d, 0x80_0000)).toBe(0x4000_0000);
      if (!failed) break;
      // The failing map left nothing behind; maps before it stay.
      let mapped = 0;
      for (const iova of iovas) if (lookup(d, iova + SZ_4K).mapped) mapped++;
      expect(mapped).toBeLessThan(iovas.length);
    }
    expect(failures).toBeGreaterThanOrEqual(2);
  });
});
