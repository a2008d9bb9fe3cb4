/**
 * drivers/iommu/exynos-iommu.c: random map / unmap / lookup sequences through the core
 * (`iommu_map`, `iommu_unmap`, `iommu_iova_to_phys_length`) against the reference model
 * (testing/exynos-ref.ts), checking every touched IOVA: translation and exact leaf size, the
 * length contract, the hole length (4 KiB under a table, 1 MiB otherwise) and the inspector.
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
import type { ExynosDomain } from "./exynos-iommu.js";
import { ExynosSysmmu } from "./sysmmu.js";
import { ExynosRef, LPAGE, SECT, SPAGE } from "./testing/exynos-ref.js";

const BASE = 0x4000_0000;
const WIN = 16 * SECT;

type Op =
  | { k: "map"; iova: number; pa: number; size: number; prot: number }
  | { k: "unmap"; iova: number; size: number }
  | { k: "phys"; iova: number };

const align = fc.constantFrom(SPAGE, SPAGE, LPAGE, LPAGE, SECT);
const sizeArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 24 }).map((n) => n * SPAGE) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }).map((n) => n * LPAGE) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 }).map((n) => n * SECT + SPAGE * (n - 1)) },
);

function opArb(paBits: number): fc.Arbitrary<Op> {
  const iovaArb = fc
    .tuple(align, fc.integer({ min: 0, max: WIN / SPAGE - 1 }))
    .map(([a, k]) => BASE + Math.floor((k * SPAGE) / a) * a);
  const mapArb = fc
    .record({
      iova: iovaArb,
      size: sizeArb,
      same: fc.boolean(),
      paAlign: align,
      paPage: fc.integer({ min: 0, max: 2 ** (paBits - 12) - 1 }),
      prot: fc.constantFrom(
        IOMMU_READ,
        IOMMU_WRITE,
        IOMMU_READ | IOMMU_WRITE,
        0,
        IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE,
      ),
    })
    .map(({ iova, size, same, paAlign, paPage, prot }): Op => {
      size = Math.min(size, BASE + WIN - iova);
      // Half the maps keep iova and pa congruent modulo 1 MiB, so sections and large pages occur.
      let pa = Math.floor((paPage * SPAGE) / paAlign) * paAlign;
      if (same) pa = pa - (pa % SECT) + (iova % SECT);
      pa = Math.min(pa, 2 ** paBits - size);
      return { k: "map", iova, pa: pa - (pa % SPAGE), size, prot };
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

function checkIova(d: ExynosDomain, ref: ExynosRef, iova: number, where: string): void {
  checkTranslation(d, ref.map, iova, { exactLeaf: true, where });
  checkLengthContract(d, ref.map, iova, where);
  if (iova % (4 * SPAGE) < SPAGE)
    checkInspectorWalk(d, iommuDomainInspector(d)!, iova, {
      ref: ref.map,
      protMask: d.hw.major >= 5 ? IOMMU_READ | IOMMU_WRITE : 0,
      where,
    });
  iommuIovaToPhysLength(d, iova, out);
  if (!out.mapped && out.length !== ref.holeLength(iova))
    throw new Error(
      `${where}: hole at 0x${iova.toString(16)} of 0x${out.length.toString(16)}, expected 0x${ref.holeLength(iova).toString(16)}`,
    );
}

/** What the sequences exercised (asserted, so the property is never vacuous). */
const seen = { conflicts: 0, sections: 0, large: 0, holeUnmaps: 0, partialWarns: 0 };

/** Run `ops` on a fresh domain; returns the operations executed. */
function runSequence(version: string, strict: boolean, ops: readonly Op[]): number {
  const mmu = new ExynosSysmmu({ version, strict });
  const d = mmu.domainAllocPagingFlags(0, { counters: new IommuCounters() }) as ExynosDomain;
  const ref = new ExynosRef(strict);
  let executed = 0;
  ops.forEach((op, n) => {
    const where = `op ${n} ${JSON.stringify(op)}`;
    const warns = d.counters.warns;
    const refWarns = ref.warns;
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
      if (exp.ret === -98) seen.conflicts++;
    } else if (op.k === "unmap") {
      const before = ref.map.bytes;
      const n = ref.iommuUnmap(op.iova, op.size);
      expect(iommuUnmap(d, op.iova, op.size), where).toBe(n);
      if (n > before - ref.map.bytes) seen.holeUnmaps++;
    }
    executed++;
    expect(d.counters.warns - warns, `${where}: WARNs`).toBe(ref.warns - refWarns);
    if (op.k === "unmap" && ref.warns > refWarns) seen.partialWarns++;
    const size = op.k === "phys" ? SPAGE : op.size;
    const start = op.iova - (op.iova % SPAGE);
    for (let a = start; a < op.iova + size; a += SPAGE)
      checkIova(d, ref, a + (op.k === "phys" ? op.iova % SPAGE : 0), where);
  });
  expect(d.counters.warns, "total WARNs").toBe(ref.warns);
  for (const e of ref.map.entries) {
    if (e.leaf === SECT) seen.sections++;
    if (e.leaf === LPAGE) seen.large++;
  }
  return executed;
}

describe("exynos: random sequences against the reference", () => {
  for (const [version, paBits, runs, strict] of [
    ["5.0", 36, 70, false],
    ["3.3", 32, 20, false],
    ["5.0", 36, 12, true],
  ] as const) {
    it(`SysMMU ${version}${strict ? " strict" : ""}: ${runs} sequences`, () => {
      let executed = 0;
      fc.assert(
        fc.property(fc.array(opArb(paBits), { minLength: 100, maxLength: 200 }), (ops) => {
          executed += runSequence(version, strict, ops);
        }),
        { numRuns: runs, seed: 20250202 + runs, endOnFailure: true },
      );
      if (version === "5.0" && !strict) {
        expect(executed).toBeGreaterThanOrEqual(10_000);
        for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(20);
      }
    });
  }
});
