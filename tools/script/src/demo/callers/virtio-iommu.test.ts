/**
 * The virtio-iommu demo rows: each scenario's measured walks against its §7 expectation in
 * both modes, the interval count it claims (checked inside measure()), and at most one row in
 * the default run.
 */
import { describe, expect, it } from "vitest";
import { VIRTIO_IOMMU_SCENARIOS } from "./virtio-iommu.js";

describe("virtio-iommu caller scenarios", () => {
  it("one representative row in the default run", () => {
    expect(VIRTIO_IOMMU_SCENARIOS.filter((s) => s.byDefault).map((s) => s.id)).toEqual([
      "virtio-unmap-2M-one-MAP",
    ]);
  });

  it("§7 expectations written out: 2M and 1G as one MAP → 1 walk; 512 scattered MAPs → 1023 vs 512", () => {
    const e = Object.fromEntries(VIRTIO_IOMMU_SCENARIOS.map((s) => [s.id, s.expected]));
    expect(e["virtio-unmap-2M-one-MAP"]).toEqual({ legacy: 512, length: 1 });
    expect(e["virtio-unmap-1G-one-MAP"]).toEqual({ legacy: 262_144, length: 1 });
    expect(e["virtio-unmap-2M-512-MAPs"]).toEqual({ legacy: 1023, length: 512 });
    expect(e["virtio-unmap-1G-262144-MAPs"]).toEqual({ legacy: 524_287, length: 262_144 });
  });

  // The 1 GiB scattered row maps 262,144 pages through VFIO and the device's host table
  // (seconds): `iommu demo --all` measures it; here the cheaper rows.
  for (const s of VIRTIO_IOMMU_SCENARIOS.filter((x) => x.id !== "virtio-unmap-1G-262144-MAPs")) {
    it(`${s.id}: measured walks match the model in both modes`, () => {
      const clock = () => 0n;
      const legacy = s.measure("legacy", clock);
      const length = s.measure("length", clock);
      expect({ legacy: legacy.walks, length: length.walks }).toEqual(s.expected);
      expect(legacy.unmapCalls).toBe(length.unmapCalls);
    });
  }
});
