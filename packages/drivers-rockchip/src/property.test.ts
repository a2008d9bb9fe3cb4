/**
 * drivers/iommu/rockchip-iommu.c: random map / unmap / lookup sequences through the core
 * against the reference model (testing/rockchip-ref.ts), checking every touched IOVA:
 * translation (every leaf 4 KiB), the length contract, the hole length (4 KiB under a valid
 * DTE, 4 MiB otherwise) and the inspector; for v1 and v2 (40-bit PAs).
 */
import {
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IommuError,
  iommuDomainInspector,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
} from "@iommu/core";
import { checkInspectorWalk, checkLengthContract, checkTranslation } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RockchipIommu } from "./driver.js";
import type { RockchipDomain } from "./rockchip-iommu.js";
import { DTE_SPAN, RockchipRef, SPAGE } from "./testing/rockchip-ref.js";

const BASE = 0x1000_0000;
const WIN = 8 * DTE_SPAN;

type Op =
  | { k: "map"; iova: number; pa: number; size: number; prot: number }
  | { k: "unmap"; iova: number; size: number }
  | { k: "phys"; iova: number };

const align = fc.constantFrom(SPAGE, SPAGE, 0x4000, 0x1_0000, 0x10_0000, DTE_SPAN);
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => n * SPAGE) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => n * 0x4_0000) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map((n) => n * 0x10_0000 + SPAGE) },
);

function opArb(paBits: number): fc.Arbitrary<Op> {
  const iovaArb = fc
    .tuple(align, fc.integer({ min: 0, max: WIN / SPAGE - 1 }))
    .map(([a, k]) => BASE + Math.floor((k * SPAGE) / a) * a);
  const mapArb = fc
    .record({
      iova: iovaArb,
      size: sizeArb,
      paAlign: align,
      paPage: fc.integer({ min: 0, max: 2 ** (paBits - 12) - 1 }),
      prot: fc.constantFrom(IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE, 0, IOMMU_READ | IOMMU_CACHE),
    })
    .map(({ iova, size, paAlign, paPage, prot }): Op => {
      size = Math.min(size, BASE + WIN - iova);
      const pa = Math.min(Math.floor((paPage * SPAGE) / paAlign) * paAlign, 2 ** paBits - size);
      return { k: "map", iova, pa, size, prot };
    });
  const unmapArb = fc
    .record({ iova: iovaArb, size: sizeArb })
    .map(({ iova, size }): Op => ({ k: "unmap", iova, size: Math.min(size, BASE + WIN - iova) }));
  const physArb = fc.integer({ min: 0, max: WIN - 1 }).map((o): Op => ({ k: "phys", iova: BASE + o }));
  return fc.oneof(
    { weight: 5, arbitrary: mapArb },
    { weight: 3, arbitrary: unmapArb },
    { weight: 2, arbitrary: physArb },
  );
}

const out = new PhysLength();
const seen = { conflicts: 0, partialUnmaps: 0, holes4M: 0 };

function checkIova(d: RockchipDomain, ref: RockchipRef, iova: number, where: string): void {
  checkTranslation(d, ref.map, iova, { exactLeaf: true, where });
  checkLengthContract(d, ref.map, iova, where);
  if (iova % (4 * SPAGE) < SPAGE)
    checkInspectorWalk(d, iommuDomainInspector(d)!, iova, {
      ref: ref.map,
      protMask: IOMMU_READ | IOMMU_WRITE,
      where,
    });
  iommuIovaToPhysLength(d, iova, out);
  if (!out.mapped) {
    if (out.length !== ref.holeLength(iova))
      throw new Error(`${where}: hole 0x${out.length.toString(16)} at 0x${iova.toString(16)}`);
    if (out.length === DTE_SPAN) seen.holes4M++;
  }
}

function runSequence(variant: "v1" | "v2", ops: readonly Op[]): number {
  const iommu = new RockchipIommu({ variant });
  const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters() }) as RockchipDomain;
  const ref = new RockchipRef();
  let executed = 0;
  ops.forEach((op, n) => {
    const where = `op ${n} ${JSON.stringify(op)}`;
    if (op.k === "map") {
      const exp = ref.iommuMap(op.iova, op.pa, op.size, op.prot);
      let got = { ret: 0, mapped: op.size, unrolled: 0 };
      try {
        iommuMap(d, op.iova, op.pa, op.size, op.prot);
      } catch (e) {
        if (!(e instanceof IommuError)) throw e;
        got = { ret: -e.errno, mapped: e.mapped, unrolled: e.unrolled };
      }
      expect(got, where).toEqual(exp);
      if (exp.ret) seen.conflicts++;
    } else if (op.k === "unmap") {
      const n = ref.iommuUnmap(op.iova, op.size);
      expect(iommuUnmap(d, op.iova, op.size), where).toBe(n);
      if (n > 0 && n < op.size) seen.partialUnmaps++;
    }
    executed++;
    const start = op.k === "phys" ? op.iova : op.iova;
    const size = op.k === "phys" ? 1 : op.size;
    for (let a = start; a < op.iova + size; a += SPAGE) checkIova(d, ref, a, where);
  });
  expect(d.counters.warns).toBe(0); // the driver never WARNs on these paths
  return executed;
}

describe("rockchip: random sequences against the reference", () => {
  for (const [variant, paBits, runs] of [
    ["v1", 32, 66],
    ["v2", 40, 25],
  ] as const) {
    it(`${variant}: ${runs} sequences`, () => {
      let executed = 0;
      fc.assert(
        fc.property(fc.array(opArb(paBits), { minLength: 120, maxLength: 220 }), (ops) => {
          executed += runSequence(variant, ops);
        }),
        { numRuns: runs, seed: 0x52_4b00 + runs, endOnFailure: true },
      );
      if (variant === "v1") {
        expect(executed).toBeGreaterThanOrEqual(10_000);
        for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(20);
      }
    });
  }
});
