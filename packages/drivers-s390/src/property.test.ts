// drivers/iommu/s390-iommu.c: random map / unmap / raw call / lookup sequences against a page and table reference.

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
import { iovaOf, makeS390 } from "./testing/make.js";

const PFNS = 2 ** 52;
/** Frames below the aperture end, per level count (the span of the root table). */
const SPAN = { 3: 2 ** 30, 4: 2 ** 41, 5: PFNS } as const;
/** Frame shifts of the tables below RF, RS, RT and ST entries. */
const LEVEL_SHIFT = [41, 30, 19, 8] as const;
/** IOVA span of the entry whose table is missing, by that level. */
const LEVEL_SPAN = [2 ** 53, 2 ** 42, 2 ** 31, 2 ** 20] as const;

type Op =
  | { k: "map"; page: number; n: number; ppfn: number; prot: number }
  | { k: "unmap"; page: number; n: number }
  | { k: "rawmap"; page: number; ppfn: number; big: boolean; count: number; prot: number }
  | { k: "rawunmap"; page: number; big: boolean; count: number }
  | { k: "phys"; page: number; off: number };

/** Window bases (frames): region boundaries, the aperture ends and the top of the 64-bit space. */
function bases(levels: 3 | 4 | 5): number[] {
  const common = [0, 2 ** 19 - 64, 2 ** 20, 2 ** 30 - 64];
  if (levels === 3) return [...common, PFNS - 64];
  if (levels === 4) return [...common, 2 ** 41 - 64, PFNS - 64];
  return [...common, 2 ** 41 - 64, 2 ** 51, PFNS - 64];
}

function opArb(levels: 3 | 4 | 5): fc.Arbitrary<Op> {
  const page = fc
    .tuple(fc.constantFrom(...bases(levels)), fc.integer({ min: 0, max: 2047 }))
    .map(([b, o]) => (b + o) % PFNS);
  const ppfn = fc.integer({ min: 0, max: 2 ** 40 });
  const prot = fc.constantFrom(0, IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE);
  return fc.oneof(
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
      arbitrary: fc.record({
        k: fc.constant("phys" as const),
        page,
        off: fc.integer({ min: 0, max: 0xfff }),
      }),
    },
  );
}

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

