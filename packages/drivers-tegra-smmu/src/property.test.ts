// drivers/iommu/tegra-smmu.c: random map / unmap / raw call / lookup sequences against a page reference, both modes.

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
import { makeTegra } from "./testing/make.js";

const PAGES_4G = 2 ** 20;
/** IOVA window: 16 page tables (64 MiB), so runs meet and tables come and go. */
const WINDOW = 16 * 1024;

type Op =
  | { k: "map"; page: number; n: number; ppfn: number; prot: number }
  | { k: "unmap"; page: number; n: number }
  | { k: "rawmap"; page: number; ppfn: number; big: boolean; count: number; prot: number }
  | { k: "rawunmap"; page: number; big: boolean; count: number }
  | { k: "phys"; page: number; off: number };

const page = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0, max: WINDOW - 1 }) },
  // Around the 4 GiB end and above it (aliases in the kernel mode, refused by a strict domain).
  { weight: 1, arbitrary: fc.integer({ min: PAGES_4G - 8, max: PAGES_4G + WINDOW }) },
);
const ppfn = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0, max: 0x3f_ffff - 64 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x3f_ff00, max: 0xff_ffff }) },
);
const prot = fc.constantFrom(0, IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE, 0x3f);
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
      count: fc.integer({ min: 0, max: 3 }),
      prot,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("rawunmap" as const),
      page,
      big: fc.boolean(),
      count: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("phys" as const), page, off: fc.integer({ min: 0, max: 0xfff }) }),
  },
);

const out = new PhysLength();

/** `expect(got, where).toEqual(want)` for flat arrays, without vitest's cost on the hot loop. */
function same(got: readonly unknown[], want: readonly unknown[], where: string): void {
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) expect(got, where).toEqual(want);
}

/** Reference for an IOVA frame `p` above a table whose reach is `[0, 2^n)` (p ≥ 2^n): the hole is the naturally aligned block at p's top bit, `[2^k, 2^(k+1))`. */
function aboveReachLength(p: number): number {
  let b = 1;
  while (b * 2 <= p) b *= 2;
  return b * 0x1000;
}

