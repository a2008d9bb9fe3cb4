import { SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { type Scenario, scenariosFor } from "./scenarios.js";
import { walkModel } from "./walk-model.js";

function layout(
  p: Partial<Scenario> & Pick<Scenario, "regionSize" | "leafSize" | "leaves" | "runs">,
): Scenario {
  return {
    kind: "block",
    name: "t",
    granule: 0x1000,
    memKind: "hugetlb1g",
    iovaOffset: 0,
    punchEveryOther: false,
    op: "unmap",
    holePages: 0,
    holeSpans: 0,
    endsInHole: false,
    ...p,
  };
}

describe("walk model = the derived cases of kernel-callers.md §7", () => {
  it("2M in one 2M leaf: 512 → 1", () => {
    expect(walkModel(layout({ regionSize: SZ_2M, leafSize: SZ_2M, leaves: 1, runs: 1 }))).toMatchObject({
      legacy: 512,
      length: 1,
      unmapCalls: 1,
      iotlbSyncs: 1,
    });
  });

  it("2M as 512 contiguous 4K leaves: 512 → 512 (no gain without larger leaves)", () => {
    const m = walkModel(layout({ regionSize: SZ_2M, leafSize: SZ_4K, leaves: 512, runs: 1 }));
    expect([m.legacy, m.length]).toEqual([512, 512]);
  });

  it("2M as 512 non-contiguous 4K leaves: 1023 today, 512 ideal, 1023 naive, 512 unmaps, 1 sync", () => {
    expect(walkModel(layout({ regionSize: SZ_2M, leafSize: SZ_4K, leaves: 512, runs: 512 }))).toEqual({
      legacy: 1023,
      length: 512,
      lengthNaive: 1023,
      unmapCalls: 512,
      iotlbSyncs: 1,
    });
  });

  it("1 GiB as 512 contiguous 2M leaves: 262,144 → 512; as one 1G leaf: 262,144 → 1", () => {
    const blocks = walkModel(layout({ regionSize: SZ_1G, leafSize: SZ_2M, leaves: 512, runs: 1 }));
    expect([blocks.legacy, blocks.length, blocks.unmapCalls]).toEqual([262_144, 512, 1]);
    const huge = walkModel(layout({ regionSize: SZ_1G, leafSize: SZ_1G, leaves: 1, runs: 1 }));
    expect([huge.legacy, huge.length]).toEqual([262_144, 1]);
  });

  it("a dma ending in a hole pays the run-ending lookup on its last run too", () => {
    const s = layout({
      regionSize: 2 * SZ_2M,
      leafSize: SZ_2M,
      leaves: 1,
      runs: 1,
      holePages: 512,
      holeSpans: 1,
      endsInHole: true,
    });
    expect(walkModel(s)).toMatchObject({ legacy: 1024 + 1, length: 2, lengthNaive: 3 });
  });

  it("replay walks like unmap but makes no unmap calls or syncs", () => {
    const replay = scenariosFor(0x1000).find((s) => s.kind === "replay")!;
    expect(walkModel(replay)).toMatchObject({ legacy: 262_144, length: 512, unmapCalls: 0, iotlbSyncs: 0 });
  });

  it("the scenario table's layouts are self-consistent", () => {
    for (const g of [0x1000, 0x4000, 0x10000] as const)
      for (const s of scenariosFor(g)) {
        expect(s.leafSize % g, s.name).toBe(0);
        expect(s.leaves * s.leafSize + s.holePages * SZ_4K, s.name).toBe(s.regionSize);
        expect(s.runs, s.name).toBeLessThanOrEqual(s.leaves);
      }
  });
});
