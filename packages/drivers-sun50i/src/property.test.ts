/**
 * drivers/iommu/sun50i-iommu.c: random map / unmap / lookup sequences through the core against
 * the reference model (testing/sun50i-ref.ts), checking every touched IOVA: translation, the
 * length contract, the hole length (4 KiB under a valid DTE, 1 MiB otherwise) and the
 * inspector's walk and ACI permissions.
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
import { Sun50iIommu } from "./driver.js";
import type { Sun50iDomain } from "./sun50i-iommu.js";
import { DTE_SPAN, SPAGE, Sun50iRef } from "./testing/sun50i-ref.js";

const BASE = 0x2000_0000;
const WIN = 12 * DTE_SPAN;

type Op =
  | { k: "map"; iova: number; pa: number; size: number; prot: number }
  | { k: "unmap"; iova: number; size: number }
  | { k: "phys"; iova: number };

const align = fc.constantFrom(SPAGE, SPAGE, 0x1_0000, DTE_SPAN);
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 24 }).map((n) => n * SPAGE) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => n * 0x8_0000) },
);

const opArb: fc.Arbitrary<Op> = (() => {
  const iovaArb = fc
    .tuple(align, fc.integer({ min: 0, max: WIN / SPAGE - 1 }))
    .map(([a, k]) => BASE + Math.floor((k * SPAGE) / a) * a);
  const mapArb = fc
    .record({
      iova: iovaArb,
      size: sizeArb,
      paPage: fc.integer({ min: 0, max: 2 ** 20 - 1 }),
      prot: fc.constantFrom(IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE, 0, IOMMU_READ | IOMMU_CACHE),
    })
    .map(({ iova, size, paPage, prot }): Op => {
      size = Math.min(size, BASE + WIN - iova);
      return { k: "map", iova, pa: Math.min(paPage * SPAGE, 2 ** 32 - size), size, prot };
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
})();

const out = new PhysLength();
const seen = { busy: 0, partialUnmaps: 0, holes1M: 0 };

function checkIova(d: Sun50iDomain, ref: Sun50iRef, iova: number, where: string): void {
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
    if (out.length === DTE_SPAN) seen.holes1M++;
  }
}

function runSequence(ops: readonly Op[]): number {
  const iommu = new Sun50iIommu();
  const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters() }) as Sun50iDomain;
  const ref = new Sun50iRef();
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
      if (exp.ret) seen.busy++;
    } else if (op.k === "unmap") {
      const n = ref.iommuUnmap(op.iova, op.size);
      expect(iommuUnmap(d, op.iova, op.size), where).toBe(n);
      if (n > 0 && n < op.size) seen.partialUnmaps++;
    }
    executed++;
    const size = op.k === "phys" ? 1 : op.size;
    for (let a = op.iova; a < op.iova + size; a += SPAGE) checkIova(d, ref, a, where);
  });
  expect(d.counters.warns).toBe(0);
  return executed;
}

describe("sun50i: random sequences against the reference", () => {
  it("70 sequences", () => {
    let executed = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 120, maxLength: 220 }), (ops) => {
        executed += runSequence(ops);
      }),
      { numRuns: 70, seed: 0x50_5000, endOnFailure: true },
    );
    expect(executed).toBeGreaterThanOrEqual(10_000);
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(20);
  });
});