/** One sequence on a fresh domain; returns the operations executed. */
function runSequence(ops: readonly Op[], strict: boolean): number {
  const { d, smmu } = makeTegra({ strict });
  const ref = new PageFrameMap();
  const mask = smmu.pfnMask;
  const key = (p: number) => p % PAGES_4G;
  let executed = 0;

  const check = (p: number, off: number, where: string) => {
    const iova = p * 0x1000 + off;
    iommuIovaToPhysLength(d, iova, out);
    const wrapped = iommuIovaToPhys(d, iova);
    if (strict && p >= PAGES_4G) {
      same([out.mapped, out.length, wrapped], [false, aboveReachLength(p), 0], where);
      return;
    }
    const e = ref.get(key(p));
    const insp = iommuDomainInspector(d)!.walk(iova % 2 ** 32);
    if (e) {
      const phys = e.ppfn * 0x1000 + off;
      same([out.mapped, out.phys, out.length, wrapped], [true, phys, 0x1000, phys], where);
      same([insp.end, insp.phys, insp.length], ["leaf", BigInt(phys), 0x1000], where);
      same([insp.steps[1]!.prot], [e.prot & (IOMMU_READ | IOMMU_WRITE)], where);
    } else {
      const r = Math.floor(key(p) / 1024) * 1024;
      const len = ref.anyIn(r, r + 1024) ? 0x1000 : 0x40_0000;
      same([out.mapped, out.length, wrapped], [false, len, 0], where);
      const base = Math.floor(key(p) / (len / 0x1000)) * (len / 0x1000);
      same([ref.anyIn(base, base + len / 0x1000)], [false], where);
      same([insp.end, insp.length], ["hole", len], where);
    }
  };
  const touch = (p: number, n: number, salt: number, where: string) => {
    for (const q of [p, p + n - 1, p - 1, p + n, p + (salt % Math.max(n, 1)), Math.floor(p / 1024) * 1024])
      if (q >= 0) check(q, (salt * 0x9e37) & 0xfff, where);
  };
  const invariants = (where: string) => {
    for (let r = 0; r < 16; r++) {
      const live = ref.between(r * 1024, (r + 1) * 1024).length;
      expect([d.count[r], d.pts[r]! >= 0], `${where}: PT ${r}`).toEqual([live, live > 0]);
    }
  };
  const setPages = (p: number, n: number, f: number, pr: number) => {
    for (let i = 0; i < n; i++) ref.set(key(p + i), { ppfn: (f + i) & mask, prot: pr });
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
        if (!strict) {
          expect(err, where).toBeUndefined();
          setPages(op.page, op.n, op.ppfn, op.prot);
        } else {
          const outside = op.page + op.n > PAGES_4G || op.ppfn + op.n - 1 > mask;
          const busy = !outside && ref.anyIn(op.page, op.page + op.n);
          expect(err, where).toBe(outside ? "EINVAL" : busy ? "EEXIST" : undefined);
          if (!err) setPages(op.page, op.n, op.ppfn, op.prot);
        }
        touch(op.page, op.n, op.ppfn, where);
        break;
      }
      case "unmap": {
        let want = 0;
        if (!(strict && op.page + op.n > PAGES_4G))
          while (want < op.n && ref.delete(key(op.page + want))) want++;
        expect(iommuUnmap(d, op.page * 0x1000, op.n * 0x1000), where).toBe(want * 0x1000);
        touch(op.page, op.n, op.n, where);
        break;
      }
      case "rawmap": {
        const pgsize = op.big ? 0x1_0000 : 0x1000;
        const m = new SizeOut();
        const ret = d.ops!.mapPages(d, op.page * 0x1000, op.ppfn * 0x1000, pgsize, op.count, op.prot, 0, m);
        if (!strict) {
          same([ret, m.value], [0, pgsize], where);
          setPages(op.page, 1, op.ppfn, op.prot);
        } else if (op.big || op.page + op.count > PAGES_4G || op.ppfn + op.count - 1 > mask) {
          expect(ret, where).toBe(-22);
        } else {
          let i = 0;
          while (i < op.count && !ref.get(op.page + i)) i++;
          same([ret, m.value], [i === op.count ? 0 : -17, i * 0x1000], where);
          setPages(op.page, i, op.ppfn, op.prot);
        }
        touch(op.page, Math.max(op.count, 1), op.count, where);
        break;
      }
      case "rawunmap": {
        const pgsize = op.big ? 0x1_0000 : 0x1000;
        const ret = d.ops!.unmapPages(d, op.page * 0x1000, pgsize, op.count, null);
        if (!strict) expect(ret, where).toBe(ref.delete(key(op.page)) ? pgsize : 0);
        else if (op.big || op.page + op.count > PAGES_4G) expect(ret, where).toBe(0);
        else {
          let i = 0;
          while (i < op.count && ref.delete(op.page + i)) i++;
          expect(ret, where).toBe(i * 0x1000);
        }
        touch(op.page, Math.max(op.count, 1), op.count, where);
        break;
      }
      case "phys":
        check(op.page, op.off, where);
        break;
    }
    if (step % 25 === 0) invariants(where);
  });
  invariants("end");
  return executed;
}

describe("tegra-smmu against a page reference (fast-check)", () => {
  for (const strict of [false, true]) {
    it(`${strict ? "strict" : "kernel"} mode: ≥ 10,000 executed operations, iova_to_phys_length checked at every touched IOVA`, () => {
      let executed = 0;
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 200, maxLength: 200 }), (ops) => {
          executed += runSequence(ops, strict);
        }),
        { numRuns: 50, seed: strict ? 0x7e9a : 0x7e9b, endOnFailure: true },
      );
      expect(executed).toBeGreaterThanOrEqual(10_000);
    });
  }
});
