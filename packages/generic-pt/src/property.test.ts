/**
 * Property tests per format against an interval-map reference: random map / unmap / lookup
 * sequences through @iommu/core (10,000 operations per format). The reference predicts every
 * result: a map succeeds iff its range is free (else -EADDRINUSE with nothing left behind),
 * unmapping a whole earlier map returns its length, unmap starting in a hole returns 0, and
 * iova_to_phys_length describes a unit that lies inside one mapping (or inside free space).
 */

import { IOMMU_READ, IOMMU_WRITE, type IommuError, iommuMap, iommuUnmap, PhysLength } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import type { PtFormatName } from "./formats/index.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SZ_4K = 0x1000;
const SZ_2M = 0x200000;
const SZ_1G = 0x40000000;
const SPACE = 2 ** 34;

interface Extent {
  va: number;
  len: number;
  pa: number;
}

type Op =
  | { kind: "map"; va: number; len: number; delta: number }
  | { kind: "unmap"; pick: number }
  | { kind: "unmapHole"; va: number; len: number }
  | { kind: "lookup"; va: number }
  | { kind: "lookupIn"; pick: number; frac: number }
  | { kind: "mapOver"; pick: number; frac: number; pages: number };

const alignedVa = (unit: number) => fc.integer({ min: 0, max: SPACE / unit - 1 }).map((n) => n * unit);

const mapOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("map" as const),
    va: alignedVa(SZ_4K),
    len: fc.integer({ min: 1, max: 600 }).map((n) => n * SZ_4K),
    delta: fc.integer({ min: 0, max: 1 << 20 }).map((n) => n * SZ_4K),
  }),
  fc.record({
    kind: fc.constant("map" as const),
    va: alignedVa(SZ_2M).map((v) => v - (v % (SZ_2M * 4)) + SZ_4K * 0),
    len: fc.integer({ min: 1, max: 8 }).map((n) => n * SZ_2M),
    delta: fc.integer({ min: 0, max: 1 << 10 }).map((n) => n * SZ_2M),
  }),
  fc.record({
    kind: fc.constant("map" as const),
    va: alignedVa(SZ_1G),
    len: fc.constantFrom(SZ_1G, SZ_1G + SZ_2M * 3, SZ_1G * 2),
    delta: fc.integer({ min: 0, max: 8 }).map((n) => n * SZ_1G),
  }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: mapOp, weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("unmap" as const), pick: fc.nat() }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant("unmapHole" as const),
      va: alignedVa(SZ_4K),
      len: fc.integer({ min: 1, max: 64 }).map((n) => n * SZ_4K),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("lookup" as const),
      va: fc.integer({ min: 0, max: SPACE - 1 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("lookupIn" as const),
      pick: fc.nat(),
      frac: fc.double({ min: 0, max: 0.999, noNaN: true }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("mapOver" as const),
      pick: fc.nat(),
      frac: fc.double({ min: 0, max: 0.999, noNaN: true }),
      pages: fc.integer({ min: 1, max: 1024 }),
    }),
    weight: 1,
  },
);

function find(ext: readonly Extent[], va: number): Extent | undefined {
  return ext.find((e) => va >= e.va && va < e.va + e.len);
}

function overlaps(ext: readonly Extent[], va: number, len: number): boolean {
  return ext.some((e) => va < e.va + e.len && e.va < va + len);
}

function runOps(format: PtFormatName, ops: readonly Op[]): void {
  const d = createPtDomain(format);
  const ext: Extent[] = [];
  const out = new PhysLength();
  for (const op of ops) {
    if (op.kind === "map") {
      const pa = op.va + op.delta;
      if (op.va + op.len > SPACE) continue;
      const busy = overlaps(ext, op.va, op.len);
      let code: string | undefined;
      try {
        iommuMap(d, op.va, pa, op.len, RW);
      } catch (e) {
        code = (e as IommuError).code;
        expect((e as IommuError).unrolled).toBe((e as IommuError).mapped);
      }
      expect(code).toBe(busy ? "EADDRINUSE" : undefined);
      if (!busy) ext.push({ va: op.va, len: op.len, pa });
    } else if (op.kind === "unmap") {
      if (ext.length === 0) continue;
      const e = ext.splice(op.pick % ext.length, 1)[0]!;
      expect(iommuUnmap(d, e.va, e.len)).toBe(e.len);
    } else if (op.kind === "unmapHole") {
      if (find(ext, op.va)) continue;
      expect(iommuUnmap(d, op.va, op.len)).toBe(0);
    } else if (op.kind === "mapOver") {
      if (ext.length === 0) continue;
      const t = ext[op.pick % ext.length]!;
      const va = t.va + Math.floor((t.len / SZ_4K) * op.frac) * SZ_4K;
      const len = op.pages * SZ_4K;
      let code: string | undefined;
      try {
        iommuMap(d, va, va, len, RW);
      } catch (e) {
        code = (e as IommuError).code;
      }
      expect(code).toBe("EADDRINUSE");
    } else {
      const va =
        op.kind === "lookup" || ext.length === 0
          ? op.kind === "lookup"
            ? op.va
            : 0
          : (() => {
              const t = ext[op.pick % ext.length]!;
              return t.va + Math.floor(t.len * op.frac);
            })();
      d.pt.iovaToPhysLength(va, out);
      const e = find(ext, va);
      const L = out.length;
      const base = Math.floor(va / L) * L;
      if (e) {
        expect(out.mapped).toBe(true);
        expect(out.physNumber).toBe(e.pa + (va - e.va));
        expect(base >= e.va && base + L <= e.va + e.len).toBe(true);
        expect((out.physNumber - (va - base)) % L).toBe(0);
        expect(d.pt.iovaToPhys(va)).toBe(e.pa + (va - e.va));
      } else {
        expect(out.mapped).toBe(false);
        expect(overlaps(ext, base, L)).toBe(false);
        expect(d.pt.iovaToPhys(va)).toBe(0);
      }
    }
  }
  for (const e of ext) expect(iommuUnmap(d, e.va, e.len)).toBe(e.len);
  d.pt.deinit();
  expect(d.pt.alloc.liveCount).toBe(0);
}

describe("generic_pt vs an interval map", () => {
  for (const format of ["amdv1", "vtdss", "x86_64", "riscv"] as const) {
    it(`${format}: 10,000 random map/unmap/lookup operations`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 200, maxLength: 200 }), (ops) => runOps(format, ops)),
        { numRuns: 50, seed: 0x9e3779b1 ^ format.length },
      );
    });
  }
});
