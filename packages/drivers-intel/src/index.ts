/**
 * drivers/iommu/intel/ (iommu.c, cache.c, dmar.c, iommu.h): @iommu/drivers-intel's public
 * surface — a VT-d unit as an IommuDriver, its paging domains on generic_pt, the cfg it
 * derives from CAP/ECAP, and the invalidation queue tests and tools inspect.
 */

// Cache tags and the IOTLB invalidation built from them.
export {
  type CacheTag,
  calculatePsiAlignedAddress,
  MAX_AGAW_PFN_WIDTH,
  type PsiRange,
} from "./cache.js";
export { DmarDomain, type DmarDomainStage } from "./domain.js";
// The unit (driver instance) and the cfg derivation.
export {
  FLPT_DEFAULT_DID,
  IDA_START_DID,
  type IntelHw,
  IntelIommu,
  type IntelIommuOptions,
  type IntelPtCfg,
  IOMMU_NO_PASID,
  intelFirstStageCfg,
  intelSecondStageCfg,
  intelSecondStageVasz,
  VTD_LEGACY_CAP,
  VTD_LEGACY_ECAP,
  VTD_SPR_CAP,
  VTD_SPR_ECAP,
} from "./intel-iommu.js";
// Model-only: the queued descriptors applied to the core's IOTLB model.
export {
  type IntelIotlbFeedOptions,
  intelDecodeQiDesc,
  intelIotlbFeed,
  intelIotlbModel,
  intelIotlbTag,
} from "./iotlb.js";
// The invalidation queue.
export {
  IntelQi,
  QI_EIOTLB_TYPE,
  QI_GRAN_DSI,
  QI_GRAN_NONG_PASID,
  QI_GRAN_PSI,
  QI_GRAN_PSI_PASID,
  QI_IOTLB_TYPE,
  QI_IWD_TYPE,
  QI_MAX_BATCHED_DESC_COUNT,
  type QiDesc,
} from "./qi.js";
// CAP_REG / ECAP_REG.
export {
  decodeVtdCap,
  decodeVtdEcap,
  encodeVtdCap,
  encodeVtdEcap,
  type Reg64,
  type VtdCap,
  type VtdEcap,
} from "./regs.js";
