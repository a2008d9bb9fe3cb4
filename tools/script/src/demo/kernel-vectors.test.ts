/**
 * The demo's legacy column against ground truth: the public VFIO vectors (../fixtures/vectors/vfio, copied
 * from the shared set) are the output of the kernel's own vfio_iommu_type1.c over real
 * io-pgtable-arm ARM_64_LPAE_S1 4K tables. The same layouts run through the demo's pipeline
 * (UserMemory → @iommu/vfio → arm-smmu-v3 S1 4K) must count the same lookups, unmap calls and
 * IOTLB syncs.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { measure } from "./run.js";
import { type Scenario, scenariosFor } from "./scenarios.js";
import { demoTargets } from "./targets.js";
import { walkModel } from "./walk-model.js";

const here = dirname(fileURLToPath(import.meta.url));

interface KernelCounts {
  after: string;
  iovaToPhys: number;
  unmapCalls: number;
  mapCalls: number;
  iotlbSync: number;
}

/** Every `counts` line of a vector's output, with the result line it follows. */
function countsOf(vector: string): KernelCounts[] {
  const lines = readFileSync(join(here, "../fixtures/vectors/vfio", `${vector}.out`), "utf8").split("\n");
  const out: KernelCounts[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("counts ")) return;
    const f = Object.fromEntries(
      line
        .slice(7)
        .split(" ")
        .map((kv) => kv.split("=") as [string, string]),
    );
    out.push({
      after: lines[i - 1] ?? "",
      iovaToPhys: Number(f.iova_to_phys),
      unmapCalls: Number(f.unmap_calls),
      mapCalls: Number(f.map_calls),
      iotlbSync: Number(f.iotlb_sync),
    });
  });
  return out;
}

/** The counts of each VFIO_IOMMU_UNMAP_DMA, in script order. */
function unmaps(vector: string): KernelCounts[] {
  return countsOf(vector).filter((c) => c.after.startsWith("ok unmapped="));
}

const [s1] = demoTargets([0x1000], ["s1"]);
const byName = (name: string) => scenariosFor(0x1000).find((s) => s.name === name)!;

function legacy(s: Scenario) {
  const m = measure(s1!, s, "legacy");
  return { iovaToPhys: m.walks, unmapCalls: m.unmapCalls, iotlbSync: m.iotlbSyncs };
}

function pick(c: KernelCounts) {
  return { iovaToPhys: c.iovaToPhys, unmapCalls: c.unmapCalls, iotlbSync: c.iotlbSync };
}

describe("legacy counts = the kernel's vfio_iommu_type1.c (public vectors)", () => {
  it("vfio-headline-2m: 2M-on-2M and the non-congruent 2M in 4K leaves (2M-on-4K)", () => {
    const [block, , split] = unmaps("vfio-headline-2m");
    expect(legacy(byName("2M-on-2M"))).toEqual(pick(block!));
    expect(legacy(byName("2M-on-4K"))).toEqual(pick(split!));
  });

  it("vfio-headline-1g-hugetlb: 1G-on-1G", () => {
    expect(legacy(byName("1G-on-1G"))).toEqual(pick(unmaps("vfio-headline-1g-hugetlb")[0]!));
  });

  it("vfio-headline-1g-thp: 1G-on-2M-thp", () => {
    expect(legacy(byName("1G-on-2M-thp"))).toEqual(pick(unmaps("vfio-headline-1g-thp")[0]!));
  });

  it("vfio-headline-scattered: 16K, 2M and 64M of scattered 4K pages", () => {
    const kernel = unmaps("vfio-headline-scattered");
    const scattered = byName("1G-on-4K-scattered");
    [4 * SZ_4K, SZ_2M, 32 * SZ_2M].forEach((size, i) => {
      const s: Scenario = {
        ...scattered,
        name: `scattered-${size}`,
        regionSize: size,
        leaves: size / SZ_4K,
        runs: size / SZ_4K,
      };
      expect(legacy(s), s.name).toEqual(pick(kernel[i]!));
    });
  });

  it("vfio-replay: the replay walks are the §7 sum over the three mappings, one map per run", () => {
    const replay = countsOf("vfio-replay").find((c) => c.after.startsWith("ok attach group=2"))!;
    const thp4m = walkModel({ ...byName("1G-on-2M-thp"), regionSize: 2 * SZ_2M, leaves: 2, runs: 2 });
    const scattered64k = walkModel({
      ...byName("1G-on-4K-scattered"),
      regionSize: 16 * SZ_4K,
      leaves: 16,
      runs: 16,
    });
    const huge = walkModel(byName("1G-on-1G"));
    expect(replay.iovaToPhys).toBe(thp4m.legacy + scattered64k.legacy + huge.legacy);
    expect(replay.mapCalls).toBe(2 + 16 + 1);
    // And the demo's own replay scenario measures what the model says.
    const r = byName("replay");
    expect(measure(s1!, r, "legacy").walks).toBe(walkModel(r).legacy);
    expect(SZ_1G / SZ_4K).toBe(huge.legacy);
  });
});
