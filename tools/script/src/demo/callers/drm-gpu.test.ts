import { describe, expect, it } from "vitest";
import { runCallerScenario } from "../demo.js";
import { DRM_GPU_SCENARIOS } from "./drm-gpu.js";
import { CALLER_SCENARIOS } from "./index.js";

describe("iommu demo: panfrost / panthor rows (kernel-callers.md §7 rows 8–9)", () => {
  it("are registered, two in the default run", () => {
    for (const s of DRM_GPU_SCENARIOS) expect(CALLER_SCENARIOS).toContain(s);
    expect(DRM_GPU_SCENARIOS.filter((s) => s.byDefault).map((s) => s.id)).toEqual([
      "panfrost-heap-unmap",
      "panthor-unmap-mismatch",
    ]);
  });

  it.each(DRM_GPU_SCENARIOS.map((s) => [s.id, s] as const))(
    "%s: measured walks equal the model",
    (_id, s) => {
      const row = runCallerScenario(s, 1);
      expect(row.walks).toEqual(s.expected);
      expect(row.caller).toBe(s.caller);
    },
  );

  it("unmap calls and flushes: heap probes unmap only faulted chunks, one flush per unmap", () => {
    const heap = runCallerScenario(DRM_GPU_SCENARIOS.find((s) => s.id === "panfrost-heap-unmap")!);
    expect(heap.unmapCalls).toEqual({ legacy: 7, length: 7 });
    expect(heap.iotlbSyncs).toEqual({ legacy: 1, length: 1 });
    expect(heap.pteReads.length).toBeLessThan(heap.pteReads.legacy);
    const mismatch = runCallerScenario(DRM_GPU_SCENARIOS.find((s) => s.id === "panthor-unmap-mismatch")!);
    // unmap_pages: the run up to the hole, then the rest after it.
    expect(mismatch.unmapCalls).toEqual({ legacy: 2, length: 2 });
    // Cache flushes: panthor_mmu_as_disable() (the VM given up) and the region unlock.
    expect(mismatch.iotlbSyncs).toEqual({ legacy: 2, length: 2 });
  });
});
