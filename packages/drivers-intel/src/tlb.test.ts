/**
 * The IOTLB invalidation the VT-d driver issues per unmap (intel_iommu_tlb_sync →
 * cache_tag_flush_range), flush_iotlb_all (cache_tag_flush_all) and iotlb_sync_map
 * (cache_tag_flush_range_np): descriptor kinds, encodings and counts, with every expected
 * value worked out by hand from cache.c / dmar.c.
 */
import {
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuFlushIotlbAll,
  iommuMap,
  iommuUnmap,
  SZ_1G,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { cacheTagFlushRange, calculatePsiAlignedAddress, MAX_AGAW_PFN_WIDTH } from "./cache.js";
import type { DmarDomain } from "./domain.js";
import { IntelIommu, type IntelIommuOptions, VTD_LEGACY_CAP, VTD_LEGACY_ECAP } from "./intel-iommu.js";
import { QI_EIOTLB_TYPE, QI_IOTLB_TYPE, QI_IWD_TYPE } from "./qi.js";
import { encodeVtdCap } from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const BASE = 0x4000_0000;

function attached(o: IntelIommuOptions = { cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP }, flags = 0) {
  const u = new IntelIommu(o);
  const d = u.domainAllocPagingFlags(flags) as DmarDomain;
  expect(u.attachDev(d)).toBe(0);
  return { u, d };
}

describe("calculate_psi_aligned_address", () => {
  const cases: Array<[string, bigint, bigint, bigint, number]> = [
    ["one page", 0x4000_0000n, 0x4000_0fffn, 0x4000_0000n, 0],
    ["an aligned 2M", 0x4000_0000n, 0x401f_ffffn, 0x4000_0000n, 9],
    [
      "two pages straddling an 8K boundary widen to the shared bit (mask 2)",
      0x4000_1000n,
      0x4000_2fffn,
      0x4000_0000n,
      2,
    ],
    ["3 pages round up to 4 (mask 2)", 0x8000n, 0xafffn, 0x8000n, 2],
    ["a sub-page range at an offset covers its page", 0x1234n, 0x1300n, 0x1000n, 0],
    [
      "two pages straddling 2 GiB: the ends share no bit below 20 → mask 20, base 0",
      0x7fff_f000n,
      0x8000_0fffn,
      0n,
      20,
    ],
    [
      "straddling 2^63: the first shared bit is 64 → MAX_AGAW_PFN_WIDTH, base 0",
      0x7fff_ffff_ffff_f000n,
      0x8000_0000_0000_0fffn,
      0n,
      MAX_AGAW_PFN_WIDTH,
    ],
  ];
  for (const [name, s, e, addr, mask] of cases)
    it(name, () => {
      const r = calculatePsiAlignedAddress(s, e);
      expect(r.addr).toBe(addr);
      expect(r.mask).toBe(mask);
      expect(r.pages).toBe(1n << BigInt(mask));
    });
});

describe("second stage: PSI with AM, DSI above MAMV (cache_tag_flush_range)", () => {
  it("a 4K unmap: one PSI (am 0, IH: no table freed) and one wait descriptor", () => {
    const { u, d } = attached();
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, BASE, SZ_4K);
    const log = u.qi.log(mark);
    expect(log.map((x) => x.type)).toEqual([QI_IOTLB_TYPE, QI_IWD_TYPE]);
    // qw0: type 2 | PSI granularity 3 << 4 | DID 2 << 16; qw1: addr | IH << 6 | AM.
    expect(log[0]!.qw0).toBe(0x2_0032n);
    expect(log[0]!.qw1).toBe(0x4000_0040n);
    expect(d.counters.flushRange).toBe(1);
    expect(d.counters.flushAll).toBe(0);
  });

  it("a 2M leaf: PSI am 9 (= MAMV 9)", () => {
    const { u, d } = attached();
    iommuMap(d, BASE, 0x1_0000_0000, SZ_2M, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, BASE, SZ_2M);
    const [psi] = u.qi.log(mark);
    expect(psi!.am).toBe(9);
    expect(psi!.addr).toBe(BigInt(BASE));
    expect(psi!.ih).toBe(1);
  });

  it("4M (mask 10 > MAMV 9): falls back to one domain-selective invalidation", () => {
    const { u, d } = attached();
    iommuMap(d, BASE, 0x1_0000_0000, 2 * SZ_2M, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, BASE, 2 * SZ_2M);
    const [dsi, wait] = u.qi.log(mark);
    expect(dsi!.qw0).toBe(0x2_0022n);
    expect(dsi!.qw1).toBe(0n);
    expect(wait!.type).toBe(QI_IWD_TYPE);
    expect(u.qi.iotlbDsi).toBe(1);
    expect(d.counters.flushAll).toBe(1);
    expect(d.counters.flushRange).toBe(0);
  });

  it("freeing a table clears IH", () => {
    const { u, d } = attached();
    // A 4K-misaligned PA keeps the core on 4K leaves: one full L0 table.
    iommuMap(d, BASE, 0x1_0000_1000 - SZ_4K + SZ_4K, SZ_2M, RW);
    const mark = u.qi.issued;
    expect(iommuUnmap(d, BASE, SZ_2M)).toBe(SZ_2M);
    const [psi] = u.qi.log(mark);
    expect(psi!.ih).toBe(0);
    expect(psi!.am).toBe(9);
  });

  it("without CAP.PSI every flush is domain-selective", () => {
    const cap = encodeVtdCap({ ndoms: 256, sagaw: 0b0100, mgaw: 48, superPageVal: 3, pgselInv: false });
    const { u, d } = attached({ cap, ecap: VTD_LEGACY_ECAP });
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    iommuUnmap(d, BASE, SZ_4K);
    expect(u.qi.iotlbDsi).toBe(1);
    expect(u.qi.iotlbPsi).toBe(0);
  });

  it("DRD/DWD set the descriptor's DR/DW bits (SPR caps in legacy mode)", () => {
    const { u, d } = attached({ scalableMode: false });
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, BASE, SZ_4K);
    expect(u.qi.log(mark)[0]!.qw0).toBe(0x2_00f2n);
  });

  it("a 1G leaf on MAMV 18: PSI am 18", () => {
    const { u, d } = attached({ scalableMode: false });
    iommuMap(d, SZ_1G, 0x1_0000_0000, SZ_1G, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, SZ_1G, SZ_1G);
    expect(u.qi.log(mark)[0]!.am).toBe(18);
  });

  it("flush_iotlb_all: one DSI", () => {
    const { u, d } = attached();
    iommuFlushIotlbAll(d);
    expect(u.qi.iotlbDsi).toBe(1);
    expect(d.counters.flushAll).toBe(1);
  });

  it("one descriptor per unit the domain is attached through, one submission each", () => {
    const a = new IntelIommu({ name: "dmar0", cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP });
    const b = new IntelIommu({ name: "dmar1", cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP });
    const d = a.domainAllocPaging();
    expect(a.attachDev(d, "x")).toBe(0);
    expect(b.attachDev(d, "y")).toBe(0);
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    iommuUnmap(d, BASE, SZ_4K);
    expect([a.qi.iotlbPsi, b.qi.iotlbPsi, a.qi.submits, b.qi.submits]).toEqual([1, 1, 1, 1]);
    expect(d.counters.flushRange).toBe(2);
  });

  it("VFIO's pattern: N separate unmaps sync N times, one PSI each", () => {
    const { u, d } = attached();
    for (let i = 0; i < 8; i++) iommuMap(d, BASE + i * SZ_2M, 0x1_0000_0000 + i * SZ_2M, SZ_2M, RW);
    for (let i = 0; i < 8; i++) iommuUnmap(d, BASE + i * SZ_2M, SZ_2M);
    expect(u.qi.iotlbPsi).toBe(8);
    expect(u.qi.submits).toBe(8);
    expect(d.counters.syncs).toBe(8);
  });
});

