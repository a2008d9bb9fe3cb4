/**
 * drivers/iommu/mtk_iommu_v1.c: @iommu/drivers-mtk-iommu-v1's public surface — the M4U
 * instance (an IommuDriver), its domain and ops, the descriptor encoder, the inspector.
 */

export { MtkIommuV1Inspector } from "./inspect.js";
export {
  type MtkIommuV1DecodeState,
  type MtkIommuV1IotlbFeedOptions,
  type MtkIommuV1MmioAccess,
  mtkIommuV1DecodeMmio,
  mtkIommuV1IotlbFeed,
  mtkIommuV1IotlbModel,
} from "./iotlb.js";
export {
  createMtkIommuV1Ops,
  F_DESC_NONSEC,
  F_DESC_VALID,
  M2701_IOMMU_PGT_SIZE,
  MT2701_IOMMU_PAGE_SIZE,
  MTK_IOMMU_V1_QUIRKS,
  MTK_V1_ENTRIES,
  MtkIommuV1,
  type MtkIommuV1Domain,
  type MtkIommuV1MmioTap,
  type MtkIommuV1Options,
  type MtkIommuV1Quirk,
  mtkV1InTable,
  mtkV1MkDesc,
  REG_MMU_CPE_DONE,
  REG_MMU_INVALIDATE,
  REG_MMU_INVLD_END_A,
  REG_MMU_INVLD_START_A,
  REG_MMU_PT_BASE_ADDR,
} from "./mtk-iommu-v1.js";
