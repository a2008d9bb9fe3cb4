/**
 * drivers/iommu/generic_pt/iommu_pt.h ops (IOMMU_PT_DOMAIN_OPS) through @iommu/core: errno
 * choices, unmap edges, iova_to_phys(_length), dirty tracking, allocation failure at every
 * table allocation, and a driver's ops composed from the partial table.
 */
import {
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type IommuDomainOps,
  type IommuError,
  IotlbGather,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createPtDomain, type PtDomain, ptDirtyOps, ptDomainOps } from "./domain.js";
import {
  bit,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
} from "./features.js";
import { PT_FORMAT_NAMES, PT_FORMATS } from "./formats/index.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const FORMATS = PT_FORMAT_NAMES;

function raw(d: PtDomain, iova: number, pgsize: number, pgcount: number, pa = iova, prot = RW) {
  const m = new SizeOut();
  const ret = d.ops.mapPages(d, iova, pa, pgsize, pgcount, prot, 0, m);
  return { ret, mapped: m.value };
}

describe("map_pages errors", () => {
  for (const f of FORMATS) {
    it(`${f}: -EINVAL+WARN without R/W, -ERANGE, -EADDRINUSE, -ENXIO, -EOVERFLOW, len 0`, () => {
      const d = createPtDomain(f);
      // One granule: 4K, amdv1_mock 2K (its level-1 leaf is 1M, not 2M).
      const P = d.pt.gSize;
      const w0 = d.counters.warns;
      expect(raw(d, P, P, 1, P, 0).ret).toBe(-22);
      expect(d.counters.warns).toBe(w0 + 1);
      expect(raw(d, P, P, 1, 2 ** d.pt.maxOasz).ret).toBe(-34);
      expect(raw(d, P, P, 1).ret).toBe(0);
      expect(raw(d, P, P, 1).ret).toBe(-98);
      expect(raw(d, 0x0, 512 * P, 1).ret).toBe(-98); // a level-1 leaf over a live level-0 leaf
      expect(raw(d, P + P / 2, P, 1).ret).toBe(-6); // single page misaligned
      expect(raw(d, 2 * P + P / 2, P / 2, 4).ret).toBe(-6); // no size fits a sub-granule start
      expect(raw(d, 2 * P, P, 0).ret).toBe(-22);
      if (f === "amdv1") {
        const m = new SizeOut();
        expect(d.ops.mapPages(d, 0xffff_ffff_ffff_f000n, 0, 0x2000, 1, RW, 0, m)).toBe(-75);
      }
      d.pt.deinit();
    });
  }

  it("riscv: NOEXEC alone is refused with a WARN (no R/W), vtdss force_writeable refuses read-only", () => {
    const r = createPtDomain("riscv");
    expect(raw(r, 0x1000, 0x1000, 1, 0x1000, IOMMU_NOEXEC).ret).toBe(-22);
    const v = createPtDomain("vtdss", {
      features: bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_VTDSS_FORCE_WRITEABLE),
    });
    const w0 = v.counters.warns;
    expect(raw(v, 0x1000, 0x1000, 1, 0x1000, IOMMU_READ).ret).toBe(-22);
    expect(v.counters.warns).toBe(w0);
  });

  it("a larger leaf replaces leaf-less tables (freed through the gather, synced in map_pages)", () => {
    const d = createPtDomain("x86_64");
    expect(raw(d, 0x200000, 0x1000, 1).ret).toBe(0);
    const g = new IotlbGather();
    expect(d.ops.unmapPages(d, 0x200000, 0x1000, 1, g)).toBe(0x1000);
    d.ops.iotlbSync!(d, g);
    const live = d.pt.alloc.liveCount;
    const syncs = d.pt.syncCount;
    expect(raw(d, 0x200000, 0x200000, 1).ret).toBe(0);
    expect(d.pt.alloc.liveCount).toBe(live - 1);
    expect(d.pt.syncCount).toBe(syncs + 1);
    expect(d.pt.walkSteps(0x200000)!.at(-1)!.sizeLg2).toBe(21);
  });
});

