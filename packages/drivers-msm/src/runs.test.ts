/**
 * drivers/iommu/msm_iommu.c (issue 17): the MSM domain's run lookup — the v7s table's one
 * descent, never the hardware V2P — agrees with one iova_to_phys_length per page (in
 * `"checked"` mode each of those is also compared with V2PPR/PAR), reads each leaf once, and
 * dereferences `priv->iop` like the driver's other ops.
 */
import {
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuIovaToPhysRuns,
  iommuMap,
  SZ_1G,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
} from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import type { MsmPriv } from "./msm-domain.js";
import { setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("msm iovaToPhysRuns vs one lookup per page", () => {
  it.each(["software", "checked"] as const)("lengthMode %s: random tables, random windows", (mode) => {
    const made: MsmPriv[] = [];
    const seen = checkRandomRuns(
      () => {
        const { d } = setup({ lengthMode: mode });
        made.push(d);
        return d;
      },
      {
        sizes: [SZ_4K, SZ_64K, SZ_1M],
        base: 0x1000_0000n,
        window: 16 * SZ_1M,
        prots: [IOMMU_READ, RW, RW | IOMMU_NOEXEC],
        numRuns: 40,
      },
    );
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
    // "checked": every reference lookup also ran V2PPR (one CTX_TLBIALL each); none disagreed.
    expect(made.reduce((n, d) => n + d.v2pMismatches, 0)).toBe(0);
    const flushes = made.reduce((n, d) => n + d.counters.flushAll, 0);
    if (mode === "checked") expect(flushes).toBeGreaterThan(0);
    else expect(flushes).toBe(0);
  });

  it("runs never touch the hardware: no CTX_TLBIALL, no V2PPR", () => {
    const { iommu, d } = setup({ lengthMode: "checked" });
    iommuMap(d, 0x2000_0000, 0x5300_0000, SZ_16M, IOMMU_READ);
    const ctx = iommu.context(iommu.master.num)!;
    const [tlbiall, flushAll] = [ctx.tlbiall, d.counters.flushAll];
    expect(runsOf(d, 0x2000_0000n, BigInt(SZ_16M))).toHaveLength(1);
    expect([ctx.tlbiall, d.counters.flushAll, d.v2pMismatches]).toEqual([tlbiall, flushAll, 0]);
  });
});

describe("one descent: 1 GiB in one run, one walk, ≤ 1.1 PTE reads per leaf", () => {
  it.each([
    ["16M supersections (the largest leaf)", SZ_16M],
    ["1M sections", SZ_1M],
    ["4K pages", SZ_4K],
  ] as const)("%s", (_n, leaf) => {
    const { d } = setup();
    // PA aligned to the leaf but not to the next larger size: iommu_map keeps to `leaf`.
    const pa = 0x8000_0000 + leaf;
    iommuMap(d, 0x4000_0000, pa, SZ_1G, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, BigInt(SZ_1G));
    expect(runs).toEqual([
      { mapped: true, iova: 0x4000_0000n, phys: BigInt(pa), size: BigInt(SZ_1G), prot: RW, leafSize: leaf },
    ]);
    const leaves = SZ_1G / leaf;
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBeGreaterThanOrEqual(leaves);
    expect(d.counters.pteReads / leaves).toBeLessThanOrEqual(1.1);
  });
});

describe("before the first attach", () => {
  it("priv->iop is NULL: EFAULT naming the dereference", () => {
    const { d } = setup({}, { attach: false });
    let err: unknown;
    try {
      iommuIovaToPhysRuns(d, 0, SZ_1M, () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IommuError);
    expect(err).toMatchObject({ code: "EFAULT", op: "msm_iommu_iova_to_phys_runs" });
  });
});
