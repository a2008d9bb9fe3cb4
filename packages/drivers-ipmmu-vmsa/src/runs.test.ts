/**
 * drivers/iommu/ipmmu-vmsa.c (issue 17): the IPMMU domain's run lookup — ARM_32_LPAE_S1's one
 * descent behind the driver's unchecked `domain->iop` — agrees with one iova_to_phys_length
 * per page, reads each leaf once, and oopses before the first attach like the lookups do.
 */
import {
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuIovaToPhysLength,
  iommuIovaToPhysRuns,
  iommuMap,
  SZ_1G,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import type { IpmmuVmsaDomain } from "./domain.js";
import { IpmmuVmsa, type IpmmuVmsaOptions } from "./ipmmu-vmsa.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function attached(options: IpmmuVmsaOptions = { soc: "r8a7795" }): IpmmuVmsaDomain {
  const d = new IpmmuVmsa(options).device().domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`alloc: ${d}`);
  return d;
}

describe("ipmmu-vmsa iovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["Gen3 (r8a7795)", { soc: "r8a7795" }],
    ["Gen2 (r8a7790)", { soc: "r8a7790" }],
    ["Gen4 (r8a779f0), fixNullIop", { soc: "r8a779f0", fixNullIop: true }],
  ] as const)("%s: random tables, random windows (4K and 2M leaves)", (_n, options) => {
    const seen = checkRandomRuns(() => attached(options as IpmmuVmsaOptions), {
      sizes: [SZ_4K, SZ_2M],
      base: 0xbf00_0000n,
      window: 16 * SZ_2M,
      prots: [IOMMU_READ, RW, RW | IOMMU_NOEXEC],
      numRuns: 50,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });
});

describe("one descent: 1 GiB in one run, one walk, ≤ 1.1 PTE reads per leaf", () => {
  it.each([
    ["2M blocks", SZ_2M, 0x1_0000_0000 + SZ_2M],
    ["4K pages", SZ_4K, 0x1_0000_0000 + SZ_4K],
  ] as const)("%s", (_n, leaf, pa) => {
    const d = attached();
    iommuMap(d, SZ_1G, pa, SZ_1G, RW);
    d.counters.reset();
    const runs = runsOf(d, BigInt(SZ_1G), BigInt(SZ_1G));
    expect(runs).toEqual([
      { mapped: true, iova: BigInt(SZ_1G), phys: BigInt(pa), size: BigInt(SZ_1G), prot: RW, leafSize: leaf },
    ]);
    const leaves = SZ_1G / leaf;
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBeGreaterThanOrEqual(leaves);
    expect(d.counters.pteReads / leaves).toBeLessThanOrEqual(1.1);
  });
});

describe("before the first attach (no context, no table)", () => {
  it("the driver's unchecked domain->iop: EFAULT and one `bugs`, as iova_to_phys_length", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const d = mmu.domainAllocPaging();
    const bugs = d.counters.bugs;
    expect(() => iommuIovaToPhysLength(d, 0x1000)).toThrow(IommuError);
    let err: unknown;
    try {
      iommuIovaToPhysRuns(d, 0x1000, SZ_2M, () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IommuError);
    expect((err as IommuError).code).toBe("EFAULT");
    expect((err as IommuError).message).toContain("ipmmu_iova_to_phys_runs");
    expect(d.counters.bugs).toBe(bugs + 2);
  });

  it("fixNullIop: one hole of the smallest page, as the fixed iova_to_phys_length answers", () => {
    const d = new IpmmuVmsa({ soc: "r8a7795", fixNullIop: true }).domainAllocPaging();
    expect(iommuIovaToPhysLength(d, 0x1000).length).toBe(SZ_4K);
    const seen: number[] = [];
    iommuIovaToPhysRuns(d, 0x1000, SZ_2M, (r) => {
      seen.push(r.mapped ? -1 : r.leafSize);
    });
    expect(seen).toEqual([SZ_4K]);
  });
});
