import { iommuPagingDomainAllocFlags } from "@iommu/core";
import { PT_FORMAT_NAMES } from "@iommu/generic-pt";
import { describe, expect, it } from "vitest";
import {
  createFamilies,
  demoTargetKinds,
  directDriverKinds,
  fmtNames,
  genericPtFormats,
  REGISTRY,
  vfioDomainsKinds,
} from "./registry.js";

describe("the registry", () => {
  it("lists every script format once, each served by its entry's family", () => {
    const names = fmtNames();
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([
      ...["arm64-s1", "arm64-s2", "arm32-s1", "arm32-s2", "mali", "v7s", "dart1", "dart2"],
      // Drivers on io-pgtable: the bare name or `driver=<name>`.
      ...["arm-smmu", "driver=arm-smmu", "qcom_iommu", "driver=qcom_iommu"],
      ...["apple-dart", "driver=apple-dart", "ipmmu", "driver=ipmmu"],
      ...["amdv1", "x86_64", "vtdss", "riscv", "amdv1_mock"],
      ...["intel", "driver=intel", "amd", "driver=amd"],
      ...["exynos", "rockchip", "sun50i", "sprd", "tegra", "mtk_v1", "s390", "omap"],
      ...["mtk-iommu", "driver=mtk-iommu", "msm", "driver=msm"],
      ...["virtio", "driver=virtio-iommu", "fsl-pamu", "driver=fsl-pamu"],
    ]);
    for (const e of REGISTRY) {
      if (!e.family) {
        expect(e.fmtNames, e.driver).toEqual([]);
        continue;
      }
      expect([...e.family().formats], e.driver).toEqual([...e.fmtNames]);
    }
    expect(createFamilies().flatMap((f) => f.formats)).toEqual(names);
  });

  it("lists the drivers measured one page per call (own formats, v7s drivers), every one in its IOVA window; mtk_iommu_v1 without a demo", () => {
    const direct = directDriverKinds();
    expect(direct.map((k) => k.key)).toEqual([
      "exynos",
      "rockchip",
      "sun50i",
      "sprd",
      "tegra",
      "mtk-v1",
      "s390",
      "omap",
      "mtk-iommu",
      "msm",
    ]);
    for (const k of direct) {
      const d = iommuPagingDomainAllocFlags(k.createDriver(), 0);
      const g = d.geometry;
      // mtk_iommu_v1 has no geometry (0..0); its table spans 4 GiB of IOVA.
      if (k.key !== "mtk-v1") {
        expect(BigInt(k.iova) >= BigInt(g.apertureStart), k.key).toBe(true);
        expect(BigInt(k.iova + k.window - 1) <= BigInt(g.apertureEnd), k.key).toBe(true);
      }
      expect(d.pgsizeBitmap & 0x1000, k.key).toBe(0x1000);
      d.ops?.free?.(d);
    }
    expect(demoTargetKinds().some((k) => k.key === "mtk-v1")).toBe(false);
  });

  it("has an entry for every generic_pt format @iommu/generic-pt lists", () => {
    expect([...genericPtFormats()].sort()).toEqual([...PT_FORMAT_NAMES].sort());
  });

  it("gives the demo its targets in table order, each driver instance with its own ops table", () => {
    const kinds = demoTargetKinds();
    expect(kinds.map((k) => `${k.driver}/${k.key}/${k.format}`)).toEqual([
      "arm-smmu-v3/s1/ARM_64_LPAE_S1",
      "arm-smmu-v3/s2/ARM_64_LPAE_S2",
      "arm-smmu/arm-smmu/ARM_64_LPAE_S1",
      "arm-smmu/arm-smmu-16k-64k/ARM_64_LPAE_S1",
      "arm-smmu/arm-smmu-v7s/ARM_V7S",
      "qcom_iommu/qcom-iommu/ARM_32_LPAE_S1 4K",
      "apple-dart/apple-dart/APPLE_DART2",
      "apple-dart/apple-dart-4k/APPLE_DART",
      "ipmmu-vmsa/ipmmu/ARM_32_LPAE_S1",
      "generic_pt/riscv/riscv",
      "intel/vtdss/vtdss 4-level",
      "intel/vtdss-no1g/vtdss 4-level 2M-only",
      "intel/x86_64/x86_64 5-level",
      "amd/amdv1/amdv1",
      "amd/amdv1-32k/amdv1 4K/32K/2M/1G",
      "amd/amdv1-vm/amdv1 npcache",
      "amd/amd-v2/x86_64 5-level",
      "exynos-iommu/exynos/v5",
      "rockchip-iommu/rockchip/v2",
      "sun50i-iommu/sun50i/h6",
      "sprd-iommu/sprd/vau",
      "tegra-smmu/tegra/tegra210",
      "s390-iommu/s390/zpci",
      "omap-iommu/omap/omap4",
      "mtk_iommu/mtk-iommu/ARM_V7S mt8192",
      "msm_iommu/msm/ARM_V7S apq8064",
    ]);
    for (const k of kinds)
      for (const g of k.granules) {
        const [a, b] = [k.createDriver(g), k.createDriver(g)];
        const d1 = iommuPagingDomainAllocFlags(a, 0);
        const d2 = iommuPagingDomainAllocFlags(a, 0);
        const d3 = iommuPagingDomainAllocFlags(b, 0);
        const where = `${k.key} ${g}`;
        expect(d1.ops, where).toBe(d2.ops);
        expect(d1.ops, where).not.toBe(d3.ops);
        // The granule is the domain's smallest page size.
        expect(d1.pgsizeBitmap % (2 * g), where).toBe(g);
        expect(a.pgsizeBitmap % (2 * g), where).toBe(g);
        for (const d of [d1, d2, d3]) d.ops?.free?.(d);
      }
  });

  it("names the VFIO script domains, lpae first (the reference harness's)", () => {
    expect(vfioDomainsKinds().map((k) => k.name)).toEqual(["lpae", "smmu"]);
  });
});
