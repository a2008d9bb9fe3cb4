/**
 * drivers/iommu/generic_pt/iommu_pt.h `pt_iommu_<fmt>_init`: config checks in the kernel's
 * order (`pt_init_common`, `fmt_init`), `get_info`, the domain aperture and the top table.
 */
import type { IommuCounters, TableAllocator } from "@iommu/core";
import {
  bit,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
} from "./features.js";
import { gAddr } from "./granule.js";
import type { PtFormat } from "./pt-common.js";
import {
  EINVAL,
  ENOMEM,
  EOPNOTSUPP,
  type PtCommonInit,
  type PtDriverHooks,
  type PtIommuConfig,
} from "./pt-defs.js";
import { or52, P2 } from "./pt-log2.js";
import { PtTable } from "./pt-table.js";

/**
 * `pt_iommu_<fmt>_init`: validate the config like the kernel (same errno, same order),
 * allocate the top table — or, with `existingTop`, adopt the table already at that address
 * in the allocator's memory (tools reading a dumped image). Returns the table or -errno.
 */
export function ptIommuInit(
  fmt: PtFormat,
  cfg: PtIommuConfig,
  alloc: TableAllocator,
  counters: IommuCounters,
  hooks: PtDriverHooks = {},
  existingTop?: number,
): PtTable | number {
  if (cfg.vaBits > fmt.maxVaLg2 || !cfg.vaBits || !cfg.oaBits) return EINVAL;
  const common: PtCommonInit = {
    features: cfg.features,
    maxVasz: cfg.vaBits,
    maxOasz: cfg.oaBits,
    topLevel: 0,
  };
  let ret = fmt.fmtInit(cfg.level, cfg.vaBits, cfg.oaBits, common);
  if (ret) return ret;
  if (cfg.oaBits > fmt.maxOaLg2) return EINVAL;
  // pt_init_common
  const pt = new PtTable(fmt, alloc, counters, hooks);
  pt.features = common.features;
  pt.maxVasz = common.maxVasz;
  const dyn = pt.feature(PT_FEAT_DYNAMIC_TOP);
  const topMax =
    dyn && common.topLevel !== fmt.maxTopLevel
      ? Math.min(common.maxVasz, fmt.numItemsLg2(common.topLevel) + fmt.granuleLg2 + 9 * common.topLevel)
      : common.maxVasz;
  if (common.topLevel > fmt.maxTopLevel) return EINVAL;
  if (common.topLevel === fmt.maxTopLevel || common.maxVasz === topMax)
    common.features &= ~bit(PT_FEAT_DYNAMIC_TOP);
  if (topMax === 64) common.features |= bit(PT_FEAT_FULL_VA);
  if (common.features & ~fmt.supported || (common.features & fmt.forced) !== fmt.forced) return EOPNOTSUPP;
  pt.features = common.features;
  if (!pt.feature(PT_FEAT_DYNAMIC_TOP) && common.topLevel !== fmt.maxTopLevel) {
    if (common.maxVasz > fmt.numItemsLg2(common.topLevel) + fmt.granuleLg2 + 9 * common.topLevel)
      return EOPNOTSUPP;
  }
  common.maxOasz = common.maxOasz === 0 ? fmt.maxOaLg2 : Math.min(common.maxOasz, fmt.maxOaLg2);
  if (pt.feature(PT_FEAT_SIGN_EXTEND) && (pt.feature(PT_FEAT_FULL_VA) || pt.feature(PT_FEAT_DYNAMIC_TOP)))
    return EINVAL;
  if (pt.feature(PT_FEAT_DMA_INCOHERENT) && cfg.hasIommuDevice === false) {
    counters.warn("generic_pt init: DMA_INCOHERENT without an iommu_device");
    return EINVAL;
  }
  ret = ptSetup(pt, common, existingTop);
  if (ret) return ret;
  return pt;
}

/**
 * `pt_init_common` (its outcome), `get_info`, `pt_iommu_init_domain` and the top table
 * allocation: the last steps of {@link ptIommuInit}.
 */
export function ptSetup(pt: PtTable, common: PtCommonInit, existingTop?: number): number {
  pt.features = common.features;
  pt.maxVasz = common.maxVasz;
  pt.maxOasz = common.maxOasz;
  pt.fDyn = pt.feature(PT_FEAT_DYNAMIC_TOP);
  pt.fSign = pt.feature(PT_FEAT_SIGN_EXTEND);
  pt.fIncoherent = pt.feature(PT_FEAT_DMA_INCOHERENT);
  pt.fFlushRange = pt.feature(PT_FEAT_FLUSH_RANGE);
  pt.fNoGaps = pt.feature(PT_FEAT_FLUSH_RANGE_NO_GAPS);
  pt.topLevel = common.topLevel;
  pt.computeTopRange();
  // get_info
  let bitmap = 0;
  if (pt.fDyn) {
    for (let l = 0; l <= pt.fmt.maxTopLevel; l++) {
      if (pt.itemLg2(l) >= pt.maxVasz) break;
      bitmap = or52(bitmap, pt.fmt.possibleSizes(l, pt.features));
    }
  } else {
    for (let l = 0; l <= pt.topLevel; l++) bitmap = or52(bitmap, pt.fmt.possibleSizes(l, pt.features));
  }
  if (pt.maxOasz < 64) bitmap %= P2[pt.maxOasz]!;
  pt.pgsizeBitmap = bitmap;
  pt.setDomainBitmap(bitmap);
  // pt_iommu_init_domain: the aperture, with DYNAMIC_TOP the range at PT_MAX_TOP_LEVEL.
  const apBits = (pt.fDyn ? pt.maxVasz : pt.rangeMaxVasz) - (pt.fSign ? 1 : 0);
  pt.apertureStart = 0;
  pt.apertureEnd = gAddr(pt.gLg2, P2[apBits - pt.gLg2]! - 1, pt.gSize - 1);
  // table_alloc_top
  if (existingTop !== undefined) {
    // Adopt a table that already lives in memory (a dumped image): nothing to allocate.
    pt.adopted = true;
    pt.setTop(existingTop, pt.topLevel);
    return 0;
  }
  const pa = pt.allocTable(pt.topMemBytes(pt.topLevel), true);
  if (pa < 0) return ENOMEM;
  pt.setTop(pa, pt.topLevel);
  return 0;
}