describe("unmap_pages", () => {
  it("stops at the first hole, removes whole entries, 0 inside an entry", () => {
    const d = createPtDomain("amdv1");
    expect(raw(d, 0x40000000, 0x1000, 0x10).ret).toBe(0); // a 64K contiguous entry
    const g = new IotlbGather();
    expect(d.ops.unmapPages(d, 0x40004000, 0x1000, 1, g)).toBe(0);
    expect(d.ops.unmapPages(d, 0x40000000, 0x1000, 1, g)).toBe(0x10000);
    expect(d.ops.unmapPages(d, 0x40000000, 0x1000, 1, g)).toBe(0);
    expect(raw(d, 0x40000000, 0x1000, 2).ret).toBe(0);
    expect(raw(d, 0x40003000, 0x1000, 1).ret).toBe(0);
    expect(d.ops.unmapPages(d, 0x40000000, 0x1000, 4, g)).toBe(0x2000);
    d.ops.iotlbSync!(d, g);
  });

  it("FLUSH_RANGE_NO_GAPS syncs before adding a disjoint range", () => {
    const d = createPtDomain("x86_64", {
      features: bit(PT_FEAT_FLUSH_RANGE_NO_GAPS) | bit(PT_FEAT_FLUSH_RANGE),
    });
    raw(d, 0x1000, 0x1000, 1);
    raw(d, 0x100000, 0x1000, 1);
    const g = new IotlbGather();
    d.ops.unmapPages(d, 0x1000, 0x1000, 1, g);
    const s0 = d.pt.syncCount;
    d.ops.unmapPages(d, 0x100000, 0x1000, 1, g);
    expect(d.pt.syncCount).toBe(s0 + 1);
  });

  it.each(FORMATS)("%s: reads each entry of the walk once (one per level above, every leaf)", (f) => {
    const d = createPtDomain(f);
    const top = d.pt.topLevel;
    // Granule leaves (4K; amdv1_mock 2K): 512 of them fill one level-0 table.
    const P = d.pt.gSize;
    d.pgsizeBitmap = P;
    const mapped = new SizeOut();
    expect(d.ops.mapPages(d, 0x40000000, 0x40000000, P, 512, RW, 0, mapped)).toBe(0);
    const r0 = d.counters.pteReads;
    const w0 = d.counters.pteWrites;
    // The whole level-0 table: the level-1 item is covered, its table is freed.
    expect(d.ops.unmapPages(d, 0x40000000, P, 512, new IotlbGather())).toBe(512 * P);
    expect(d.counters.pteReads - r0).toBe(top + 512);
    expect(d.counters.pteWrites - w0).toBe(512 + 1);
  });
});

describe("iova_to_phys / iova_to_phys_length", () => {
  it("amdv1: contiguous entries report their whole size, holes their span, outside: the unreachable block", () => {
    const d = createPtDomain("amdv1", { vaBits: 40 });
    const out = new PhysLength();
    raw(d, 0x40000000, 0x1000, 2, 0x7000000);
    iommuIovaToPhysLength(d, 0x40001abc, out);
    expect([out.mapped, out.physNumber, out.length]).toEqual([true, 0x7001abc, 0x2000]);
    iommuIovaToPhysLength(d, 0x40002000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x1000]);
    iommuIovaToPhysLength(d, 0x80000000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x40000000]);
    iommuIovaToPhysLength(d, 2 ** 41, out);
    expect([out.mapped, out.length]).toEqual([false, 2 ** 41]); // [2^41, 2^42): beyond the top
    expect(iommuIovaToPhys(d, 2 ** 41)).toBe(0); // the removed legacy op: (phys_addr_t)-ERANGE
    expect(iommuIovaToPhys(d, 0x80000000)).toBe(0);
  });

  it("riscv svnapot 64K and x86_64 upper half", () => {
    const r = createPtDomain("riscv");
    raw(r, 0x40000000, 0x10000, 1, 0x80000000);
    const out = new PhysLength();
    r.pt.iovaToPhysLength(0x4000f123, out);
    expect([out.mapped, out.physNumber, out.length]).toEqual([true, 0x8000f123, 0x10000]);
    const x = createPtDomain("x86_64");
    const m = new SizeOut();
    expect(x.ops.mapPages(x, 0xffff_ffff_ffe0_0000n, 0x40000000, 0x200000, 1, RW, 0, m)).toBe(0);
    x.pt.iovaToPhysLength(0xffff_ffff_ffe1_2345n, out);
    expect([out.mapped, out.physNumber, out.length]).toEqual([true, 0x40012345, 0x200000]);
    expect(iommuIovaToPhys(x, 0x0000_8000_0000_0000)).toBe(0); // non-canonical: unmapped
  });
});

