/**
 * drivers/iommu/apple-dart.c (issue 17): the DART domain's run lookup — io-pgtable DART's one
 * descent behind the driver's finalize guard — agrees with one iova_to_phys_length per page and
 * reads each leaf once.
 */
import {
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhysLength,
  iommuIovaToPhysRuns,
  iommuMap,
  SZ_4K,
  SZ_16K,
} from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { AppleDart, type AppleDartOptions } from "./apple-dart.js";
import type { AppleDartDomain } from "./domain.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function attached(options: AppleDartOptions): AppleDartDomain {
  const d = new AppleDart(options).device([0]).domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`alloc: ${d}`);
  return d;
}

describe("apple-dart iovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["t8103, 4K pages", { variant: "t8103", pgsize: SZ_4K }, SZ_4K, 0x3ff0_0000n],
    ["t6000, 16K pages (16K kernel)", { variant: "t6000", pageSize: SZ_16K }, SZ_16K, 0x0e00_0000n],
    [
      "t8110, 16K pages, 36-bit VA",
      { variant: "t8110", vaBits: 36, pageSize: SZ_16K },
      SZ_16K,
      0x7_fe00_0000n,
    ],
  ] as const)("%s: random tables, random windows", (_n, options, pg, base) => {
    const seen = checkRandomRuns(() => attached(options as AppleDartOptions), {
      sizes: [pg],
      base,
      window: pg * 4096,
      prots: [IOMMU_READ, RW, RW | IOMMU_CACHE],
      numRuns: 60,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });
});

describe("one descent on a DART domain (DART has no blocks: its largest leaf is the page)", () => {
  it.each([
    ["t6000, 16K pages", { variant: "t6000", pageSize: SZ_16K }, 65536],
    ["t8103, 4K pages", { variant: "t8103", pgsize: SZ_4K }, 262144],
  ] as const)("%s: 1 GiB is one run, one walk, ≤ 1.1 PTE reads per leaf", (_n, options, leaves) => {
    const d = attached(options as AppleDartOptions);
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ mapped: true, phys: 0x8000_0000n, size: 0x4000_0000n });
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBeGreaterThanOrEqual(leaves);
    expect(d.counters.pteReads / leaves).toBeLessThanOrEqual(1.1);
  });
});

describe("before finalize (no table, pgsize_bitmap 0)", () => {
  it("one hole over the whole space, as iova_to_phys_length answers (unmapped, 2^64)", () => {
    const d = new AppleDart({ pgsize: SZ_4K }).domainAllocPaging({ master: null });
    expect(d.pgtblOps).toBeNull();
    expect(iommuIovaToPhysLength(d, 0x1234_5000).length).toBe(2 ** 64);
    const walks = d.counters.walks;
    const holes: number[] = [];
    const n = iommuIovaToPhysRuns(d, 0x1000, 0x10_0000, (r) => {
      holes.push(r.mapped ? -1 : r.leafSize);
    });
    expect(n).toBe(1);
    expect(holes).toEqual([2 ** 64]);
    expect(d.counters.walks - walks).toBe(1);
  });
});
