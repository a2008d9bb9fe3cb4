/**
 * drivers/iommu/io-pgtable.c: the format registry (`io_pgtable_init_table[]`),
 * `alloc_io_pgtable_ops()`, `free_io_pgtable_ops()` and `io_pgtable_ops_to_pgtable()`.
 */

import { appleDartInitFns } from "./apple-dart/apple-dart.js";
import { armLpaeInitFns } from "./arm-lpae/formats.js";
import { armV7sInitFns } from "./arm-v7s/arm-v7s.js";
import { checkIoPgtableCfg } from "./cfg-check.js";
import {
  IO_PGTABLE_CAP_CUSTOM_ALLOCATOR,
  IO_PGTABLE_NUM_FMTS,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableInitFns,
  type IoPgtableOps,
} from "./io-pgtable.js";

/** `io_pgtable_init_table`: every format built in. DART and DART2 share one set of fns. */
const INIT_TABLE: readonly (IoPgtableInitFns | undefined)[] = (() => {
  const t: Array<IoPgtableInitFns | undefined> = [];
  t[IoPgtableFmt.ARM_32_LPAE_S1] = armLpaeInitFns.arm32S1;
  t[IoPgtableFmt.ARM_32_LPAE_S2] = armLpaeInitFns.arm32S2;
  t[IoPgtableFmt.ARM_64_LPAE_S1] = armLpaeInitFns.arm64S1;
  t[IoPgtableFmt.ARM_64_LPAE_S2] = armLpaeInitFns.arm64S2;
  t[IoPgtableFmt.ARM_MALI_LPAE] = armLpaeInitFns.mali;
  t[IoPgtableFmt.ARM_V7S] = armV7sInitFns;
  t[IoPgtableFmt.APPLE_DART] = appleDartInitFns;
  t[IoPgtableFmt.APPLE_DART2] = appleDartInitFns;
  return t;
})();

/**
 * The `container_of()` link from an ops table to its `struct io_pgtable`, kept on the ops
 * object itself (under a symbol no format uses), cleared when the table is freed.
 */
const IO_PGTABLE = Symbol("io_pgtable");
type LinkedOps = IoPgtableOps & { [IO_PGTABLE]?: IoPgtable | null };

/**
 * `alloc_io_pgtable_ops()`: validate the custom-allocator request, let the format build its
 * table (it may narrow `cfg`), and keep a copy of the resulting cfg. Returns null where the
 * kernel returns NULL.
 */
export function allocIoPgtableOps(
  fmt: IoPgtableFmt,
  cfg: IoPgtableCfg,
  cookie: unknown = null,
): IoPgtableOps | null {
  checkIoPgtableCfg(cfg);
  if (fmt < 0 || fmt >= IO_PGTABLE_NUM_FMTS) return null;
  const fns = INIT_TABLE[fmt];
  if (!fns) return null;
  if (cfg.customAllocator && !(fns.caps & IO_PGTABLE_CAP_CUSTOM_ALLOCATOR)) return null;
  cfg.fmt = fmt;
  const iop = fns.alloc(cfg, cookie);
  if (!iop) return null;
  iop.fmt = fmt;
  iop.cookie = cookie;
  iop.cfg = { ...cfg };
  (iop.ops as LinkedOps)[IO_PGTABLE] = iop;
  return iop.ops;
}

/** `io_pgtable_ops_to_pgtable()`; a TypeError for ops that are not (or no longer) a live table's. */
export function ioPgtableOpsToPgtable(ops: IoPgtableOps): IoPgtable {
  const iop = (ops as LinkedOps)[IO_PGTABLE];
  if (!iop) throw new TypeError("not an io-pgtable ops table");
  return iop;
}

/** `free_io_pgtable_ops()`: flush the whole TLB, then let the format free its tables. */
export function freeIoPgtableOps(ops: IoPgtableOps | null): void {
  if (!ops) return;
  const iop = ioPgtableOpsToPgtable(ops);
  iop.cfg.tlb?.tlbFlushAll(iop.cookie);
  INIT_TABLE[iop.fmt]!.free(iop);
  (ops as LinkedOps)[IO_PGTABLE] = null;
}
