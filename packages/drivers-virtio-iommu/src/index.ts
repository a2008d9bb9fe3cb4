/**
 * drivers/iommu/virtio-iommu.c and the virtio-iommu device (virtio spec §5.13):
 * @iommu/drivers-virtio-iommu's public surface — the guest driver (an IommuDriver whose domains
 * are interval trees), the request queue, the device model whose translation is a host
 * IommuDomain, and the uapi constants and layouts.
 */

export { IntervalTree } from "./interval-tree.js";
// The IOTLB feed: UNMAP/ATTACH/DETACH requests and the syncs that complete them.
export {
  type ViommuIotlbFeedOptions,
  viommuDecodeRequest,
  viommuIotlbFeed,
  viommuIotlbModel,
} from "./iotlb.js";
export { VIOMMU_LOG_PENDING, type ViommuLoggedRequest, ViommuRequestLog } from "./request-log.js";
// Its domains and their ops.
export {
  alignedBlockIn,
  ViommuDomain,
  ViommuExtent,
  viommuAddMapping,
  viommuDelMappings,
  viommuDomainFree,
  viommuDomainOps,
  viommuIovaExtent,
  viommuIovaToPhysLength,
  viommuMapPages,
  viommuUnmapPages,
} from "./viommu-domain.js";
export { alignedBlockAt, viommuIovaToPhysRuns, viommuProtOfFlags } from "./viommu-runs.js";
// The guest driver.
export {
  MSI_IOVA_BASE,
  MSI_IOVA_LENGTH,
  type ViommuEndpoint,
  type ViommuResvRegion,
  type ViommuResvType,
  VirtioIommu,
  type VirtioIommuOptions,
} from "./virtio-iommu.js";
export {
  VirtioIommuDevice,
  type VirtioIommuDeviceDomain,
  type VirtioIommuDeviceMode,
  type VirtioIommuDeviceOptions,
  type VirtioIommuEndpointDesc,
  type VirtioIommuResvMem,
} from "./virtio-iommu-device.js";
// include/uapi/linux/virtio_iommu.h
export {
  VIRTIO_ID_IOMMU,
  VIRTIO_IOMMU_ATTACH_F_BYPASS,
  VIRTIO_IOMMU_CONFIG_LAYOUT,
  VIRTIO_IOMMU_F_BYPASS,
  VIRTIO_IOMMU_F_BYPASS_CONFIG,
  VIRTIO_IOMMU_F_DOMAIN_RANGE,
  VIRTIO_IOMMU_F_INPUT_RANGE,
  VIRTIO_IOMMU_F_MAP_UNMAP,
  VIRTIO_IOMMU_F_MMIO,
  VIRTIO_IOMMU_F_PROBE,
  VIRTIO_IOMMU_HEAD_SIZE,
  VIRTIO_IOMMU_MAP_F_MASK,
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
  VIRTIO_IOMMU_PROBE_T_MASK,
  VIRTIO_IOMMU_PROBE_T_NONE,
  VIRTIO_IOMMU_PROBE_T_RESV_MEM,
  VIRTIO_IOMMU_REQ_LAYOUT,
  VIRTIO_IOMMU_RESV_MEM_LAYOUT,
  VIRTIO_IOMMU_RESV_MEM_T_MSI,
  VIRTIO_IOMMU_RESV_MEM_T_RESERVED,
  VIRTIO_IOMMU_S_DEVERR,
  VIRTIO_IOMMU_S_FAULT,
  VIRTIO_IOMMU_S_INVAL,
  VIRTIO_IOMMU_S_IOERR,
  VIRTIO_IOMMU_S_NOENT,
  VIRTIO_IOMMU_S_NOMEM,
  VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_S_RANGE,
  VIRTIO_IOMMU_S_UNSUPP,
  VIRTIO_IOMMU_STATUS_NAMES,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
  VIRTIO_IOMMU_TAIL_SIZE,
  VIRTIO_IOMMU_TYPE_NAMES,
  viommuGetReqErrno,
} from "./virtio-iommu-uapi.js";
// The transport and the device.
export { VirtQueue, type VirtQueueHandler } from "./virtqueue.js";
