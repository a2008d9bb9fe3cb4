import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, freeIoPgtableOps, ioPgtableOpsToPgtable } from "./alloc.js";
import { IO_PGTABLE_NUM_FMTS, type IoPgtableCfg, IoPgtableFmt } from "./io-pgtable.js";

function cfg(over: Partial<IoPgtableCfg> = {}): IoPgtableCfg {
  const counters = new IommuCounters();
  return {
    quirks: 0,
    pgsizeBitmap: 0x40201000,
    ias: 48,
    oas: 48,
    coherentWalk: true,
    allocator: new TableAllocator(new PhysMem(), { counters }),
    counters,
    ...over,
  };
}

describe("alloc_io_pgtable_ops", () => {
  it("refuses unknown formats", () => {
    expect(allocIoPgtableOps(IO_PGTABLE_NUM_FMTS as IoPgtableFmt, cfg())).toBeNull();
    expect(allocIoPgtableOps(-1 as IoPgtableFmt, cfg())).toBeNull();
  });

  it("keeps a copy of the cfg as the format left it, with fmt and cookie", () => {
    const c = cfg({ pgsizeBitmap: 0x40201000 | 0x4000, ias: 52 });
    const cookie = { me: 1 };
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, c, cookie)!;
    const iop = ioPgtableOpsToPgtable(ops);
    expect(iop.fmt).toBe(IoPgtableFmt.ARM_64_LPAE_S1);
    expect(iop.cookie).toBe(cookie);
    expect(iop.cfg).not.toBe(c);
    expect([iop.cfg.pgsizeBitmap, iop.cfg.ias, c.pgsizeBitmap, c.ias]).toEqual([
      0x40201000, 48, 0x40201000, 48,
    ]);
    expect(c.fmt).toBe(IoPgtableFmt.ARM_64_LPAE_S1);
  });

  it("a custom allocator needs the format's capability (LPAE has it)", () => {
    expect(allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S2, cfg({ customAllocator: true }))).not.toBeNull();
  });

  it("free flushes the whole TLB, then frees every table", () => {
    let flushed = 0;
    const c = cfg({ tlb: { tlbFlushAll: () => flushed++, tlbFlushWalk: () => {} } });
    const ops = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, c)!;
    ops.mapPages(0x1000, 0x2000, 0x1000, 1, 3, 0, { value: 0 });
    expect(c.allocator.liveCount).toBe(4);
    freeIoPgtableOps(ops);
    expect(flushed).toBe(1);
    expect(c.allocator.liveCount).toBe(0);
    expect(() => ioPgtableOpsToPgtable(ops)).toThrow(TypeError);
    freeIoPgtableOps(null);
  });
});
