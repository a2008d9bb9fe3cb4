/**
 * Property tests per format against the @iommu/testing reference map: random map / unmap /
 * lookup sequences through @iommu/core (10,000 operations per format, none skipped). The
 * reference predicts every result: a map succeeds iff its range is free (else -EADDRINUSE
 * with nothing left behind), unmapping a whole earlier map returns its length, unmap
 * starting in a hole returns 0 (and one starting in a mapping stops at the first hole), and
 * iova_to_phys_length describes a unit that lies inside one mapping (or inside free space).
 */

import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type IommuError,
  iommuMap,
  iommuUnmap,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { checkLengthContract, type PageTableSemantics, ReferenceMap } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import type { PtFormatName } from "./formats/index.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SPACE = 2 ** 34;

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

/** generic_pt as iommu_map/iommu_unmap callers see it (iommu_pt.h). */
const sem = (pgsizeBitmap: number): PageTableSemantics => ({
  pgsizeBitmap,
  mapConflict: "EADDRINUSE",
  mapOverTable: "fail",
  unmapHole: 0,
  unmapPartialLeaf: "whole",
  unmapRange: "leaf-walk",
});

function runOps(format: PtFormatName, ops: readonly Op[]): void {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(undefined, { counters });
  const d = createPtDomain(format, { allocator, counters });
  const s = sem(d.pgsizeBitmap);
  const ref = new ReferenceMap();
  const map = (va: number, pa: number, len: number) => {
    const want = ref.map(va, pa, len, RW, s);
    let code: string | undefined;
    try {
      iommuMap(d, va, pa, len, RW);
    } catch (e) {
      code = (e as IommuError).code;
      expect((e as IommuError).unrolled).toBe((e as IommuError).mapped);
    }
    expect(code).toBe(want.ok ? undefined : want.errno);
    return code;
  };
  for (const op of ops) {
    if (op.kind === "map") {
      // Clamped into the space rather than skipped: every operation runs.
      const va = Math.min(op.va, SPACE - op.len);
      map(va, va + op.delta, op.len);
    } else if (op.kind === "unmap") {
      if (ref.count === 0) {
        expect(iommuUnmap(d, 0, SZ_4K)).toBe(ref.unmap(0, SZ_4K, s).ret);
        continue;
      }
      // A whole mapping: what one map made.
      const e = ref.entries[op.pick % ref.count]!;
      const group = ref.entries.filter((x) => x.group === e.group);
      const start = group[0]!.iova;
      const end = group[group.length - 1]!.iova + group[group.length - 1]!.size;
      const len = ref.isCovered(start, end - start) ? end - start : e.size;
      const at = len === e.size ? e.iova : start;
      expect(iommuUnmap(d, at, len)).toBe(len);
      expect(ref.unmap(at, len, s).ret).toBe(len);
    } else if (op.kind === "unmapHole") {
      // Starting in a hole unmaps nothing; starting in a mapping clears leaves up to the first hole.
      expect(iommuUnmap(d, op.va, op.len)).toBe(ref.unmap(op.va, op.len, s).ret);
    } else if (op.kind === "mapOver") {
      if (ref.count === 0) {
        expect(map(0, 0, SZ_4K)).toBeUndefined();
        continue;
      }
      const t = ref.entries[op.pick % ref.count]!;
      const va = t.iova + Math.floor((t.size / SZ_4K) * op.frac) * SZ_4K;
      expect(map(va, va, Math.min(op.pages * SZ_4K, SPACE - va))).toBe("EADDRINUSE");
    } else {
      const va =
        op.kind === "lookup" || ref.count === 0
          ? op.kind === "lookup"
            ? op.va
            : 0
          : (() => {
              const t = ref.entries[op.pick % ref.count]!;
              return t.iova + Math.floor(t.size * op.frac);
            })();
      checkLengthContract(d, ref, va);
    }
  }
  for (const e of [...ref.entries])
    expect(iommuUnmap(d, e.iova, e.size)).toBe(ref.unmap(e.iova, e.size, s).ret);
  d.ops.free?.(d);
  expect(allocator.liveCount).toBe(0);
}

describe("generic_pt vs an interval map", () => {
  // amdv1_mock with the same 4K-aligned operations: its 4K pages are two-item 2K entries.
  for (const format of ["amdv1", "vtdss", "x86_64", "riscv", "amdv1_mock"] as const) {
    it(`${format}: 10,000 random map/unmap/lookup operations`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 200, maxLength: 200 }), (ops) => runOps(format, ops)),
        { numRuns: 50, seed: 0x9e3779b1 ^ format.length },
      );
    });
  }
});