describe("first stage: PASID-based IOTLB invalidation (qi_flush_piotlb)", () => {
  it("a 2M unmap: PSI within PASID 0, am 9", () => {
    const { u, d } = attached({});
    expect(d.stage).toBe("first");
    iommuMap(d, BASE, 0x1_0000_0000, SZ_2M, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, BASE, SZ_2M);
    const [p] = u.qi.log(mark);
    expect(p!.type).toBe(QI_EIOTLB_TYPE);
    // type 6 | PSI_PASID 3 << 4 | DID 2 << 16 | PASID 0 << 32
    expect(p!.qw0).toBe(0x2_0036n);
    expect(p!.qw1).toBe(BigInt(BASE) | (1n << 6n) | 9n);
    expect(u.qi.iotlbPsi + u.qi.iotlbDsi).toBe(0);
  });
  it("no MAMV fallback on the first stage: a 4M range is one PSI with am 10", () => {
    const { u, d } = attached({});
    iommuMap(d, BASE, 0x1_0000_0000, 2 * SZ_2M, RW);
    const mark = u.qi.issued;
    iommuUnmap(d, BASE, 2 * SZ_2M);
    expect(u.qi.log(mark)[0]!.am).toBe(10);
  });
  it("flush_iotlb_all: PASID-selective", () => {
    const { u, d } = attached({});
    iommuFlushIotlbAll(d);
    const [p] = u.qi.log(0);
    expect(p!.qw0).toBe(0x2_0026n);
    expect(u.qi.piotlbPasid).toBe(1);
  });
});

