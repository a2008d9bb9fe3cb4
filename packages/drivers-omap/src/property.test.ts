// drivers/iommu/omap-iommu.c: random map / unmap / raw call / lookup sequences against a leaf reference, both modes, 1 and 2 MMUs.
import {
  IommuError,
  iommuDomainInspector,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuPgsize,
  iommuUnmap,
  PgsizeResult,
  PhysLength,
  SizeOut,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OmapInspector } from "./inspect.js";
import { LeafRef } from "./testing/leaf-ref.js";
import { makeOmap } from "./testing/make.js";

const BITMAP = 0x1111000;
const SIZES = [0x1000, 0x1_0000, 0x10_0000, 0x100_0000] as const;
/** IOVA window: 256 MiB from 0x1000_0000 (16 supersections). */
const BASE = 0x1_0000;
const WINDOW = 0x1_0000;
const RW = 3;

type Op =
  | { k: "map"; cls: number; at: number; n: number; pa: number; less: boolean }
  | { k: "unmap"; at: number; pages: number }
  | { k: "rawmap"; cls: number; at: number; pa: number; count: number; bad: boolean }
  | { k: "rawunmap"; cls: number; at: number; count: number }
  | { k: "phys"; at: number; off: number };

const cls = fc.integer({ min: 0, max: 3 });
const at = fc.integer({ min: 0, max: WINDOW - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant("map" as const),
      cls,
      at,
      n: fc.integer({ min: 1, max: 3 }),
      pa: fc.integer({ min: 0, max: 0xefff }),
      less: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant("unmap" as const), at, pages: fc.integer({ min: 1, max: 4200 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("rawmap" as const),
      cls,
      at,
      pa: fc.integer({ min: 0, max: 0xefff }),
      count: fc.integer({ min: 0, max: 3 }),
      bad: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("rawunmap" as const),
      cls,
      at,
      count: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("phys" as const), at, off: fc.integer({ min: 0, max: 0xfff }) }),
  },
);

const out = new PhysLength();
const pg = new PgsizeResult();

function same(got: readonly unknown[], want: readonly unknown[], where: string): void {
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) expect(got, where).toEqual(want);
}

/** The page `unmap_pages` clears at `ipfn` in the kernel mode: the leaf's frames, 1 for a hole in a table, else 0. */
function kernelClear(ref: LeafRef, ipfn: number): number {
  const l = ref.find(ipfn);
  if (l) {
    ref.remove(l);
    return l.pages;
  }
  return ref.hasTable(Math.floor(ipfn / 256)) ? 1 : 0;
}

/** Strict `unmap_pages` over [ipfn, ipfn + pages): leaf after leaf, each starting where the last ended and fitting. */
function strictClear(ref: LeafRef, ipfn: number, pages: number): number {
  let done = 0;
  while (done < pages) {
    const l = ref.find(ipfn + done);
    if (!l || l.start !== ipfn + done || l.pages > pages - done) break;
    ref.remove(l);
    done += l.pages;
  }
  return done;
}

