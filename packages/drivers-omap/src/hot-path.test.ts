// drivers/iommu/omap-iommu.c: the unmap's empty-table rescan and the TLB scan counted as the kernel's loops.
import { IOMMU_READ, iommuIovaToPhysLength, iommuMap, iommuUnmap, PhysLength } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { MMU_LOCK } from "./omap-iopgtable.js";
import { makeOmap } from "./testing/make.js";

describe("omap hot paths", () => {
  it("unmap: one PTE read per L2 entry up to the first live one (all 256 when the table empties)", () => {
    const t = makeOmap();
    const base = 0x1000_0000;
    const order = Array.from({ length: 256 }, (_, k) => (k * 97 + 13) & 0xff);
    for (const j of order) iommuMap(t.d, base + j * 0x1000, 0x4000_0000 + j * 0x1000, 0x1000, IOMMU_READ);
    const live = new Set(order);
    for (const j of order) {
      live.delete(j);
      let first = 256;
      for (let k = 0; k < 256; k++)
        if (live.has(k)) {
          first = k;
          break;
        }
      const before = t.d.counters.pteReads;
      expect(iommuUnmap(t.d, base + j * 0x1000, 0x1000)).toBe(0x1000);
      // L1 read + the PTE read + the rescan.
      expect(t.d.counters.pteReads - before).toBe(2 + (first === 256 ? 256 : first + 1));
    }
    expect(t.d.counters.tablesFreed).toBe(1);
  });

  it("flush_iotlb_page leaves the last victim in MMU_LOCK and counts 3 reads + 1 write per entry", () => {
    for (const tlbEntries of [8, 32] as const) {
      const t = makeOmap({ tlbEntries });
      const mmu = t.omap.mmus[0]!;
      mmu.writeReg(0xffff_ffff, MMU_LOCK);
      mmu.resetMmio();
      mmu.flushIotlbPage(0);
      expect([mmu.peek(MMU_LOCK), mmu.mmioReads, mmu.mmioWrites]).toEqual([
        (0xffff_fe0f | ((tlbEntries - 1) << 4)) >>> 0,
        3 * tlbEntries,
        tlbEntries,
      ]);
    }
  });

  it("the L2 table cache is invisible: a freed table's slot taken by another table reads the new entries", () => {
    const t = makeOmap();
    const pl = new PhysLength();
    const l1 = (da: number) => t.allocator.mem.read32(t.d.iommus[0]!.pgtable + 4 * (da >>> 20));
    iommuMap(t.d, 0x10_0000, 0x4000_0000, 0x1000, IOMMU_READ);
    iommuMap(t.d, 0x20_0000, 0x5000_0000, 0x1000, IOMMU_READ);
    iommuIovaToPhysLength(t.d, 0x10_0000, pl);
    const first = l1(0x10_0000) & ~0x3ff;
    expect(iommuUnmap(t.d, 0x10_0000, 0x1000)).toBe(0x1000); // the table empties and is freed
    iommuMap(t.d, 0x30_0000, 0x6000_0000, 0x1000, IOMMU_READ); // reuses the freed object
    expect(l1(0x30_0000) & ~0x3ff).toBe(first);
    const reads = [0x10_0000, 0x20_0000, 0x30_0000].map((da) => {
      const before = t.d.counters.pteReads;
      iommuIovaToPhysLength(t.d, da, pl);
      return [pl.mapped, pl.mapped ? pl.phys : 0, pl.length, t.d.counters.pteReads - before];
    });
    expect(reads).toEqual([
      [false, 0, 0x10_0000, 1],
      [true, 0x5000_0000, 0x1000, 2],
      [true, 0x6000_0000, 0x1000, 2],
    ]);
  });
});
