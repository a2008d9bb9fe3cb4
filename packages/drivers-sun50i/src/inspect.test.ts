/**
 * drivers/iommu/sun50i-iommu.c, read back: the inspector's walk, visit, stats and fields on a
 * live domain, and on partial images.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, PhysMem, type PteInfo } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createSun50iInspector } from "./inspect.js";
import { setup } from "./testing/harness.js";

const M = 0x10_0000;

describe("sun50i inspector", () => {
  it("geometry, visit, fields, walk", () => {
    const { d } = setup();
    iommuMap(d, M + 0x5000, 0x4000_0000, 0x2000, IOMMU_WRITE);
    const insp = d.ops!.inspect!(d)!;
    expect(insp.geometry()).toMatchObject({
      format: "sun50i",
      root: d.dt,
      levels: 2,
      topEntries: 4096,
      iasBits: 32,
    });
    const seen: PteInfo[] = [];
    insp.visit((e) => void seen.push(e));
    expect(seen.map((e) => `${e.level}:${e.index}:${e.kind}`)).toEqual(["1:1:table", "2:5:leaf", "2:6:leaf"]);
    expect(seen[0]!.fields.map((f) => f.name)).toEqual(["PT_ADDRESS", "ATTRS"]);
    expect(seen[1]!.fields.map((f) => [f.name, f.value])).toEqual([
      ["PAGE_ADDRESS", 0x4000_0000],
      ["ACI", 3],
      ["V", 1],
    ]);
    expect(seen[1]!.prot).toBe(IOMMU_WRITE);
    expect(insp.stats()).toMatchObject({ tables: 2, leafItems: 2, invalidNonZero: 0 });
    expect(insp.walk(M + 0x6123)).toMatchObject({ end: "leaf", phys: 0x4000_1123n, length: 0x1000 });
    expect(insp.walk(M)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(9 * M)).toMatchObject({ end: "hole", length: M });
    expect(insp.walk(2 ** 32).end).toBe("out-of-range");
  });

  it("a partial image: page tables missing, or no directory — reported, never thrown", () => {
    const { d } = setup();
    iommuMap(d, M, 0x4000_0000, 0x1000, IOMMU_READ | IOMMU_WRITE);
    const mem = new PhysMem();
    mem.importRange(d.dt, d.allocator.mem.exportRange(d.dt, 0x4000));
    const insp = createSun50iInspector({ mem, dt: d.dt });
    expect(insp.walk(M).end).toBe("missing-table");
    expect(insp.stats().missingTables).toBe(1);
    expect(createSun50iInspector({ mem: new PhysMem(), dt: 0 }).walk(0).end).toBe("missing-table");
  });
});
