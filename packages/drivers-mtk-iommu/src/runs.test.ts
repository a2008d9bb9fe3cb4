/**
 * drivers/iommu/mtk_iommu.c (issue 17): the M4U domain's run lookup — the shared v7s table's
 * one descent with iova_to_phys's 4GB-mode strip applied per leaf — agrees with one
 * iova_to_phys_length per page (which strips the same way), reads each leaf once, and
 * dereferences `dom->iop` before attach like the lookups do.
 */
import {
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
import { checkRandomRuns, referenceRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import type { MtkIommuOptions } from "./mtk-iommu.js";
import { mtkIommuStrip4gbPfn } from "./runs-4gb.js";
import { setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("mtk-iommu iovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["mt8192 (34-bit IOVA, oas 35)", { soc: "mt8192" }],
    ["mt8173, 4GB mode (bit 32 added on map, stripped on lookup)", { soc: "mt8173", enable4GB: true }],
    ["mt2712 (SHARE_PGTABLE), no 4GB mode", { soc: "mt2712" }],
  ] as const)("%s: random tables, random windows", (_n, options) => {
    // NO_PERMS: every leaf reads back with the same prot whatever was asked.
    const seen = checkRandomRuns(() => setup(options as MtkIommuOptions).d, {
      sizes: [SZ_4K, SZ_64K, SZ_1M],
      base: 0x1000_0000n,
      window: 16 * SZ_1M,
      prots: [IOMMU_READ, RW],
      numRuns: 40,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });
});

describe("4GB mode: runs report what the lookup reports", () => {
  it("a stretch contiguous in the table splits where the strip starts (stored 0x1_3fff_f000 | 0x1_4000_0000)", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    iommuMap(d, 0x10_0000, 0x3fff_f000, SZ_4K, RW); // stored 0x1_3fff_f000: below the threshold, kept
    iommuMap(d, 0x10_1000, 0x4000_0000, SZ_4K, RW); // stored 0x1_4000_0000: stripped to 0x4000_0000
    iommuMap(d, 0x10_2000, 0x4000_1000, SZ_4K, RW);
    const walk = (iova: number) => d.ops!.inspect!(d)!.walk(iova).phys;
    expect([walk(0x10_0000), walk(0x10_1000)]).toEqual([0x1_3fff_f000n, 0x1_4000_0000n]);
    const got = runsOf(d, 0x10_0000n, 0x4000n);
    expect(got.map((r) => [r.mapped, r.iova, r.phys, r.size])).toEqual([
      [true, 0x10_0000n, 0x1_3fff_f000n, 0x1000n],
      [true, 0x10_1000n, 0x4000_0000n, 0x2000n],
      [false, 0x10_3000n, 0n, 0x1000n],
    ]);
    expect(got).toEqual(referenceRuns(d, 0x10_0000n, 4, SZ_4K));
  });

  it("the strip on frame numbers: only frames ≥ 0x1_4000_0000 with bit 32 lose it", () => {
    expect(mtkIommuStrip4gbPfn(0x13_ffff)).toBe(0x13_ffff);
    expect(mtkIommuStrip4gbPfn(0x14_0000)).toBe(0x04_0000);
    expect(mtkIommuStrip4gbPfn(0x1f_ffff)).toBe(0x0f_ffff);
    // 0x2_4000_0000 has no bit 32 (oas 33 never maps it; the strip leaves it alone).
    expect(mtkIommuStrip4gbPfn(0x24_0000)).toBe(0x24_0000);
  });

  it("a visitor that looks up runs again from inside a lookup gets its own front", () => {
    const { d } = setup({ soc: "mt8173", enable4GB: true });
    iommuMap(d, 0x10_0000, 0x8000_0000, SZ_1M, RW);
    const inner: bigint[] = [];
    const outer = runsOf(d, 0x10_0000n, BigInt(SZ_1M));
    iommuIovaToPhysRuns(d, 0x10_0000, SZ_1M, () => {
      iommuIovaToPhysRuns(d, 0x10_0000, SZ_4K, (r) => {
        inner.push(BigInt(r.phys));
      });
    });
    expect(outer[0]!.phys).toBe(0x8000_0000n);
    expect(inner).toEqual([0x8000_0000n]);
  });
});

describe("one descent: 1 GiB in one run, one walk, ≤ 1.1 PTE reads per leaf", () => {
  it.each([
    ["mt8192, 16M supersections (the largest leaf)", { soc: "mt8192" }, SZ_16M],
    ["mt8192, 4K pages", { soc: "mt8192" }, SZ_4K],
    ["mt8173 4GB mode, 16M supersections", { soc: "mt8173", enable4GB: true }, SZ_16M],
    ["mt8173 4GB mode, 4K pages", { soc: "mt8173", enable4GB: true }, SZ_4K],
  ] as const)("%s", (_n, options, leaf) => {
    const { d } = setup(options as MtkIommuOptions);
    const pa = 0x4000_0000 + leaf; // aligned to `leaf`, not to the next larger size
    iommuMap(d, 0x4000_0000, pa, SZ_1G, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, BigInt(SZ_1G));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ mapped: true, phys: BigInt(pa), size: BigInt(SZ_1G), leafSize: leaf });
    const leaves = SZ_1G / leaf;
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBeGreaterThanOrEqual(leaves);
    expect(d.counters.pteReads / leaves).toBeLessThanOrEqual(1.1);
  });
});

describe("before the first attach", () => {
  it("dom->iop is NULL: EFAULT, as iova_to_phys", () => {
    const { d } = setup({}, { attach: false });
    let err: unknown;
    try {
      iommuIovaToPhysRuns(d, 0, SZ_1M, () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IommuError);
    expect(err).toMatchObject({ code: "EFAULT", op: "mtk_iommu_iova_to_phys" });
  });
});
