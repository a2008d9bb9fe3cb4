/**
 * drivers/iommu/io-pgtable-arm-selftests.c: the KUnit suite `io-pgtable-arm-test`
 * (`arm_lpae_do_selftests`), ported.
 */

import {
  and64,
  GFP_KERNEL,
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  SizeOut,
  SZ_1G,
  SZ_2G,
  type TableAllocator,
} from "@iommu/core";
import { allocIoPgtableOps, freeIoPgtableOps } from "../alloc.js";
import {
  IO_PGTABLE_QUIRK_NO_WARN,
  type IommuFlushOps,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";

/** `arm_lpae_do_selftests()`'s `pgsize[]`: the page-size sets it runs. */
export const ARM_LPAE_SELFTEST_PGSIZES = [0x40201000, 0x2004000, 0x20010000] as const;
/** `arm_lpae_do_selftests()`'s `address_size[]`: each run with ias ≤ oas. */
export const ARM_LPAE_SELFTEST_ADDRESS_SIZES = [32, 36, 40, 42, 44, 48] as const;

/** `arm_lpae_do_selftests()`'s inputs: the KUnit test context as the model has it. */
export interface ArmLpaeSelftestOptions {
  allocator: TableAllocator;
  counters: IommuCounters;
  /** Receives the kunit_info/kunit_err/KUNIT_FAIL lines. */
  log?: (line: string) => void;
}

/** `arm_lpae_do_selftests()`'s PASS / FAIL counts. */
export interface ArmLpaeSelftestResult {
  pass: number;
  fail: number;
}

/**
 * `arm_lpae_do_selftests()`, the io-pgtable-arm KUnit selftest ported: for each
 * of the 63 page-size/ias/oas configurations, run the checks on ARM_64_LPAE_S1 and S2 with
 * NO_WARN and TLB callbacks that WARN on a size outside the bitmap. A configuration passes
 * when both formats pass. Failures are KUNIT_FAIL (logged, not WARNs).
 */
export function armLpaeDoSelftests(options: ArmLpaeSelftestOptions): ArmLpaeSelftestResult {
  const { allocator, counters } = options;
  const log = options.log ?? (() => {});
  const cfg: IoPgtableCfg = {
    quirks: IO_PGTABLE_QUIRK_NO_WARN,
    pgsizeBitmap: 0,
    ias: 0,
    oas: 0,
    coherentWalk: true,
    allocator,
    counters,
  };
  const check = (cookie: unknown, size: number): void => {
    if (cookie !== cfg) counters.warn("selftest: wrong TLB cookie");
    if (and64(size, cfg.pgsizeBitmap) === 0) counters.warn("selftest: TLB size not in pgsize_bitmap");
  };
  const tlb: IommuFlushOps = {
    tlbFlushAll: (cookie) => {
      if (cookie !== cfg) counters.warn("selftest: wrong TLB cookie");
    },
    tlbFlushWalk: (_iova, size, _granule, cookie) => check(cookie, size),
    tlbAddPage: (_gather, _iova, granule, cookie) => check(cookie, granule),
  };
  cfg.tlb = tlb;
  let pass = 0;
  let fail = 0;
  for (const pgsizes of ARM_LPAE_SELFTEST_PGSIZES) {
    for (let j = 0; j < ARM_LPAE_SELFTEST_ADDRESS_SIZES.length; j++) {
      for (let k = 0; k <= j; k++) {
        cfg.pgsizeBitmap = pgsizes;
        cfg.ias = ARM_LPAE_SELFTEST_ADDRESS_SIZES[k]!;
        cfg.oas = ARM_LPAE_SELFTEST_ADDRESS_SIZES[j]!;
        log(`pgsize_bitmap 0x${pgsizes.toString(16).padStart(8, "0")}, IAS ${cfg.ias} OAS ${cfg.oas}`);
        if (runTests(cfg, log)) pass++;
        else fail++;
      }
    }
  }
  log(`completed with ${pass} PASS ${fail} FAIL`);
  return { pass, fail };
}

/** `arm_lpae_run_tests()`: stops at the first failure, leaving that table allocated as the kernel does. */
function runTests(cfg: IoPgtableCfg, log: (line: string) => void): boolean {
  const fmts = [IoPgtableFmt.ARM_64_LPAE_S1, IoPgtableFmt.ARM_64_LPAE_S2];
  const mapped = new SizeOut();
  const rwxc = IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE;
  for (let i = 0; i < fmts.length; i++) {
    const failed = (): false => {
      log(`test failed for fmt idx ${i}`);
      return false;
    };
    const ops = allocIoPgtableOps(fmts[i]!, cfg, cfg);
    if (!ops) {
      log("failed to allocate io pgtable ops");
      return false;
    }
    // An empty table translates nothing.
    if (
      ioPgtableIovaToPhys(ops, 42) !== 0 ||
      ioPgtableIovaToPhys(ops, SZ_1G + 42) !== 0 ||
      ioPgtableIovaToPhys(ops, SZ_2G + 42) !== 0
    )
      return failed();
    const sizes: number[] = [];
    for (let b = 0; b < 64; b++) if (and64(cfg.pgsizeBitmap, 2 ** b) !== 0) sizes.push(2 ** b);
    // Distinct mappings of each size, 1 GiB apart; an overlapping map must fail.
    let iova = 0;
    for (const size of sizes) {
      if (ops.mapPages(iova, iova, size, 1, rwxc, GFP_KERNEL, mapped)) return failed();
      if (!ops.mapPages(iova, iova + size, size, 1, IOMMU_READ | IOMMU_NOEXEC, GFP_KERNEL, mapped))
        return failed();
      if (ioPgtableIovaToPhys(ops, iova + 42) !== iova + 42) return failed();
      iova += SZ_1G;
    }
    // Full unmap, then remap write-only.
    iova = 0;
    for (const size of sizes) {
      if (ops.unmapPages(iova, size, 1, null) !== size) return failed();
      if (ioPgtableIovaToPhys(ops, iova + 42) !== 0) return failed();
      if (ops.mapPages(iova, iova, size, 1, IOMMU_WRITE, GFP_KERNEL, mapped)) return failed();
      if (ioPgtableIovaToPhys(ops, iova + 42) !== iova + 42) return failed();
      iova += SZ_1G;
    }
    // The largest page at the very top of the input range (concatenated pgd corner cases).
    mapped.value = 0;
    const size = sizes[sizes.length - 1]!;
    iova = 2 ** cfg.ias - size;
    if (ops.mapPages(iova, iova, size, 1, rwxc, GFP_KERNEL, mapped)) return failed();
    if (mapped.value !== size) return failed();
    if (ops.unmapPages(iova, size, 1, null) !== size) return failed();
    freeIoPgtableOps(ops);
  }
  return true;
}
