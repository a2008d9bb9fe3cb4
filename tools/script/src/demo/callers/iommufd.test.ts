// The iommufd demo rows: each measures what the kernel-callers.md §7 model predicts (walks),
// one iommu_unmap per batch (not per run), and length never walks more than legacy.
import { describe, expect, it } from "vitest";
import type { Clock } from "../../clock.js";
import { IOMMUFD_SCENARIOS } from "./iommufd.js";

const clock: Clock = () => 0n;
const CHEAP = new Set([
  "iommufd-unmap-2M-on-2M",
  "iommufd-mock-2K",
  "iommufd-attach-fill",
  "iommufd-access-pin",
  "iommufd-batch-limit",
]);

describe("iommufd demo rows", () => {
  it("the default set is the two cheap rows", () => {
    expect(IOMMUFD_SCENARIOS.filter((s) => s.byDefault).map((s) => s.id)).toEqual([
      "iommufd-unmap-2M-on-2M",
      "iommufd-mock-2K",
    ]);
  });

  for (const s of IOMMUFD_SCENARIOS.filter((x) => CHEAP.has(x.id)))
    it(`${s.id}: walks ${s.expected.legacy} → ${s.expected.length}`, () => {
      const legacy = s.measure("legacy", clock);
      const length = s.measure("length", clock);
      expect({ legacy: legacy.walks, length: length.walks }).toEqual(s.expected);
      expect(length.walks).toBeLessThanOrEqual(legacy.walks);
      expect(length.unmapCalls).toBe(legacy.unmapCalls);
      expect(length.iotlbSyncs).toBe(legacy.iotlbSyncs);
    });

  for (const s of IOMMUFD_SCENARIOS.filter((x) => CHEAP.has(x.id)))
    it(`${s.id}: runs read-back: ${s.expectedRuns} range lookups, same unmaps and syncs as legacy`, () => {
      const legacy = s.measure("legacy", clock);
      const length = s.measure("length", clock);
      const runs = s.measureRuns(clock);
      expect(runs.walks).toBe(s.expectedRuns);
      expect(runs.walks).toBeLessThanOrEqual(length.walks);
      expect(runs.unmapCalls).toBe(legacy.unmapCalls);
      expect(runs.iotlbSyncs).toBe(legacy.iotlbSyncs);
    });

  it("iommufd-batch-limit: one iommu_unmap and one IOTLB sync per 1-entry batch (32 runs)", () => {
    const s = IOMMUFD_SCENARIOS.find((x) => x.id === "iommufd-batch-limit")!;
    const m = s.measure("length", clock);
    expect([m.unmapCalls, m.iotlbSyncs]).toEqual([32, 32]);
  });

  it("iommufd-unmap-2M-on-2M: one iommu_unmap and one sync", () => {
    const s = IOMMUFD_SCENARIOS[0]!;
    const m = s.measure("legacy", clock);
    expect([m.unmapCalls, m.iotlbSyncs]).toEqual([1, 1]);
  });
});
