import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pfnOf } from "./addr.js";
import type { IommuDomainOps } from "./domain.js";
import { createBlockedDomain, createIdentityDomain, iommuMap } from "./iommu.js";
import { GFP_KERNEL, IOMMU_READ, IOMMU_WRITE } from "./prot.js";
import { iommuIovaToPhysRuns, PHYS_RUN_PROT_UNKNOWN, type PhysRun, PhysRunCollector } from "./runs.js";
import { type FakeDomain, makeDomain, makeOps } from "./testing/fake-pgtable.js";

interface R {
  mapped: boolean;
  iova: bigint;
  phys: bigint;
  size: bigint;
  prot: number;
}

const copy = (r: PhysRun): R => ({
  mapped: r.mapped,
  iova: BigInt(r.iova),
  phys: BigInt(r.phys),
  size: BigInt(r.size),
  prot: r.prot,
});

function runsOf(d: FakeDomain, iova: number | bigint, size: number | bigint): R[] {
  const out: R[] = [];
  iommuIovaToPhysRuns(d, iova, size, (r) => {
    out.push(copy(r));
  });
  return out;
}

/** Reference: one legacy lookup per page of a page-aligned range, merged by hand. */
function reference(d: FakeDomain, iova: number, size: number, withProt: boolean): R[] {
  const out: R[] = [];
  for (let va = iova; va < iova + size; va += 4096) {
    const leaf = [...d.leaves.values()].find((l) => va >= l.iova && va < l.iova + l.size);
    const phys = leaf ? BigInt(leaf.pa + (va - leaf.iova)) : 0n;
    const prot = leaf ? (withProt ? leaf.prot : PHYS_RUN_PROT_UNKNOWN) : 0;
    const last = out.at(-1);
    if (last && last.mapped === !!leaf && last.prot === prot && (!leaf || last.phys + last.size === phys)) {
      last.size += 4096n;
      continue;
    }
    out.push({ mapped: !!leaf, iova: BigInt(va), phys, size: 4096n, prot });
  }
  return out;
}

/** A fake driver op: leaves in IOVA order, holes page by page (the collector merges them). */
function withRunsOp(ops: IommuDomainOps<FakeDomain>): IommuDomainOps<FakeDomain> {
  return {
    ...ops,
    iovaToPhysRuns(d, runs) {
      const leaves = [...d.leaves.values()].sort((a, b) => a.iova - b.iova);
      let pfn = runs.startPfn;
      for (const l of leaves) {
        const lp = pfnOf(l.iova);
        const n = l.size / 4096;
        if (lp + n <= pfn) continue;
        if (lp > pfn && !runs.hole(pfn, lp - pfn, 4096)) return;
        if (!runs.leaf(lp, n, pfnOf(l.pa), l.prot, l.size)) return;
        pfn = lp + n;
      }
      runs.hole(pfn, runs.endPfn - pfn, 4096);
    },
  };
}

const RW = IOMMU_READ | IOMMU_WRITE;