describe("iotlb_sync_map (cache_tag_flush_range_np)", () => {
  it("caching mode: the second stage flushes new mappings with a PSI (IH 0)", () => {
    const cap = encodeVtdCap({
      ndoms: 256,
      sagaw: 0b0100,
      mgaw: 48,
      superPageVal: 3,
      pgselInv: true,
      maxAmaskVal: 9,
      cachingMode: true,
    });
    const { u, d } = attached({ cap, ecap: VTD_LEGACY_ECAP });
    expect(d.iotlbSyncMap).toBe(true);
    iommuMap(d, BASE, 0x1_0000_0000, SZ_2M, RW);
    const [p] = u.qi.log(0);
    expect([p!.am, p!.ih, Number(p!.addr)]).toEqual([9, 0, BASE]);
  });
  it("RWBF without caching mode: a write-buffer flush, no descriptor", () => {
    const cap = encodeVtdCap({
      ndoms: 256,
      sagaw: 0b0100,
      mgaw: 48,
      superPageVal: 3,
      pgselInv: true,
      maxAmaskVal: 9,
      rwbf: true,
    });
    const { u, d } = attached({ cap, ecap: VTD_LEGACY_ECAP });
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    expect(u.qi.writeBufferFlushes).toBe(1);
    expect(u.qi.issued).toBe(0);
  });
  it("neither: iotlb_sync_map does nothing", () => {
    const { u, d } = attached();
    expect(d.iotlbSyncMap).toBe(false);
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    expect(u.qi.issued + u.qi.writeBufferFlushes).toBe(0);
  });
  it("a nest parent refuses read-only maps (FORCE_WRITEABLE)", () => {
    const { d } = attached({}, IOMMU_HWPT_ALLOC_NEST_PARENT);
    expect(() => iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, IOMMU_READ)).toThrow(/EINVAL/);
  });
});

describe("cache_tag_flush_range on a first-stage tag at the full address width", () => {
  it("a mask of MAX_AGAW_PFN_WIDTH becomes one PASID-selective invalidation", () => {
    const { u, d } = attached({});
    const before = d.counters.flushAll;
    cacheTagFlushRange(d.cacheTags, true, 0x7fff_ffff_ffff_f000n, 0x8000_0000_0000_0fffn, 1, d.counters);
    expect(u.qi.piotlbPasid).toBe(1);
    expect(d.counters.flushAll - before).toBe(1);
  });
});
