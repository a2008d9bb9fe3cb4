// drivers/iommu/fsl_pamu_domain.c, fsl_pamu_iova_to_phys() read as a range (issue 17): the run
// lookup against one iova_to_phys_length per page (the shared kit) and against the core's
// length-step fallback over the whole 64-bit space; one walk, no entry read.
import {
  IommuCounters,
  type IommuDomainOps,
  iommuIovaToPhysRuns,
  PHYS_RUN_PROT_UNKNOWN,
  SZ_4K,
} from "@iommu/core";
import { checkRandomRuns, type RunRecord, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { FslPamu } from "./fsl-pamu-domain.js";
import { pamuProtOf } from "./testing/prot-of.js";

const A = 2 ** 36;

function domain() {
  const d = new FslPamu().domainAllocPagingFlags(0, { counters: new IommuCounters() });
  if (typeof d === "number") throw new Error(String(d));
  return d;
}

describe("fsl-pamu iovaToPhysRuns", () => {
  it("random windows across the aperture end equal one length lookup per page, in one walk", () => {
    // iommu_map fails on this domain (no map_pages): the kit's maps are refused, the window stays.
    const { mixed } = checkRandomRuns(domain, {
      sizes: [SZ_4K],
      base: BigInt(A - 2048 * SZ_4K),
      window: 4096 * SZ_4K,
      prots: [3],
      protOf: pamuProtOf,
      numRuns: 100,
    });
    expect(mixed).toBeGreaterThan(0);
  });

  it("the whole 64-bit space: 2 runs, 1 walk, 0 pteReads — 29 length lookups without the op", () => {
    const d = domain();
    const got = runsOf(d, 0n, 2n ** 64n);
    expect(got).toEqual([
      { mapped: true, iova: 0n, phys: 0n, size: BigInt(A), prot: 3, leafSize: A },
      { mapped: false, iova: BigInt(A), phys: 0n, size: 2n ** 64n - BigInt(A), prot: 0, leafSize: 0 },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(0);
    // The core's fallback (the op removed) steps with fslPamuIovaToPhysLength: same runs
    // but prot unknown, 1 + 28 lookups.
    const e = domain();
    const { iovaToPhysRuns: _, ...rest } = e.ops as IommuDomainOps;
    e.ops = rest;
    const fallback = runsOf(e, 0n, 2n ** 64n);
    expect(fallback.map((r: RunRecord) => ({ ...r, prot: r.mapped ? 3 : 0 }))).toEqual(got);
    expect(fallback[0]!.prot).toBe(PHYS_RUN_PROT_UNKNOWN);
    expect(e.counters.walks).toBe(29);
  });

  it("a hole's leafSize is the length lookup's unit there; ranges inside or above the aperture are one run", () => {
    const d = domain();
    const leafs: number[] = [];
    expect(
      iommuIovaToPhysRuns(d, 2 ** 40 + 0x1000, 2 ** 41, (r) => {
        leafs.push(r.leafSize);
      }),
    ).toBe(1);
    // [2^40, 2^41) then [2^41, 2^42): the smallest slot touched is 2^40.
    expect(leafs).toEqual([2 ** 40]);
    expect(runsOf(d, 0x1234_5000n, 0x1000_0000n)).toEqual([
      { mapped: true, iova: 0x1234_5000n, phys: 0x1234_5000n, size: 0x1000_0000n, prot: 3, leafSize: A },
    ]);
    // IOVA 0 is mapped (phys 0): a run says so, where a bare address (iommu_iova_to_phys: 0) cannot.
    expect(runsOf(d, 0n, 0x1000n)[0]).toMatchObject({ mapped: true, phys: 0n });
    expect(d.counters.pteReads).toBe(0);
  });
});