describe("iommuIovaToPhysRuns", () => {
  it("merges PA-contiguous leaves of any size into one run and counts one walk per fallback step", () => {
    const d = makeDomain();
    // 4K + 2M (not aligned in PA to each other but contiguous) + hole + 4K.
    iommuMap(d, 0x1ff000, 0x81ff000, 0x1000, RW, GFP_KERNEL);
    iommuMap(d, 0x200000, 0x8200000, 0x200000, RW, GFP_KERNEL);
    iommuMap(d, 0x500000, 0x9000000, 0x1000, IOMMU_READ, GFP_KERNEL);
    d.counters.reset();
    const runs = runsOf(d, 0x1ff000, 0x302000);
    expect(runs).toEqual([
      { mapped: true, iova: 0x1ff000n, phys: 0x81ff000n, size: 0x201000n, prot: PHYS_RUN_PROT_UNKNOWN },
      { mapped: false, iova: 0x400000n, phys: 0n, size: 0x100000n, prot: 0 },
      { mapped: true, iova: 0x500000n, phys: 0x9000000n, size: 0x1000n, prot: PHYS_RUN_PROT_UNKNOWN },
    ]);
    // Fallback: 4K, 2M, 256 hole pages of 4K, the last leaf.
    expect(d.counters.walks).toBe(2 + 256 + 1);
  });

  it("with the driver op: one walk, prot splits runs, same answer otherwise", () => {
    const d = makeDomain(withRunsOp(makeOps()));
    iommuMap(d, 0x1ff000, 0x81ff000, 0x1000, IOMMU_READ, GFP_KERNEL);
    iommuMap(d, 0x200000, 0x8200000, 0x200000, RW, GFP_KERNEL);
    d.counters.reset();
    const runs = runsOf(d, 0x1ff000, 0x201000);
    expect(runs.map((r) => [r.iova, r.size, r.prot])).toEqual([
      [0x1ff000n, 0x1000n, IOMMU_READ],
      [0x200000n, 0x200000n, RW],
    ]);
    expect(d.counters.walks).toBe(1);
  });

  it("clips the first and last run at unaligned range edges (phys keeps the offset)", () => {
    const d = makeDomain(withRunsOp(makeOps()));
    iommuMap(d, 0x200000, 0x8200000, 0x200000, RW, GFP_KERNEL);
    const runs = runsOf(d, 0x200123, 0x3000);
    expect(runs).toEqual([{ mapped: true, iova: 0x200123n, phys: 0x8200123n, size: 0x3000n, prot: RW }]);
    const fb = makeDomain();
    iommuMap(fb, 0x200000, 0x8200000, 0x200000, RW, GFP_KERNEL);
    expect(runsOf(fb, 0x200123, 0x3000)).toEqual([
      { mapped: true, iova: 0x200123n, phys: 0x8200123n, size: 0x3000n, prot: PHYS_RUN_PROT_UNKNOWN },
    ]);
  });

  it("stops when the visitor returns false (the run it refused is counted)", () => {
    const d = makeDomain(withRunsOp(makeOps()));
    iommuMap(d, 0x0, 0x10000, 0x1000, RW, GFP_KERNEL);
    iommuMap(d, 0x2000, 0x20000, 0x1000, RW, GFP_KERNEL);
    const seen: bigint[] = [];
    const n = iommuIovaToPhysRuns(d, 0, 0x4000, (r) => {
      seen.push(BigInt(r.iova));
      return false;
    });
    expect(n).toBe(1);
    expect(seen).toEqual([0n]);
  });

  it("a visitor may look up runs again (nested lookups do not share the collector)", () => {
    const d = makeDomain(withRunsOp(makeOps()));
    iommuMap(d, 0x0, 0x10000, 0x1000, RW);
    iommuMap(d, 0x2000, 0x20000, 0x1000, RW);
    const outer: R[] = [];
    const inner: number[] = [];
    iommuIovaToPhysRuns(d, 0, 0x4000, (r) => {
      outer.push(copy(r));
      inner.push(iommuIovaToPhysRuns(d, 0, 0x4000, () => {}));
    });
    expect(outer).toEqual(reference(d, 0, 0x4000, true));
    expect(inner).toEqual([4, 4, 4, 4]);
  });

  it("empty range: no runs; a range past 2^64: -EINVAL; malformed addresses throw EINVAL", () => {
    const d = makeDomain();
    expect(iommuIovaToPhysRuns(d, 0x1000, 0, () => {})).toBe(0);
    expect(iommuIovaToPhysRuns(d, 2n ** 64n - 0x1000n, 0x2000, () => {})).toBe(-22);
    expect(() => iommuIovaToPhysRuns(d, -1, 0x1000, () => {})).toThrow(/EINVAL/);
    expect(() => iommuIovaToPhysRuns(d, 0, 0.5, () => {})).toThrow(/EINVAL/);
    expect(() => iommuIovaToPhysRuns(d, 0, 2n ** 64n + 1n, () => {})).toThrow(/EINVAL/);
    expect(d.counters.walks).toBe(0);
  });

  it("identity: one run phys = iova; blocked: one hole; exact at 2^64 − 4K", () => {
    const id = createIdentityDomain();
    const top = 2n ** 64n - 0x1000n;
    const r1: R[] = [];
    iommuIovaToPhysRuns(id, top, 0x1000, (r) => {
      r1.push(copy(r));
    });
    expect(r1).toEqual([{ mapped: true, iova: top, phys: top, size: 0x1000n, prot: PHYS_RUN_PROT_UNKNOWN }]);
    expect(id.counters.walks).toBe(1);
    const bl = createBlockedDomain();
    const r2: R[] = [];
    iommuIovaToPhysRuns(bl, 0, 2n ** 64n, (r) => {
      r2.push(copy(r));
    });
    expect(r2).toEqual([{ mapped: false, iova: 0n, phys: 0n, size: 2n ** 64n, prot: 0 }]);
  });

  it("PhysRunCollector clips pieces reaching outside the range and reports coverage", () => {
    const c = new PhysRunCollector();
    const got: string[] = [];
    expect(c.begin(0x3000, 0x2000, (r) => void got.push(r.toString()))).toBe(0);
    expect(c.startPfn).toBe(3);
    expect(c.endPfn).toBe(5);
    expect(c.leaf(0, 4, 0x100, 3, 0x4000)).toBe(true);
    expect(c.leaf(4, 4, 0x104, 3, 0x4000)).toBe(false);
    expect(c.finish()).toBe(1);
    expect(got).toEqual(["mapped iova=0x3000 phys=0x103000 size=0x2000 prot=0x3 leaf=0x4000"]);
  });

  it("property: driver op and fallback agree with the per-page reference", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            slot: fc.integer({ min: 0, max: 63 }),
            big: fc.boolean(),
            pa: fc.integer({ min: 0, max: 40 }),
            ro: fc.boolean(),
          }),
          { maxLength: 24 },
        ),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 80 }),
        (maps, from, pages) => {
          const fb = makeDomain(makeOps(), 0x5000);
          const op = makeDomain(withRunsOp(makeOps()), 0x5000);
          for (const m of maps) {
            // 16 KiB "big" pages keep the domain simple: bitmap 4K|16K.
            const size = m.big ? 0x4000 : 0x1000;
            const iova = m.big ? (m.slot & ~3) * 0x1000 : m.slot * 0x1000;
            const pa = 0x100000 + (m.big ? m.pa & ~3 : m.pa) * 0x1000;
            const prot = m.ro ? IOMMU_READ : RW;
            if ([...fb.leaves.values()].some((l) => l.iova < iova + size && iova < l.iova + l.size)) continue;
            iommuMap(fb, iova, pa, size, prot, GFP_KERNEL);
            iommuMap(op, iova, pa, size, prot, GFP_KERNEL);
          }
          const iova = from * 0x1000;
          const size = pages * 0x1000;
          expect(runsOf(fb, iova, size)).toEqual(reference(fb, iova, size, false));
          op.counters.reset();
          expect(runsOf(op, iova, size)).toEqual(reference(op, iova, size, true));
          expect(op.counters.walks).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
