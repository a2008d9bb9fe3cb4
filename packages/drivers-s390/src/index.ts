/**
 * drivers/iommu/s390-iommu.c: @iommu/drivers-s390's public surface — the zPCI function (an
 * IommuDriver), its domains and ops, the translation-table layout of
 * arch/s390/include/asm/pci_dma.h, the inspector.
 */

export { S390Inspector, s390PteProt } from "./inspect.js";
export {
  type S390IotlbFeedOptions,
  type S390Rpcit,
  s390DecodeRpcit,
  s390IotlbFeed,
  s390IotlbModel,
} from "./iotlb.js";
export {
  S390_ORIGIN_TYPES,
  type S390OriginType,
  ZPCI_IOTA_DT_RF,
  ZPCI_IOTA_DT_RS,
  ZPCI_IOTA_DT_RT,
  ZPCI_IOTA_IOT_ENABLED,
  ZPCI_IOTA_RFTO_FLAG,
  ZPCI_IOTA_RSTO_FLAG,
  ZPCI_IOTA_RTTO_FLAG,
  ZPCI_PT_ENTRIES,
  ZPCI_PT_SIZE,
  ZPCI_PTE_INVALID,
  ZPCI_RTE_FLAG_MASK,
  ZPCI_STE_FLAG_MASK,
  ZPCI_TABLE_ENTRIES,
  ZPCI_TABLE_INVALID,
  ZPCI_TABLE_PROTECTED,
  ZPCI_TABLE_SIZE,
  ZPCI_TABLE_SIZE_RS,
  ZPCI_TABLE_SIZE_RT,
  ZPCI_TABLE_TYPE_MASK,
  ZPCI_TABLE_TYPE_RFX,
  ZPCI_TABLE_TYPE_RSX,
  ZPCI_TABLE_TYPE_RTX,
  ZPCI_TABLE_TYPE_SX,
} from "./pci-dma.js";
export {
  createS390Ops,
  PCI_FUNC_TYPE_ISM,
  S390_QUIRKS,
  type S390Domain,
  S390Iommu,
  type S390IommuOptions,
  type S390Quirk,
  s390OriginName,
  s390RegionEntrySpan,
  type ZpciIommuCtrs,
} from "./s390-iommu.js";