describe("read_and_clear_dirty", () => {
  it("vtdss: records and clears D, NO_CLEAR keeps it; x86_64 has no dirty tracking", () => {
    const d = createPtDomain("vtdss");
    raw(d, 0x200000, 0x200000, 1);
    raw(d, 0x400000, 0x1000, 1);
    expect(d.pt.setDirty(0x200000)).toBe(0);
    expect(d.pt.setDirty(0x400000)).toBe(0);
    const seen: Array<[number, number]> = [];
    const bm = { record: (iova: number, len: number) => seen.push([iova, len]), gather: new IotlbGather() };
    expect(d.dirtyOps!.readAndClearDirty(d, 0x200000, 0x400000, 1, bm)).toBe(0);
    expect(seen).toEqual([
      [0x200000, 0x200000],
      [0x400000, 0x1000],
    ]);
    seen.length = 0;
    d.dirtyOps!.readAndClearDirty(d, 0x200000, 0x400000, 0, bm);
    d.dirtyOps!.readAndClearDirty(d, 0x200000, 0x400000, 0, bm);
    expect(seen.length).toBe(2);
    const x = createPtDomain("x86_64");
    expect(x.pt.readAndClearDirty(0, 0x1000, 0, bm)).toBe(-95);
  });

  it("amdv1: a dirty contiguous entry is reported with the kernel's index|(2^n-1) length", () => {
    const d = createPtDomain("amdv1");
    raw(d, 0x40000000, 0x1000, 16); // one 64K entry (16 items)
    expect(d.pt.setDirty(0x40005000)).toBe(0);
    const seen: Array<[number, number]> = [];
    const bm = { record: (iova: number, len: number) => seen.push([iova, len]), gather: new IotlbGather() };
    expect(d.dirtyOps!.readAndClearDirty(d, 0x40000000, 0x10000, 0, bm)).toBe(0);
    // end index = min(0 | 15, 16): 15 items, one short of the entry
    expect(seen).toEqual([[0x40000000, 15 * 0x1000]]);
    seen.length = 0;
    d.dirtyOps!.readAndClearDirty(d, 0x40000000, 0x10000, 0, bm);
    expect(seen).toEqual([]);
  });
});

describe("allocation failure at every table allocation of a map", () => {
  for (const f of FORMATS) {
    it(`${f}: -ENOMEM, rolled back, nothing leaked`, () => {
      // Map a range that needs several new tables (it crosses a 1G boundary).
      const iova = 0x3ff00000;
      const size = 0x400000;
      const probe = createPtDomain(f);
      const before = probe.pt.alloc.allocatedTotal;
      iommuMap(probe, iova, iova + 0x1000, size, RW);
      const needed = probe.pt.alloc.allocatedTotal - before;
      expect(needed).toBeGreaterThan(2);
      for (let k = 1; k <= needed; k++) {
        const counters = new IommuCounters();
        const alloc = new TableAllocator(undefined, { counters });
        const d = createPtDomain(f, { allocator: alloc, counters });
        alloc.failNth(k);
        let err: IommuError | undefined;
        try {
          iommuMap(d, iova, iova + 0x1000, size, RW);
        } catch (e) {
          err = e as IommuError;
        }
        expect(err?.code).toBe("ENOMEM");
        expect(err!.unrolled).toBe(err!.mapped);
        for (let va = iova; va < iova + size; va += 0x1000) expect(iommuIovaToPhys(d, va)).toBe(0);
        // The emptied tables stay until deinit, which frees every one of them.
        d.pt.deinit();
        expect(alloc.liveCount).toBe(0);
      }
      expect(iommuUnmap(probe, iova, size)).toBe(size);
      probe.pt.deinit();
      expect(probe.pt.alloc.liveCount).toBe(0);
    });
  }
});

describe("IOMMU_PT_DOMAIN_OPS: a driver composes its ops from ptDomainOps", () => {
  it.each(FORMATS)("%s: spread + the driver's flushes make a working domain", (f) => {
    const flushes: string[] = [];
    const base = createPtDomain(f);
    const ops: IommuDomainOps<PtDomain> = {
      ...ptDomainOps(f),
      name: "test-driver",
      iotlbSync(d, gather) {
        flushes.push("sync");
        d.pt.iotlbSync(gather);
      },
      flushIotlbAll() {
        flushes.push("all");
      },
    };
    base.ops = ops;
    iommuMap(base, 0x4000_0000, 0x1000_0000, 0x20_1000, RW);
    expect(iommuIovaToPhysLength(base, 0x4000_0123, new PhysLength()).length).toBe(0x20_0000);
    expect(iommuUnmap(base, 0x4000_0000, 0x20_1000)).toBe(0x20_1000);
    expect(flushes).toContain("sync");
    expect(ops.inspect!(base)!.geometry().format).toBe(f);
    // The partial table is one per format and holds only the generic ops.
    expect(ptDomainOps(f)).toBe(ptDomainOps(PT_FORMATS[f]));
    expect(Object.keys(ptDomainOps(f)).sort()).toEqual([
      "inspect",
      "iovaToPhysLength",
      "iovaToPhysRuns",
      "mapPages",
      "unmapPages",
    ]);
    expect(ptDirtyOps(f) !== null).toBe(PT_FORMATS[f].hasDirty);
    // createPtDomain's own ops: one table per format, named after it.
    expect(createPtDomain(f).ops).toBe(createPtDomain(f).ops);
    expect(createPtDomain(f).ops.name).toBe(`generic_pt-${f}`);
  });

  it("PT_FORMAT_NAMES lists every registered format once, by its own name", () => {
    expect([...PT_FORMAT_NAMES].sort()).toEqual(Object.keys(PT_FORMATS).sort());
    for (const n of PT_FORMAT_NAMES) expect(PT_FORMATS[n].name).toBe(n);
  });
});