function runSequence(ops: readonly Op[], strict: boolean, mmus: 1 | 2): number {
  const { d } = makeOmap({ strict, mmus });
  const ref = new LeafRef();
  let executed = 0;

  const check = (ipfn: number, off: number, where: string) => {
    const iova = ipfn * 0x1000 + off;
    iommuIovaToPhysLength(d, iova, out);
    const wrapped = iommuIovaToPhys(d, iova);
    const l = ref.find(ipfn);
    const walks = [
      iommuDomainInspector(d)!.walk(iova),
      ...(mmus === 2 ? [new OmapInspector(d, 1).walk(iova)] : []),
    ];
    if (l) {
      const phys = (l.ppfn + ipfn - l.start) * 0x1000 + off;
      const len = l.pages * 0x1000;
      same([out.mapped, out.phys, out.length, wrapped], [true, phys, len, phys], where);
      for (const w of walks) same([w.end, w.phys, w.length], ["leaf", BigInt(phys), len], where);
      // The unit [alignDown(iova, len), +len) translates linearly: both ends agree with phys.
      const base = iova - (iova % len);
      const physBase = phys - (iova - base);
      same(
        [iommuIovaToPhys(d, base), iommuIovaToPhys(d, base + len - 1)],
        [physBase, physBase + len - 1],
        where,
      );
    } else {
      const len = ref.hasTable(Math.floor(ipfn / 256)) ? 0x1000 : 0x10_0000;
      same([out.mapped, out.length, wrapped], [false, len, 0], where);
      for (const w of walks) same([w.end, w.length], ["hole", len], where);
      const base = ipfn - (ipfn % (len / 0x1000));
      same([ref.isFree(base, len / 0x1000)], [true], where);
    }
  };
  const touch = (ipfn: number, pages: number, salt: number, where: string) => {
    const end = ipfn + pages;
    for (const q of [
      ipfn,
      end - 1,
      ipfn - 1,
      end,
      ipfn + (salt % pages),
      ipfn - (ipfn % 256),
      ipfn - (ipfn % 4096),
    ])
      if (q >= 0 && q < 2 ** 20) check(q, salt & 0xfff, where);
  };

  /** The leaves the core's split makes of a map (omap maps one page per call): null if any would overlap. */
  const leavesOf = (iova: number, pa: number, size: number) => {
    const out: Array<{ start: number; pages: number; ppfn: number }> = [];
    for (let done = 0; done < size; ) {
      iommuPgsize(BITMAP, iova + done, pa + done, size - done, pg);
      out.push({ start: (iova + done) / 0x1000, pages: pg.pgsize / 0x1000, ppfn: (pa + done) / 0x1000 });
      done += pg.pgsize;
    }
    return out;
  };

  ops.forEach((op, step) => {
    const where = `step ${step} ${JSON.stringify(op)}`;
    switch (op.k) {
      case "map": {
        const size = SIZES[op.cls]!;
        const iova = (BASE + op.at - (op.at % (size / 0x1000))) * 0x1000;
        const total = op.n * size;
        if (iova + total > (BASE + WINDOW) * 0x1000) return;
        // The PA congruent with the IOVA at the class size, or (less) only at the next smaller size.
        const pa =
          (op.pa - (op.pa % (size / 0x1000))) * 0x1000 + (op.less && op.cls > 0 ? SIZES[op.cls - 1]! : 0);
        const leaves = leavesOf(iova, pa, total);
        const free = leaves.every((l) => ref.isFree(l.start, l.pages));
        if (!strict && !free) return; // the kernel would overwrite: tested in omap-iommu.test.ts
        executed++;
        let err: string | undefined;
        try {
          iommuMap(d, iova, pa, total, RW);
        } catch (e) {
          if (!(e instanceof IommuError)) throw e;
          err = e.code;
        }
        same([err], [free ? undefined : "EEXIST"], where);
        if (free) for (const l of leaves) ref.add(l);
        touch(iova / 0x1000, total / 0x1000, op.pa, where);
        break;
      }
      case "unmap": {
        executed++;
        const ipfn = BASE + op.at;
        const pages = Math.min(op.pages, BASE + WINDOW - ipfn);
        let done = 0;
        for (let cur = ipfn; done < pages; ) {
          iommuPgsize(BITMAP, cur * 0x1000, cur * 0x1000, (pages - done) * 0x1000, pg);
          const u = strict ? strictClear(ref, cur, (pg.pgsize * pg.count) / 0x1000) : kernelClear(ref, cur);
          if (u === 0) break;
          done += u;
          cur += u;
        }
        same([iommuUnmap(d, ipfn * 0x1000, pages * 0x1000)], [done * 0x1000], where);
        touch(ipfn, Math.max(pages, done), pages, where);
        break;
      }
      case "rawmap": {
        const size = op.bad ? 0x2000 : SIZES[op.cls]!;
        const align = Math.max(size, 0x1000) / 0x1000;
        const ipfn = BASE + op.at - (op.at % align);
        const pages = strict ? Math.max(op.count, 1) * (size / 0x1000) : size / 0x1000;
        if (ipfn + pages > BASE + WINDOW) return;
        const free = ref.isFree(ipfn, op.bad ? 1 : pages);
        if (!strict && !free && !op.bad) return;
        executed++;
        const pa = (op.pa - (op.pa % align)) * 0x1000;
        const m = new SizeOut();
        const ret = d.ops!.mapPages(d, ipfn * 0x1000, pa, size, op.count, RW, 0, m);
        if (op.bad) same([ret, m.value], [-22, 0], where);
        else if (!strict) {
          same([ret, m.value], [0, size], where);
          ref.add({ start: ipfn, pages, ppfn: pa / 0x1000 });
        } else {
          let i = 0;
          while (i < op.count && ref.isFree(ipfn + (i * size) / 0x1000, size / 0x1000)) {
            ref.add({
              start: ipfn + (i * size) / 0x1000,
              pages: size / 0x1000,
              ppfn: (pa + i * size) / 0x1000,
            });
            i++;
          }
          same([ret, m.value], [i === op.count ? 0 : -17, i * size], where);
        }
        touch(ipfn, pages, op.count, where);
        break;
      }
      case "rawunmap": {
        const size = SIZES[op.cls]!;
        const ipfn = BASE + op.at;
        const pages = op.count * (size / 0x1000);
        if (ipfn + pages > BASE + WINDOW) return;
        executed++;
        const ret = d.ops!.unmapPages(d, ipfn * 0x1000, size, op.count, null);
        const want = strict ? strictClear(ref, ipfn, pages) : kernelClear(ref, ipfn);
        same([ret], [want * 0x1000], where);
        touch(ipfn, Math.max(1, pages), op.count, where);
        break;
      }
      case "phys":
        executed++;
        check(BASE + op.at, op.off, where);
        break;
    }
  });
  // Every leaf of the reference, and the tables the domain holds.
  for (const l of ref.all()) check(l.start, 0, "end");
  const slots = new Set(
    ref
      .all()
      .filter((l) => l.pages <= 16)
      .map((l) => Math.floor(l.start / 256)),
  );
  same([d.l2Cache.liveObjects], [slots.size * mmus], "end: L2 tables");
  return executed;
}

describe("omap-iommu against a leaf reference (fast-check)", () => {
  for (const strict of [false, true]) {
    it(`${strict ? "strict" : "kernel"} mode, 1 and 2 MMUs: ≥ 10,000 executed operations, iova_to_phys_length checked at every touched IOVA`, () => {
      let executed = 0;
      for (const mmus of [1, 2] as const)
        fc.assert(
          fc.property(fc.array(opArb, { minLength: 200, maxLength: 200 }), (ops) => {
            executed += runSequence(ops, strict, mmus);
          }),
          { numRuns: strict ? 30 : 36, seed: 0x0a9 + mmus * 2 + (strict ? 1 : 0), endOnFailure: true },
        );
      expect(executed).toBeGreaterThanOrEqual(10_000);
    });
  }
});
