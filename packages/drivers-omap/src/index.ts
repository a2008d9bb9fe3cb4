/**
 * drivers/iommu/omap-iommu.c: @iommu/drivers-omap's public surface — the client's MMUs (an
 * IommuDriver), the domains and ops, the page-table layout of omap-iopgtable.h, the inspector.
 */

export { OmapInspector } from "./inspect.js";
export { type OmapIotlbFeedOptions, omapDecodeFlush, omapIotlbFeed, omapIotlbModel } from "./iotlb.js";
export {
  createOmapOps,
  OMAP_MMU_NAMES,
  OMAP_QUIRKS,
  type OmapDomain,
  OmapIommu,
  type OmapIommuDevice,
  type OmapIommuOptions,
  OmapMmu,
  type OmapQuirk,
  type OmapSoc,
  type OmapSyscon,
} from "./omap-iommu.js";
export {
  bytesToIopgsz,
  DSP_SYS_MMU_CONFIG,
  IOLARGE_MASK,
  IOPGD_SECTION,
  IOPGD_SUPER,
  IOPGD_TABLE,
  IOPGD_TABLE_SIZE,
  IOPTE_LARGE,
  IOPTE_MASK,
  IOPTE_SMALL,
  IOPTE_TABLE_SIZE,
  IOSECTION_MASK,
  IOSUPER_MASK,
  iopgdIsSection,
  iopgdIsSuper,
  iopgdIsTable,
  iopgdPagePaddr,
  iopteIsLarge,
  iopteIsSmall,
  MMU_CAM_PGSZ_1M,
  MMU_CAM_PGSZ_4K,
  MMU_CAM_PGSZ_16M,
  MMU_CAM_PGSZ_64K,
  MMU_CNTL,
  MMU_GP_REG,
  MMU_IRQENABLE,
  MMU_TTB,
  PTRS_PER_IOPGD,
  PTRS_PER_IOPTE,
} from "./omap-iopgtable.js";
