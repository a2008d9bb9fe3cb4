// drivers/iommu/mtk_iommu_v1.c: random map / unmap / raw call / lookup sequences against a page reference, both modes.

import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuDomainInspector,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  SizeOut,
} from "@iommu/core";
import { PageFrameMap } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MTK_V1_ENTRIES } from "./mtk-iommu-v1.js";
import { makeMtk } from "./testing/make.js";

const N = MTK_V1_ENTRIES;

type Op =
  | { k: "map"; page: number; n: number; ppfn: number; prot: number }
  | { k: "unmap"; page: number; n: number }
  | { k: "rawmap"; page: number; ppfn: number; big: boolean; count: number }
  | { k: "rawunmap"; page: number; big: boolean; count: number }
  | { k: "phys"; page: number; off: number };

const page = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0, max: 8191 }) },
  // The last descriptors, and runs past the table (refused).
  { weight: 1, arbitrary: fc.integer({ min: N - 32, max: N + 8 }) },
);
const ppfn = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0, max: N - 64 }) },
  { weight: 1, arbitrary: fc.integer({ min: N - 16, max: 4 * N }) },
);
const prot = fc.constantFrom(0, IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant("map" as const),
      page,
      n: fc.integer({ min: 1, max: 24 }),
      ppfn,
      prot,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant("unmap" as const), page, n: fc.integer({ min: 1, max: 24 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("rawmap" as const),
      page,
      ppfn,
      big: fc.boolean(),
      count: fc.integer({ min: 0, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("rawunmap" as const),
      page,
      big: fc.boolean(),
      count: fc.integer({ min: 0, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("phys" as const), page, off: fc.integer({ min: 0, max: 0xfff }) }),
  },
);

const out = new PhysLength();

function same(got: readonly unknown[], want: readonly unknown[], where: string): void {
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) expect(got, where).toEqual(want);
}

/** Reference for an IOVA frame `p` above a table whose reach is `[0, 2^n)` (p ≥ 2^n): the hole is the naturally aligned block at p's top bit, `[2^k, 2^(k+1))`. */
function aboveReachLength(p: number): number {
  let b = 1;
  while (b * 2 <= p) b *= 2;
  return b * 0x1000;
}

function runSequence(ops: readonly Op[], strict: boolean): number {
  const { d } = makeMtk({ strict });
  const ref = new PageFrameMap();
  let executed = 0;

  const check = (p: number, off: number, where: string) => {
    const iova = p * 0x1000 + off;
    iommuIovaToPhysLength(d, iova, out);
    const wrapped = iommuIovaToPhys(d, iova);
    const e = p < N ? ref.get(p) : undefined;
    if (e) {
      const phys = e.ppfn * 0x1000 + off;
      same([out.mapped, out.phys, out.length, wrapped], [true, phys, 0x1000, phys], where);
    } else same([out.mapped, out.length, wrapped], [false, p < N ? 0x1000 : aboveReachLength(p), 0], where);
    if (p < N) {
      const w = iommuDomainInspector(d)!.walk(iova);
      if (e) same([w.end, w.phys, w.length], ["leaf", BigInt(e.ppfn * 0x1000 + off), 0x1000], where);
      else same([w.end, w.length], ["hole", 0x1000], where);
    }
  };
  const touch = (p: number, n: number, salt: number, where: string) => {
    for (const q of [p, p + n - 1, p - 1, p + n, p + (salt % Math.max(n, 1))])
      if (q >= 0) check(q, salt & 0xfff, where);
  };
  /** The descriptors a map writes from `p`: up to the first live one. */
  const free = (p: number, n: number) => {
    let i = 0;
    while (i < n && !ref.get(p + i)) i++;
    return i;
  };
  const setPages = (p: number, n: number, f: number) => {
    for (let i = 0; i < n; i++) ref.set(p + i, { ppfn: (f + i) % N, prot: 0 });
  };

  ops.forEach((op, step) => {
    const where = `step ${step} ${JSON.stringify(op)}`;
    executed++;
    switch (op.k) {
      case "map": {
        let err: string | undefined;
        try {
          iommuMap(d, op.page * 0x1000, op.ppfn * 0x1000, op.n * 0x1000, op.prot);
        } catch (e) {
          if (!(e instanceof IommuError)) throw e;
          err = e.code;
        }
        const oob = op.page + op.n > N;
        const wide = op.ppfn + op.n > N;
        const i = oob ? 0 : free(op.page, op.n);
        const want = oob
          ? strict
            ? "EINVAL"
            : "EFAULT"
          : strict && wide
            ? "EINVAL"
            : i < op.n
              ? "EEXIST"
              : undefined;
        expect(err, where).toBe(want);
        if (!want) setPages(op.page, op.n, op.ppfn);
        touch(op.page, op.n, op.ppfn, where);
        break;
      }
      case "unmap": {
        let want = 0;
        if (op.page + op.n <= N) {
          if (strict) while (want < op.n && ref.delete(op.page + want)) want++;
          else {
            for (let i = 0; i < op.n; i++) ref.delete(op.page + i);
            want = op.n;
          }
        }
        expect(iommuUnmap(d, op.page * 0x1000, op.n * 0x1000), where).toBe(want * 0x1000);
        touch(op.page, op.n, op.n, where);
        break;
      }
      case "rawmap": {
        const pgsize = op.big ? 0x1_0000 : 0x1000;
        const m = new SizeOut();
        const ret = d.ops!.mapPages(
          d,
          op.page * 0x1000,
          op.ppfn * 0x1000,
          pgsize,
          op.count,
          IOMMU_READ,
          0,
          m,
        );
        if (op.page + op.count > N || op.page >= N) same([ret, m.value], [strict ? -22 : -14, 0], where);
        else if (strict && (op.big || op.ppfn + op.count > N)) same([ret, m.value], [-22, 0], where);
        else {
          const i = free(op.page, op.count);
          same([ret, m.value], [i === op.count ? 0 : -17, i * 0x1000], where);
          setPages(op.page, i, op.ppfn);
        }
        touch(op.page, Math.max(op.count, 1), op.count, where);
        break;
      }
      case "rawunmap": {
        const pgsize = op.big ? 0x1_0000 : 0x1000;
        const ret = d.ops!.unmapPages(d, op.page * 0x1000, pgsize, op.count, null);
        if (op.page + op.count > N || op.page >= N || (strict && op.big)) expect(ret, where).toBe(0);
        else if (strict) {
          let i = 0;
          while (i < op.count && ref.delete(op.page + i)) i++;
          expect(ret, where).toBe(i * 0x1000);
        } else {
          for (let i = 0; i < op.count; i++) ref.delete(op.page + i);
          expect(ret, where).toBe(op.count * 0x1000);
        }
        touch(op.page, Math.max(op.count, 1), op.count, where);
        break;
      }
      case "phys":
        check(op.page, op.off, where);
        break;
    }
  });
  return executed;
}

describe("mtk_iommu_v1 against a page reference (fast-check)", () => {
  for (const strict of [false, true]) {
    it(`${strict ? "strict" : "kernel"} mode: ≥ 10,000 executed operations, iova_to_phys_length checked at every touched IOVA`, () => {
      let executed = 0;
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 200, maxLength: 200 }), (ops) => {
          executed += runSequence(ops, strict);
        }),
        { numRuns: 50, seed: strict ? 0x3a1 : 0x3a2, endOnFailure: true },
      );
      expect(executed).toBeGreaterThanOrEqual(10_000);
    });
  }
});
