/**
 * mtk_iommu and msm_iommu in the registry (../../../registry.ts): their `direct` entries and
 * demo targets, and their VFIO demo rows (`iommu demo --format mtk-iommu,msm`) against the
 * kernel-callers.md §7 walk model — walks, unmap calls and IOTLB syncs per mode.
 */
import { iommuPagingDomainAllocFlags } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { demoJobs } from "../../../demo/demo.js";
import { runScenario } from "../../../demo/run.js";
import { walkModel } from "../../../demo/walk-model.js";
import { demoTargetKinds, directDriverKinds } from "../../../registry.js";

const KEYS = ["mtk-iommu", "msm"];

describe("registry entries of mtk_iommu and msm_iommu", () => {
  it("direct entries inside the aperture of an attached domain; one ops table per instance", () => {
    const direct = directDriverKinds().filter((k) => KEYS.includes(k.key));
    expect(direct.map((k) => `${k.driver}/${k.key}/${k.format}`)).toEqual([
      "mtk_iommu/mtk-iommu/ARM_V7S mt8192",
      "msm_iommu/msm/ARM_V7S apq8064",
    ]);
    for (const k of direct) {
      const a = k.createDriver();
      const d = iommuPagingDomainAllocFlags(a, 0);
      expect(BigInt(k.iova) >= BigInt(d.geometry.apertureStart), k.key).toBe(true);
      expect(BigInt(k.iova + k.window - 1) <= BigInt(d.geometry.apertureEnd), k.key).toBe(true);
      expect(k.leafSizes).toEqual([0x1000, 0x1_0000, 0x10_0000, 0x100_0000]);
      expect(d.pgsizeBitmap).toBe(0x111_1000);
      const d2 = iommuPagingDomainAllocFlags(a, 0);
      const d3 = iommuPagingDomainAllocFlags(k.createDriver(), 0);
      expect(d2.ops === d.ops && d3.ops !== d.ops, k.key).toBe(true);
    }
    expect(
      demoTargetKinds()
        .filter((k) => KEYS.includes(k.key))
        .map((k) => k.byDefault),
    ).toEqual([false, false]);
  });
});

describe("VFIO demo rows (--format mtk-iommu,msm) against §7", () => {
  // Every row but the 65,536-leaf ones (256M-on-64K, 256M-on-4K-scattered: seconds each);
  // their §7 equality is the same code path at more leaves.
  const jobs = demoJobs({ formats: KEYS }).filter((j) => !/^256M-on-64K$|scattered/.test(j.scenario.name));

  it("covers the v7s leaf sizes: 16M, 1M and 64K leaves, and 256 MiB in 16M / 1M leaves", () => {
    expect(jobs.map((j) => `${j.target.driver} ${j.scenario.name}`)).toEqual(
      ["mtk_iommu", "msm_iommu"].flatMap((d) =>
        ["16M-on-16M", "1M-on-1M", "64K-on-64K", "256M-on-16M", "256M-on-1M"].map((s) => `${d} ${s}`),
      ),
    );
    expect(demoJobs({ formats: KEYS }).map((j) => j.scenario.name)).toContain("256M-on-4K-scattered");
  });

  it("walks, unmap calls and IOTLB syncs equal the formulas", () => {
    for (const job of jobs) {
      const r = runScenario(job.target, job.scenario);
      const m = walkModel(job.scenario, job.target.gapSyncs);
      const where = `${r.driver} ${r.scenario}`;
      expect(r.walks, where).toEqual({ legacy: m.legacy, length: m.length });
      expect(r.unmapCalls, where).toEqual({ legacy: m.unmapCalls, length: m.unmapCalls });
      expect(r.iotlbSyncs, where).toEqual({ legacy: m.iotlbSyncs, length: m.iotlbSyncs });
      expect(r.pteReads.length, where).toBeLessThanOrEqual(r.pteReads.legacy);
    }
  }, 60_000);
});
