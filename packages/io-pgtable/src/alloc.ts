import { appleDartInitFns } from "./apple-dart/index.js";
import { armLpaeInitFns } from "./arm-lpae/index.js";
import { armV7sInitFns } from "./arm-v7s/index.js";
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
const initTable: Array<IoPgtableInitFns | undefined> = [];
initTable[IoPgtableFmt.ARM_32_LPAE_S1] = armLpaeInitFns.arm32S1;
initTable[IoPgtableFmt.ARM_32_LPAE_S2] = armLpaeInitFns.arm32S2;
initTable[IoPgtableFmt.ARM_64_LPAE_S1] = armLpaeInitFns.arm64S1;
initTable[IoPgtableFmt.ARM_64_LPAE_S2] = armLpaeInitFns.arm64S2;
initTable[IoPgtableFmt.ARM_MALI_LPAE] = armLpaeInitFns.mali;
initTable[IoPgtableFmt.ARM_V7S] = armV7sInitFns;
initTable[IoPgtableFmt.APPLE_DART] = appleDartInitFns;
initTable[IoPgtableFmt.APPLE_DART2] = appleDartInitFns;

const byOps = new WeakMap<IoPgtableOps, IoPgtable>();

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
  if (fmt < 0 || fmt >= IO_PGTABLE_NUM_FMTS) return null;
  const fns = initTable[fmt];
  if (!fns) return null;
  if (cfg.customAllocator && !(fns.caps & IO_PGTABLE_CAP_CUSTOM_ALLOCATOR)) return null;
  cfg.fmt = fmt;
  const iop = fns.alloc(cfg, cookie);
  if (!iop) return null;
  iop.fmt = fmt;
  iop.cookie = cookie;
  iop.cfg = { ...cfg };
  byOps.set(iop.ops, iop);
  return iop.ops;
}

/** `io_pgtable_ops_to_pgtable()` */
export function ioPgtableOpsToPgtable(ops: IoPgtableOps): IoPgtable {
  const iop = byOps.get(ops);
  if (!iop) throw new TypeError("not an io-pgtable ops table");
  return iop;
}

/** `free_io_pgtable_ops()`: flush the whole TLB, then let the format free its tables. */
export function freeIoPgtableOps(ops: IoPgtableOps | null): void {
  if (!ops) return;
  const iop = ioPgtableOpsToPgtable(ops);
  iop.cfg.tlb?.tlbFlushAll(iop.cookie);
  initTable[iop.fmt]!.free(iop);
  byOps.delete(ops);
}
