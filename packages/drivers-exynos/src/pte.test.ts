/**
 * drivers/iommu/exynos-iommu.c: the entry bits of every page size for every prot, for the
 * v5+ encoding (PA >> 4, access index in bits 5:4 / 3:2) and the v1–v3 one (PA as is, bit 15
 * | bit 10 / bit 9 | bit 4), worked out by hand from `mk_lv1ent_sect`, `mk_lv2ent_lpage`,
 * `mk_lv2ent_spage` and the `*_PROT[]` tables; and the prot the inspector reads back.
 */
import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuDomainInspector,
  iommuMap,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { l1, l2, setup } from "./testing/harness.js";

const R = IOMMU_READ;
const W = IOMMU_WRITE;
const PROTS = [0, R, W, R | W] as const;
const EXTRA = IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV;

// [prot index] → expected raw entry
const V5 = {
  sect: { pa: 0x8_4410_0000, raw: [0x8441_0002, 0x8441_0012, 0x8441_0022, 0x8441_0032] },
  lpage: { pa: 0x8_4411_0000, raw: [0x8441_1001, 0x8441_1005, 0x8441_1009, 0x8441_100d] },
  spage: { pa: 0x8_4411_2000, raw: [0x8441_1202, 0x8441_1206, 0x8441_120a, 0x8441_120e] },
  prot: [0, R, W, R | W],
};
const V1 = {
  sect: { pa: 0x4410_0000, raw: [0x4410_0002, 0x4410_8402, 0x4410_0402, 0x4410_0402] },
  lpage: { pa: 0x4411_0000, raw: [0x4411_0001, 0x4411_0211, 0x4411_0011, 0x4411_0011] },
  spage: { pa: 0x4411_2000, raw: [0x4411_2002, 0x4411_2212, 0x4411_2012, 0x4411_2012] },
  // write-only is promoted to read/write
  prot: [0, R, R | W, R | W],
};

describe.each([
  ["5.0", V5],
  ["7.0", V5],
  ["3.3", V1],
  ["1.0", V1],
])("SysMMU %s entries", (version, exp) => {
  for (const [i, prot] of PROTS.entries()) {
    for (const extra of [0, EXTRA]) {
      it(`prot 0x${(prot | extra).toString(16)}: section, large page, small page`, () => {
        const { d } = setup({ version });
        iommuMap(d, 0x10_0000, exp.sect.pa, 0x10_0000, prot | extra);
        iommuMap(d, 0x20_0000, exp.lpage.pa, 0x1_0000, prot | extra);
        iommuMap(d, 0x30_2000, exp.spage.pa, 0x1000, prot | extra);
        expect(l1(d, 1) >>> 0).toBe(exp.sect.raw[i]);
        for (let j = 0; j < 16; j++) expect(l2(d, 2, j) >>> 0).toBe(exp.lpage.raw[i]);
        expect(l2(d, 2, 16)).toBe(0);
        expect(l2(d, 3, 2) >>> 0).toBe(exp.spage.raw[i]);
        const insp = iommuDomainInspector(d)!;
        for (const iova of [0x10_0000, 0x20_5000, 0x30_2000]) {
          const w = insp.walk(iova);
          expect(w.end).toBe("leaf");
          expect(w.steps[w.steps.length - 1]!.prot).toBe(exp.prot[i]);
        }
      });
    }
  }
});

describe("level-1 links and the zero link", () => {
  it.each([
    ["5.0", 0x8000_0000, 0x0800_0001],
    ["3.3", 0x8000_0000, 0x8000_0001],
    ["7.0", 0x8_8000_0000, 0x8800_0001],
  ])("SysMMU %s at ptbase 0x%s: ZERO_LV2LINK = 0x%s", (version, ptbase, zero) => {
    const { mmu, d } = setup({ version, ptbase });
    expect(mmu.zeroLv2Table).toBe(ptbase);
    expect(mmu.zeroLv2Link).toBe(zero);
    expect(d.pgtable).toBe(ptbase + 0x4000);
    expect(d.lv2entcntPa).toBe(ptbase + 0x8000);
    for (let i = 0; i < 4096; i++) expect(l1(d, i)).toBe(zero);
    iommuMap(d, 0x50_0000, 0x1000, 0x1000, R);
    // the first level-2 table: the cache's second object, right after the zero table
    const shift = mmu.pgEntShift;
    expect(l1(d, 5) >>> 0).toBe(((ptbase + 0x400) / 2 ** shift + 1) >>> 0);
  });
});
