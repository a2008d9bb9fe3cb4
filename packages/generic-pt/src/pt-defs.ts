/**
 * drivers/iommu/generic_pt/pt_defs.h and the structs of include/linux/generic_pt/iommu.h: entry
 * types, write attributes, the init-time `pt_common` fields, the config and driver hooks, and
 * the constants every op file shares.
 */
import { ERRNO, type IotlbGather } from "@iommu/core";

/** `PT_ENTRY_EMPTY` (`enum pt_entry_type`) */
export const PT_ENTRY_EMPTY = 0;
/** `PT_ENTRY_TABLE` */
export const PT_ENTRY_TABLE = 1;
/** `PT_ENTRY_OA` */
export const PT_ENTRY_OA = 2;
/** `enum pt_entry_type` */
export type PtEntryType = typeof PT_ENTRY_EMPTY | typeof PT_ENTRY_TABLE | typeof PT_ENTRY_OA;

/** `struct pt_write_attrs`: the descriptor bits set_prot computed, split in 32-bit halves. */
export class PtAttrs {
  lo = 0;
  hi = 0;
}

/** `struct pt_common` as fmt_init may change it: the table geometry plus the top level. */
export interface PtCommonInit {
  features: number;
  maxVasz: number;
  maxOasz: number;
  topLevel: number;
}

/** `struct pt_iommu_<fmt>_cfg` (common part `struct pt_iommu_cfg` plus the level). */
export interface PtIommuConfig {
  /** `common.features` (bit mask of PT_FEAT_*). */
  features: number;
  /** `common.hw_max_vasz_lg2` */
  vaBits: number;
  /** `common.hw_max_oasz_lg2` */
  oaBits: number;
  /** amdv1 `starting_level`, vtdss/x86_64 `top_level`; undefined = the format's default. */
  level?: number;
  /** Whether an `iommu_device` is set (needed by DMA_INCOHERENT). */
  hasIommuDevice?: boolean;
}

/** `struct pt_iommu_driver_ops` plus the model's hooks. */
export interface PtDriverHooks {
  /** `change_top`: the top table moved (amdv1 dynamic top growth). */
  changeTop?(topPa: number, topLevel: number): void;
  /** Informational kernel messages (pr_err, WARN text). */
  log?(text: string): void;
  /**
   * The driver's `iotlb_sync` for the syncs generic_pt issues itself (map replacing empty
   * tables by a leaf): it must free the gathered pages (`PtTable.iotlbSync` does).
   * Default: the table's own `iotlbSync`.
   */
  iotlbSync?(gather: IotlbGather): void;
}

/** `iommu_pages_*_incoherent()` calls a DMA_INCOHERENT table makes (model-only counters). */
export class IncoherentStats {
  start = 0;
  flush = 0;
  flushBytes = 0;
  stop = 0;
}

/** `pt_iommu_<fmt>_hw_info`: one named value, in the harness's print order. */
export interface PtHwInfoField {
  readonly name: string;
  readonly value: number;
  /** Print as hex (addresses) rather than decimal (modes, levels). */
  readonly hex: boolean;
}

/** `-EINVAL` (op return values are negative errnos; hot op files keep local copies). */
export const EINVAL = -ERRNO.EINVAL;
/** `-ENOMEM` */
export const ENOMEM = -ERRNO.ENOMEM;
/** `-EADDRINUSE` */
export const EADDRINUSE = -ERRNO.EADDRINUSE;
/** `-EOPNOTSUPP` */
export const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;

/** `PAGE_SIZE`: every format here has a 4 KiB granule and 4 KiB tables. */
export const PAGE = 4096;

/**
 * `pgsize * pgcount` as the kernel's size_t product: wraps modulo 2^64 (the rare huge case
 * goes through BigInt to stay exact).
 */
export function sizeTimes(pgsize: number, pgcount: number): number {
  const len = pgsize * pgcount;
  if (len < 2 ** 53) return len;
  const v = (BigInt(pgsize) * BigInt(pgcount)) % (1n << 64n);
  return Number(v);
}
