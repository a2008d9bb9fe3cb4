/**
 * PT_FEAT_DMA_INCOHERENT cache flushes, counted as the kernel makes them (iommu_pt.h):
 * flush_writes_item for a new table's parent entry; one flush_writes_range per leaf table a
 * map writes; on unmap, one flush_writes_range per table level that cleared something,
 * spanning its first to last cleared item — and none at a level that cleared nothing (a
 * hole, or an upper level whose table entry is not covered whole). Regression: the model
 * counted a call per visited level (twice the kernel's calls for the same bytes).
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import { PT_FEAT_DMA_INCOHERENT } from "./features.js";
import { VTDSS } from "./formats/index.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function incoherentVtdss() {
  return createPtDomain("vtdss", { features: VTDSS.defaults.features | (1 << PT_FEAT_DMA_INCOHERENT) });
}

describe("DMA_INCOHERENT flush calls (vtdss)", () => {
  it("map: 3 new tables (3 parent items) + 1 leaf range; a 2M leaf: 1 item", () => {
    const d = incoherentVtdss();
    iommuMap(d, 0, 0, 0x10000, RW);
    // L3→L2, L2→L1, L1→L0 table entries (8 bytes each), then 16 leaves in one range (128 bytes).
    expect([d.pt.incoherent.flush, d.pt.incoherent.flushBytes]).toEqual([4, 24 + 128]);
    iommuMap(d, 0x200000, 0x200000, 0x200000, RW);
    expect([d.pt.incoherent.flush, d.pt.incoherent.flushBytes]).toEqual([5, 24 + 128 + 8]);
  });

  it("unmap: one range per level that cleared items; nothing for a hole or uncovered upper levels", () => {
    const d = incoherentVtdss();
    iommuMap(d, 0, 0, 0x10000, RW);
    iommuMap(d, 0x200000, 0x200000, 0x200000, RW);
    const before = [d.pt.incoherent.flush, d.pt.incoherent.flushBytes];
    expect(iommuUnmap(d, 0, 0x10000)).toBe(0x10000); // 16 leaves, one range
    expect(iommuUnmap(d, 0x200000, 0x200000)).toBe(0x200000); // one 2M leaf
    expect([d.pt.incoherent.flush - before[0]!, d.pt.incoherent.flushBytes - before[1]!]).toEqual([
      2,
      128 + 8,
    ]);
    const hole = [d.pt.incoherent.flush, d.pt.incoherent.flushBytes];
    expect(iommuUnmap(d, 0x4000_0000, 0x1000)).toBe(0);
    expect([d.pt.incoherent.flush, d.pt.incoherent.flushBytes]).toEqual(hole);
  });

  it("unmap of a whole leaf table: its 512 items, then the parent's one table item", () => {
    const d = incoherentVtdss();
    iommuMap(d, 0x4000_0000, 0x4000_0000, 0x1000, RW); // keeps the L2 table alive
    for (let i = 0; i < 512; i++) iommuMap(d, i * 0x1000, 0x1000_0000 + i * 0x2000, 0x1000, RW);
    const before = [d.pt.incoherent.flush, d.pt.incoherent.flushBytes];
    expect(iommuUnmap(d, 0, 0x200000)).toBe(0x200000);
    expect([d.pt.incoherent.flush - before[0]!, d.pt.incoherent.flushBytes - before[1]!]).toEqual([
      2,
      512 * 8 + 8,
    ]);
  });
});
