// drivers/iommu/omap-iommu.c read back: the inspector's walk, visit and stats per MMU, also on partial images.
import { IOMMU_READ, IOMMU_WRITE, iommuDomainInspector, iommuMap, SizeOut } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { OmapInspector } from "./inspect.js";
import { OmapIommu } from "./omap-iommu.js";
import { makeOmap } from "./testing/make.js";

describe("OmapInspector", () => {
  it("replicated leaves: each copy an item with the large leafSize and its contigIndex", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x100_0000, 0x8100_0000, 0x111_1000, IOMMU_READ);
    const insp = iommuDomainInspector(t.d)!;
    expect(insp.geometry()).toMatchObject({
      format: "omap-iommu",
      levels: 2,
      topEntries: 4096,
      entryBytes: 4,
      root: 0x8000_0000,
    });
    const w = insp.walk(0x1a5_4321);
    expect(w).toMatchObject({ end: "leaf", phys: 0x81a5_4321n, length: 0x100_0000 });
    expect(w.steps[0]).toMatchObject({
      kind: "leaf",
      itemSize: 0x10_0000,
      leafSize: 0x100_0000,
      contigIndex: 10,
    });
    expect(w.steps[0]!.prot).toBe(IOMMU_READ | IOMMU_WRITE);
    const w2 = insp.walk(0x210_5000);
    expect(w2.steps.map((s) => [s.kind, s.level])).toEqual([
      ["table", 1],
      ["leaf", 2],
    ]);
    expect(w2.steps[1]).toMatchObject({ leafSize: 0x1_0000, contigIndex: 5, phys: 0x8210_5000n });
    expect(insp.walk(0x211_1000)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(0x400_0000)).toMatchObject({ end: "hole", length: 0x10_0000 });
    expect(insp.walk(0x1_0000_0000).end).toBe("out-of-range");
    const s = insp.stats();
    expect([s.tables, s.leafItems, s.mappedBytes]).toEqual([2, 34, 0x111_1000n]);
    expect([...s.leavesBySize]).toEqual([
      [0x100_0000, 1],
      [0x10_0000, 1],
      [0x1_0000, 1],
      [0x1000, 1],
    ]);
  });

  it("one inspector per MMU; none while detached", () => {
    const t = makeOmap({ mmus: 2 });
    iommuMap(t.d, 0x10_0000, 0x5000_0000, 0x1000, IOMMU_WRITE);
    const w0 = new OmapInspector(t.d, 0).walk(0x10_0000);
    const w1 = new OmapInspector(t.d, 1).walk(0x10_0000);
    expect([w0.phys, w1.phys]).toEqual([0x5000_0000n, 0x5000_0000n]);
    expect(w0.steps[0]!.nextTable).not.toBe(w1.steps[0]!.nextTable);
    const omap = new OmapIommu();
    const d = omap.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(iommuDomainInspector(d)).toBe(null);
    expect(new OmapInspector(d).walk(0).end).toBe("missing-table");
  });

  it("never throws on a partial image; a section's item reports itself when its run is broken", () => {
    const t = makeOmap();
    const m = new SizeOut();
    t.d.ops!.mapPages(t.d, 0x100_0000, 0x8100_0000, 0x100_0000, 1, IOMMU_READ, 0, m);
    t.d.ops!.mapPages(t.d, 0x1f0_0000, 0x9000_0000, 0x10_0000, 1, IOMMU_READ, 0, m); // breaks the run
    t.allocator.mem.write32(t.d.iommus[0]!.pgtable + 4 * 0x30, 0xc000_0001); // a table not in memory
    t.allocator.mem.write32(t.d.iommus[0]!.pgtable + 4 * 0x31, 0x3); // neither table nor leaf
    const insp = iommuDomainInspector(t.d)!;
    expect(insp.walk(0x100_0000)).toMatchObject({ end: "leaf", length: 0x10_0000 });
    expect(insp.walk(0x300_0000).end).toBe("missing-table");
    expect(insp.walk(0x310_0000)).toMatchObject({ end: "hole", length: 0x10_0000 });
    expect(insp.stats()).toMatchObject({ missingTables: 1, invalidNonZero: 1 });
  });
});
