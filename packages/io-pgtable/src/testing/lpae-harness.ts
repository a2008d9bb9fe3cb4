/**
 * Test kit (not published) for drivers/iommu/io-pgtable-arm.c: a cfg over a fresh
 * allocator, a recording TLB and helpers to read back descriptors.
 */
import { IommuCounters, type IotlbGather, PhysMem, TableAllocator } from "@iommu/core";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import type { ArmLpaeIoPgtable } from "../arm-lpae/pgtable.js";
import type { IommuFlushOps, IoPgtableCfg, IoPgtableFmt, IoPgtableOps } from "../io-pgtable.js";

/** A TLB that records every callback. */
export class RecordingTlb implements IommuFlushOps {
  flushAll = 0;
  readonly walks: Array<{ iova: number; size: number; granule: number }> = [];
  readonly pages: Array<{ iova: number; granule: number }> = [];
  tlbFlushAll(): void {
    this.flushAll++;
  }
  tlbFlushWalk(iova: number, size: number, granule: number): void {
    this.walks.push({ iova, size, granule });
  }
  tlbAddPage(_gather: IotlbGather, iova: number, granule: number): void {
    this.pages.push({ iova, granule });
  }
}

export interface Harness {
  ops: IoPgtableOps;
  iop: ArmLpaeIoPgtable;
  cfg: IoPgtableCfg;
  tlb: RecordingTlb;
  counters: IommuCounters;
  allocator: TableAllocator;
}

/** The inputs of a cfg; allocator, counters and tlb are made fresh unless given. */
export type CfgInput = Partial<IoPgtableCfg>;

export function makeCfg(input: CfgInput = {}): IoPgtableCfg {
  const counters = input.counters ?? new IommuCounters();
  return {
    quirks: 0,
    pgsizeBitmap: 0x40201000,
    ias: 48,
    oas: 48,
    coherentWalk: true,
    tlb: new RecordingTlb(),
    allocator: new TableAllocator(new PhysMem(), { counters }),
    counters,
    ...input,
  };
}

/** allocIoPgtableOps for an LPAE format, or null where the kernel refuses. */
export function tryAlloc(fmt: IoPgtableFmt, input: CfgInput = {}): Harness | null {
  const cfg = makeCfg(input);
  const ops = allocIoPgtableOps(fmt, cfg, cfg);
  if (!ops) return null;
  const iop = ioPgtableOpsToPgtable(ops) as ArmLpaeIoPgtable;
  return {
    ops,
    iop,
    cfg: iop.cfg,
    tlb: cfg.tlb as RecordingTlb,
    counters: cfg.counters,
    allocator: cfg.allocator,
  };
}

export function alloc(fmt: IoPgtableFmt, input: CfgInput = {}): Harness {
  const h = tryAlloc(fmt, input);
  if (!h) throw new Error("alloc_io_pgtable_ops refused the configuration");
  return h;
}

/** The descriptor the walk ends at for `iova` (0n when the walk stops at an empty entry). */
export function leafPte(h: Harness, iova: number | bigint): { pte: bigint; level: number; ret: number } {
  const wd = { ptes: [0n, 0n, 0n, 0n], level: 0 };
  const ret = h.ops.pgtableWalk!(iova, wd);
  return { pte: wd.ptes[wd.level]!, level: wd.level, ret };
}
