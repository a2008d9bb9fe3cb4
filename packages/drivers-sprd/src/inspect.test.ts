/**
 * drivers/iommu/sprd-iommu.c, read back: the inspector of the flat table on a live domain and
 * on a missing image.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, PhysMem, type PteInfo } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createSprdInspector } from "./inspect.js";
import { setup } from "./testing/harness.js";

describe("sprd inspector", () => {
  it("geometry, visit, walk, stats", () => {
    const { d } = setup();
    iommuMap(d, 0xfffe000, 0x4100_0000, 0x2000, IOMMU_READ);
    const insp = d.ops!.inspect!(d)!;
    expect(insp.geometry()).toMatchObject({
      format: "sprd",
      root: d.pgt,
      levels: 1,
      topEntries: 65536,
      iasBits: 28,
    });
    const seen: PteInfo[] = [];
    insp.visit((e) => void seen.push(e));
    expect(seen.map((e) => [e.index, e.kind, e.raw, e.phys])).toEqual([
      [65534, "leaf", 0x4_1000n, 0x4100_0000n],
      [65535, "leaf", 0x4_1001n, 0x4100_1000n],
    ]);
    expect(seen[0]!.prot).toBe(IOMMU_READ | IOMMU_WRITE);
    expect(insp.walk(0xffff123)).toMatchObject({ end: "leaf", phys: 0x4100_1123n, length: 0x1000 });
    expect(insp.walk(0)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(0x1000_0000).end).toBe("out-of-range");
    expect(insp.stats()).toMatchObject({ tables: 1, leafItems: 2 });
  });

  it("a missing table: reported, never thrown", () => {
    const insp = createSprdInspector({ mem: new PhysMem(), pgt: 0x8004_0000 });
    expect(insp.walk(0).end).toBe("missing-table");
    expect(insp.stats().leafItems).toBe(0);
  });
});
