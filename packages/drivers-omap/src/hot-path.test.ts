// drivers/iommu/omap-iommu.c: the unmap's empty-table rescan and the TLB scan counted as the kernel's loops.
import { IOMMU_READ, iommuMap, iommuUnmap } from "@iommu/core";
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
});
