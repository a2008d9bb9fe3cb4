/**
 * drivers/iommu/arm/arm-smmu/ (issue 17): the SMMUv1/v2 and qcom_iommu domains' run lookup —
 * the io-pgtable's one descent (LPAE or v7s) behind the driver's no-table guard — agrees with
 * one iova_to_phys_length per page, reads each leaf once, and never uses ATS1PR.
 */
import {
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhysLength,
  iommuIovaToPhysRuns,
  iommuMap,
  SZ_1G,
  SZ_1M,
  SZ_2M,
  SZ_4K,
  SZ_16K,
  SZ_16M,
  SZ_32M,
  SZ_64K,
} from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { ArmSmmu, type ArmSmmuOptions } from "./arm-smmu.js";
import { attachedDomain, attachedQcomDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const PROTS = [IOMMU_READ, RW, RW | IOMMU_NOEXEC];

const CONFIGS: Array<[string, ArmSmmuOptions, number[], bigint]> = [
  ["v2 S1 AArch64 4K", {}, [SZ_4K, SZ_2M], 2n ** 39n],
  ["v2 S1 AArch64 16K", { granules: [SZ_16K] }, [SZ_16K, SZ_32M], 2n ** 40n],
  ["v2 S2 AArch64 4K", { forceStage: 2 }, [SZ_4K, SZ_2M], 2n ** 38n],
  ["v1 S2 AArch32-L", { version: "v1", forceStage: 2 }, [SZ_4K, SZ_2M], 2n ** 31n],
  [
    "AArch32-S (v7s, 32-bit kernel)",
    { kernel: "arm32", aarch32S: true },
    [SZ_4K, SZ_64K, SZ_1M],
    0x4000_0000n,
  ],
];

describe("arm-smmu iovaToPhysRuns vs one lookup per page", () => {
  it.each(CONFIGS)("%s: random tables, random windows", (_n, hw, sizes, base) => {
    const seen = checkRandomRuns(() => attachedDomain(hw).domain, {
      sizes,
      base,
      window: Math.max(sizes[0]! * 4096, sizes.at(-1)! * 2),
      prots: PROTS,
      numRuns: 40,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("qcom_iommu (4K only, AArch64 LPAE S1): random tables, random windows", () => {
    const seen = checkRandomRuns(() => attachedQcomDomain().domain, {
      sizes: [SZ_4K],
      base: 0x4000_0000n,
      window: SZ_4K * 4096,
      prots: PROTS,
      numRuns: 40,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });
});

/**
 * 1 GiB at `iova` as leaves of `leaf` bytes: the PA is `leaf` aligned but not aligned to the
 * next larger page size, so iommu_map picks `leaf` throughout.
 */
function oneGiB(d: Parameters<typeof iommuMap>[0], leaf: number, iova: number, paBase: number): number {
  const pa = paBase + leaf;
  iommuMap(d, iova, pa, SZ_1G, RW);
  d.counters.reset();
  const runs = runsOf(d, BigInt(iova), BigInt(SZ_1G));
  expect(runs).toEqual([
    { mapped: true, iova: BigInt(iova), phys: BigInt(pa), size: BigInt(SZ_1G), prot: RW, leafSize: leaf },
  ]);
  expect(d.counters.walks).toBe(1);
  return d.counters.pteReads;
}

describe("one descent: PTE reads per leaf, walks per call (1 GiB, one run)", () => {
  it.each([
    ["v2 S1 AArch64 4K, 2M blocks", {}, SZ_2M, 2 ** 31, 2 ** 32],
    ["v2 S1 AArch64 4K, 4K pages", {}, SZ_4K, 2 ** 31, 2 ** 32],
    ["AArch32-S, 16M supersections", { kernel: "arm32", aarch32S: true }, SZ_16M, 2 ** 30, 0x8000_0000],
    ["AArch32-S, 4K pages", { kernel: "arm32", aarch32S: true }, SZ_4K, 2 ** 30, 0x8000_0000],
  ] as const)("%s: ≤ 1.1 PTE reads per leaf, no ATS1PR", (_n, hw, leaf, iova, paBase) => {
    const { domain: d, smmu } = attachedDomain(hw as ArmSmmuOptions);
    const ats = smmu.hw.cbs[d.cfg.cbndx]!.ats1pr;
    const leaves = SZ_1G / leaf;
    const reads = oneGiB(d, leaf, iova, paBase);
    expect(reads).toBeGreaterThanOrEqual(leaves);
    expect(reads / leaves).toBeLessThanOrEqual(1.1);
    expect(smmu.hw.cbs[d.cfg.cbndx]!.ats1pr).toBe(ats);
  });

  it("qcom_iommu, 4K pages: ≤ 1.1 PTE reads per leaf", () => {
    const { domain: d } = attachedQcomDomain();
    const reads = oneGiB(d, SZ_4K, 2 ** 31, 2 ** 32);
    expect(reads / (SZ_1G / SZ_4K)).toBeLessThanOrEqual(1.1);
  });
});

describe("the driver's guard: before the first attach (no page table)", () => {
  it("one hole, with iova_to_phys_length's length (the smallest page) as its slot size", () => {
    const smmu = new ArmSmmu();
    const d = smmu.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error(String(d));
    expect(d.pgtblOps).toBeNull();
    const slot = iommuIovaToPhysLength(d, 0x1000).length;
    const seen: Array<[boolean, number, number]> = [];
    iommuIovaToPhysRuns(d, 0x1000, 0x40_0000, (r) => {
      seen.push([r.mapped, r.size, r.leafSize]);
    });
    expect(seen).toEqual([[false, 0x40_0000, slot]]);
  });
});
