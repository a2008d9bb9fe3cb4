/**
 * Test kit (not published) for drivers/iommu/io-pgtable-arm-v7s.c and io-pgtable-dart.c: a
 * cfg over fresh memory with a recording TLB.
 */
import { IommuCounters, type IotlbGather, PhysMem, TableAllocator } from "@iommu/core";
import type { IommuFlushOps, IoPgtableCfg } from "../io-pgtable.js";

export interface TlbLog extends IommuFlushOps {
  calls: string[];
}

export function recordingTlb(): TlbLog {
  const calls: string[] = [];
  return {
    calls,
    tlbFlushAll: () => calls.push("all"),
    tlbFlushWalk: (iova, size, granule) =>
      calls.push(`walk ${iova.toString(16)} ${size.toString(16)} ${granule.toString(16)}`),
    tlbAddPage: (_g: IotlbGather, iova, granule) =>
      calls.push(`page ${iova.toString(16)} ${granule.toString(16)}`),
  };
}

export interface TestCfg extends IoPgtableCfg {
  tlb: TlbLog;
}

/** A cfg over a fresh 2 GiB arena at `base`, counters shared by allocator and format. */
export function testCfg(over: Partial<IoPgtableCfg> = {}, base = 0x8000_0000): TestCfg {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { base, counters });
  return {
    quirks: 0,
    pgsizeBitmap: 0x111_1000,
    ias: 32,
    oas: 32,
    coherentWalk: true,
    allocator,
    counters,
    ...over,
    tlb: recordingTlb(),
  };
}
