/**
 * drivers/iommu/io-pgtable-arm-v7s.c: the file's own boot-time selftest,
 * `arm_v7s_do_selftests()` (CONFIG_IOMMU_IO_PGTABLE_ARMV7S_SELFTEST), ported: one table per
 * page size at 16 MiB strides, overlapping maps that must fail, then unmap + remap of each.
 */

import {
  ERRNO,
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  SizeOut,
  SZ_1G,
  SZ_1M,
  SZ_2G,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  type TableAllocator,
} from "@iommu/core";
import {
  IO_PGTABLE_QUIRK_ARM_NS,
  type IommuFlushOps,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { type ArmV7sIoPgtable, armV7sInitFns } from "./arm-v7s.js";

/** `arm_v7s_do_selftests()`'s result. */
export interface ArmV7sSelftestResult {
  /** The selftest's return value: 0, -EFAULT (a check failed) or -EINVAL (no table). */
  ret: number;
}

/**
 * `selftest_running` (a file-scope bool in the kernel), held per run: set while the run's
 * table exists, so its deliberate overlapping maps do not WARN. Like the kernel's, an early
 * -EINVAL return leaves it set.
 */
export interface ArmV7sSelftestState {
  running: boolean;
}

/** Bit indices of a bitmap below 2^32, ascending (`for_each_set_bit`). */
function setBits(bitmap: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((bitmap >>> i) & 1) out.push(i);
  return out;
}

/**
 * `arm_v7s_do_selftests()`: run the selftest with tables from `allocator`, reporting WARNs (failed checks, the dummy
 * TLB ops' sanity checks) to `counters`. Like the kernel, a failing check leaks the table.
 */
export function armV7sDoSelftests(
  allocator: TableAllocator,
  counters: IommuCounters,
  state: ArmV7sSelftestState = { running: false },
): ArmV7sSelftestResult {
  let cookie: IoPgtableCfg | null = null;
  const dummyFlush = (_iova: number, size: number, _granule: number, c: unknown): void => {
    if (c !== cookie) counters.warn("dummy_tlb_flush: WARN_ON(cookie != cfg_cookie)");
    if (!(size & cookie!.pgsizeBitmap)) counters.warn("dummy_tlb_flush: WARN_ON(!(size & pgsize_bitmap))");
  };
  const tlb: IommuFlushOps = {
    tlbFlushAll(c) {
      if (c !== cookie) counters.warn("dummy_tlb_flush_all: WARN_ON(cookie != cfg_cookie)");
    },
    tlbFlushWalk: dummyFlush,
    tlbAddPage(_gather, iova, granule, c) {
      dummyFlush(iova, granule, granule, c);
    },
  };
  const cfg: IoPgtableCfg = {
    tlb,
    oas: 32,
    ias: 32,
    coherentWalk: true,
    quirks: IO_PGTABLE_QUIRK_ARM_NS,
    pgsizeBitmap: SZ_4K | SZ_64K | SZ_1M | SZ_16M,
    allocator,
    counters,
  };
  const fail = (): ArmV7sSelftestResult => {
    counters.warn("selftest: test failed");
    state.running = false;
    return { ret: -ERRNO.EFAULT };
  };

  state.running = true;
  cookie = cfg;
  // alloc_io_pgtable_ops(ARM_V7S, &cfg, &cfg), without importing the dispatcher (which imports us).
  cfg.fmt = IoPgtableFmt.ARM_V7S;
  const iop = armV7sInitFns.alloc(cfg, cfg) as ArmV7sIoPgtable | null;
  if (!iop) return { ret: -ERRNO.EINVAL }; // pr_err; selftest_running stays set, as in the kernel
  iop.selftestState = state;
  iop.fmt = IoPgtableFmt.ARM_V7S;
  iop.cookie = cfg;
  iop.cfg = { ...cfg };
  const ops = iop.ops;
  const mapped = new SizeOut();

  if (ioPgtableIovaToPhys(ops, 42)) return fail();
  if (ioPgtableIovaToPhys(ops, SZ_1G + 42)) return fail();
  if (ioPgtableIovaToPhys(ops, SZ_2G + 42)) return fail();

  const sizes = setBits(cfg.pgsizeBitmap).map((i) => 2 ** i);
  let iova = 0;
  for (const size of sizes) {
    if (ops.mapPages(iova, iova, size, 1, IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE, 0, mapped))
      return fail();
    // Overlapping mappings must be refused.
    if (!ops.mapPages(iova, iova + size, size, 1, IOMMU_READ | IOMMU_NOEXEC, 0, mapped)) return fail();
    if (ioPgtableIovaToPhys(ops, iova + 42) !== iova + 42) return fail();
    iova += SZ_16M;
  }

  iova = 0;
  for (const size of sizes) {
    if (ops.unmapPages(iova, size, 1, null) !== size) return fail();
    if (ioPgtableIovaToPhys(ops, iova + 42)) return fail();
    if (ops.mapPages(iova, iova, size, 1, IOMMU_WRITE, 0, mapped)) return fail();
    if (ioPgtableIovaToPhys(ops, iova + 42) !== iova + 42) return fail();
    iova += SZ_16M;
  }

  // free_io_pgtable_ops(): flush everything, then free the tables.
  tlb.tlbFlushAll(iop.cookie);
  armV7sInitFns.free(iop);
  state.running = false;
  return { ret: 0 };
}