function runSequence(ops: readonly Op[], levels: 3 | 4 | 5, strict: boolean): number {
  const { d } = makeS390(levels, { strict });
  const ref = new PageFrameMap();
  const span = SPAN[levels];
  const top = 5 - levels; // first LEVEL_SHIFT index with a table below the root
  const tables = new Set<string>();
  let executed = 0;

  /** The kernel walks only the index bits inside the root's span: frames beyond alias. */
  const key = (pfn: number) => pfn % span;
  const allocWalk = (pfn: number) => {
    for (let l = top; l < 4; l++) tables.add(`${l}:${Math.floor(key(pfn) / 2 ** LEVEL_SHIFT[l]!)}`);
  };
  const holeLength = (pfn: number) => {
    for (let l = top; l < 4; l++)
      if (!tables.has(`${l}:${Math.floor(pfn / 2 ** LEVEL_SHIFT[l]!)}`)) return LEVEL_SPAN[l]!;
    return 0x1000;
  };
  /** `iova + pages·4K − 1` past the aperture end, in u64 (wrapping). */
  const pastEnd = (pfn: number, pages: number) => {
    const last = pages === 0 ? (pfn === 0 ? PFNS - 1 : pfn - 1) : (pfn + pages - 1) % PFNS;
    return last >= span;
  };
  const wraps = (pfn: number, pages: number) => (pages === 0 ? pfn === 0 : pfn + pages > PFNS);

  const check = (p: number, off: number, where: string) => {
    const iova = iovaOf(p, off);
    iommuIovaToPhysLength(d, iova, out);
    const wrapped = iommuIovaToPhys(d, iova);
    if (p >= span) {
      same([out.mapped, out.length, wrapped], [false, aboveReachLength(p), 0], where);
      return;
    }
    const e = ref.get(p);
    const w = iommuDomainInspector(d)!.walk(iova);
    if (e) {
      const phys = e.ppfn * 0x1000 + off;
      same([out.mapped, out.phys, out.length, wrapped], [true, phys, 0x1000, phys], where);
      same([w.end, w.phys, w.length], ["leaf", BigInt(phys), 0x1000], where);
      const prot = e.prot & IOMMU_WRITE ? IOMMU_READ | IOMMU_WRITE : IOMMU_READ;
      same([w.steps[w.steps.length - 1]!.prot], [prot], where);
    } else {
      const len = holeLength(p);
      same([out.mapped, out.length, wrapped, w.end, w.length], [false, len, 0, "hole", len], where);
      const base = Math.floor(p / (len / 0x1000)) * (len / 0x1000);
      same([ref.anyIn(base, base + len / 0x1000)], [false], where);
    }
  };
  const touch = (p: number, n: number, salt: number, where: string) => {
    for (const q of [p, p + n - 1, p - 1, p + n, p + (salt % Math.max(n, 1)), Math.floor(p / 256) * 256])
      if (q >= 0 && q < PFNS) check(q, salt & 0xfff, where);
  };
  const invariants = (where: string) => {
    same([d.regionTablesLive + d.ptCache.liveObjects], [tables.size + 1], `${where}: tables`);
  };

  /** map_pages of `n` 4 KiB pages (the core makes exactly this one call for a 4K-only bitmap). */
  const mapPages = (p: number, n: number, f: number, prot: number): { ret: number; warns: number } => {
    if ((strict && wraps(p, n)) || pastEnd(p, n)) return { ret: strict && n === 0 ? 0 : -22, warns: 0 };
    if (strict && n === 0) return { ret: 0, warns: 0 };
    let warns = 0;
    if (strict) {
      let i = 0;
      for (; i < n; i++) {
        allocWalk((p + i) % PFNS);
        if (ref.get(key((p + i) % PFNS))) return { ret: -17, warns: 0 };
      }
    }
    for (let i = 0; i < n; i++) {
      const q = (p + i) % PFNS;
      allocWalk(q);
      if (ref.get(key(q))) warns++;
      ref.set(key(q), { ppfn: f + i, prot });
    }
    return { ret: 0, warns };
  };
  /** unmap_pages of `count` pages of `pgsize` (kernel: invalidates `count` 4 KiB pages). */
  const unmapPages = (p: number, pgsize: number, count: number): { ret: number; warns: number } => {
    if (strict) {
      if (pgsize !== 0x1000 || count === 0) return { ret: 0, warns: 0 };
      if (wraps(p, count) || pastEnd(p, count)) return { ret: 0, warns: 1 };
      let i = 0;
      while (i < count && ref.delete(p + i)) i++;
      return { ret: i * 0x1000, warns: 0 };
    }
    const size = count * pgsize;
    if (pastEnd(p, size / 0x1000)) return { ret: 0, warns: 1 };
    let warns = 0;
    for (let i = 0; i < count; i++) {
      const q = (p + i) % PFNS;
      allocWalk(q);
      if (!ref.delete(key(q))) warns++;
    }
    return { ret: size, warns };
  };

  ops.forEach((op, step) => {
    const where = `step ${step} ${JSON.stringify(op)}`;
    executed++;
    const w0 = d.counters.warns;
    switch (op.k) {
      case "map": {
        const want = mapPages(op.page, op.n, op.ppfn, op.prot);
        let err: string | undefined;
        try {
          iommuMap(d, iovaOf(op.page), op.ppfn * 0x1000, op.n * 0x1000, op.prot);
        } catch (e) {
          if (!(e instanceof IommuError)) throw e;
          err = e.code;
        }
        same(
          [err, d.counters.warns - w0],
          [want.ret === 0 ? undefined : want.ret === -17 ? "EEXIST" : "EINVAL", want.warns],
          where,
        );
        touch(op.page, op.n, op.ppfn, where);
        break;
      }
      case "unmap": {
        const want = unmapPages(op.page, 0x1000, op.n);
        same(
          [iommuUnmap(d, iovaOf(op.page), op.n * 0x1000), d.counters.warns - w0],
          [want.ret, want.warns],
          where,
        );
        touch(op.page, op.n, op.n, where);
        break;
      }
      case "rawmap": {
        const pgsize = op.big ? 0x1_0000 : 0x1000;
        const m = new SizeOut();
        const want = op.big ? { ret: -22, warns: 0 } : mapPages(op.page, op.count, op.ppfn, op.prot);
        const ret = d.ops!.mapPages(d, iovaOf(op.page), op.ppfn * 0x1000, pgsize, op.count, op.prot, 0, m);
        same(
          [ret, m.value, d.counters.warns - w0],
          [want.ret, want.ret ? 0 : op.count * 0x1000, want.warns],
          where,
        );
        touch(op.page, Math.max(op.count, 1), op.count, where);
        break;
      }
      case "rawunmap": {
        const pgsize = op.big ? 0x1_0000 : 0x1000;
        const want = unmapPages(op.page, pgsize, op.count);
        const ret = d.ops!.unmapPages(d, iovaOf(op.page), pgsize, op.count, null);
        same([ret, d.counters.warns - w0], [want.ret, want.warns], where);
        touch(op.page, Math.max(op.count, 1), op.count, where);
        break;
      }
      case "phys":
        check(op.page, op.off, where);
        break;
    }
    if (step % 20 === 0) invariants(where);
  });
  invariants("end");
  return executed;
}

describe("s390-iommu against a page and table reference (fast-check)", () => {
  for (const strict of [false, true]) {
    it(`${strict ? "strict" : "kernel"} mode, 3/4/5 levels: ≥ 10,000 executed operations, iova_to_phys_length checked at every touched IOVA`, () => {
      let executed = 0;
      for (const levels of [3, 4, 5] as const)
        fc.assert(
          fc.property(fc.array(opArb(levels), { minLength: 200, maxLength: 200 }), (ops) => {
            executed += runSequence(ops, levels, strict);
          }),
          { numRuns: 17, seed: 0x5390 + levels * 2 + (strict ? 1 : 0), endOnFailure: true },
        );
      expect(executed).toBeGreaterThanOrEqual(10_000);
    });
  }
});
