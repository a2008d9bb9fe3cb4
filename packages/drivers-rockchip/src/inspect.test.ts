/**
 * drivers/iommu/rockchip-iommu.c, read back: the inspector's walk, visit, stats and fields on
 * live v1/v2 domains (stale invalid PTEs included), and on partial images.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, iommuUnmap, PhysMem, type PteInfo } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createRockchipInspector } from "./inspect.js";
import { setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M4 = 0x40_0000;

describe("rockchip inspector", () => {
  it("geometry, visit order, stale PTEs as invalid, fields", () => {
    const { d } = setup();
    iommuMap(d, M4, 0x7000_0000, 0x3000, IOMMU_READ);
    iommuUnmap(d, M4 + 0x1000, 0x1000);
    const insp = d.ops!.inspect!(d)!;
    expect(insp.geometry()).toMatchObject({
      format: "rockchip-v1",
      root: d.dt,
      levels: 2,
      topEntries: 1024,
      iasBits: 32,
    });
    const seen: PteInfo[] = [];
    insp.visit((e) => void seen.push(e));
    expect(seen.map((e) => `${e.level}:${e.index}:${e.kind}`)).toEqual([
      "1:1:table",
      "2:0:leaf",
      "2:1:invalid",
      "2:2:leaf",
    ]);
    expect(seen[0]!.nextTable).toBe(0x8000_1000);
    expect(seen[2]!.raw).toBe(0x7000_1002n);
    expect(seen[1]!.fields.map((f) => f.name)).toEqual([
      "PAGE_ADDRESS",
      "RA",
      "RC",
      "WB",
      "WA",
      "WC",
      "OVERRIDE",
      "W",
      "R",
      "V",
    ]);
    expect([seen[1]!.prot, seen[1]!.phys, seen[1]!.leafSize]).toEqual([IOMMU_READ, 0x7000_0000n, 0x1000]);
    const s = insp.stats();
    expect([s.tables, s.leafItems, s.invalidNonZero]).toEqual([2, 2, 1]);
    expect(insp.walk(M4 + 0x1000)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(3 * M4)).toMatchObject({ end: "hole", length: M4 });
    expect(insp.walk(M4 + 0x2abc)).toMatchObject({ end: "leaf", phys: 0x7000_2abcn, length: 0x1000 });
    expect(insp.walk(2 ** 32).end).toBe("out-of-range");
  });

  it("v2 fields and decoding", () => {
    const { d } = setup({ variant: "v2", ptbase: 0x20_8000_0000 });
    iommuMap(d, 0, 0xab_cdef_0000, 0x1000, RW);
    const w = d.ops!.inspect!(d)!.walk(0x123);
    expect(w.steps[0]!.nextTable).toBe(0x20_8000_1000);
    expect(w.phys).toBe(0xab_cdef_0123n);
    expect(w.steps[1]!.fields.map((f) => f.name)).toEqual(["PAGE_ADDRESS", "SECURITY", "W", "R", "V"]);
  });

  it("a partial image: page tables missing, or no directory — reported, never thrown", () => {
    const { d } = setup();
    iommuMap(d, M4, 0x7000_0000, 0x1000, RW);
    const mem = new PhysMem();
    mem.importRange(d.dt, d.allocator.mem.exportRange(d.dt, 0x1000));
    const insp = createRockchipInspector({ mem, dt: d.dt, variant: "v1" });
    expect(insp.walk(M4).end).toBe("missing-table");
    const kinds: string[] = [];
    insp.visit((e) => void kinds.push(`${e.kind}${e.tableMissing ? "-missing" : ""}`));
    expect(kinds).toEqual(["table-missing"]);
    expect(insp.stats().missingTables).toBe(1);
    const none = createRockchipInspector({ mem: new PhysMem(), dt: 0x1000, variant: "v2" });
    expect(none.walk(0).end).toBe("missing-table");
    expect(none.stats().tables).toBe(1);
  });
});
