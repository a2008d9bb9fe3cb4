// drivers/iommu/virtio-iommu.c, what the driver puts on the request virtqueue
// (`__viommu_add_req()`) and when `viommu_sync_req()` saw every request come back: a model-only
// log, read from the request bytes in guest memory (the wire, as include/uapi/linux/
// virtio_iommu.h lays it out), for the IOTLB feed. Off unless a capacity is given, so the
// request path allocates nothing by default.

import { BoundedLog, type PhysMem } from "@iommu/core";
import { readLe64, readLe64End } from "./le64.js";
import {
  VIRTIO_IOMMU_REQ_LAYOUT,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
} from "./virtio-iommu-uapi.js";

/** Model-only: `status` of a logged request the device has not returned yet. */
export const VIOMMU_LOG_PENDING = -1;

/**
 * Model-only: one log entry — a request as added to the queue (`type` = `VIRTIO_IOMMU_T_*`),
 * or, with `type` 0, a `viommu_sync_req()` that collected every request queued before it.
 */
export interface ViommuLoggedRequest {
  type: number;
  /** `domain` of ATTACH/DETACH/MAP/UNMAP (−1 otherwise). */
  domain: number;
  /** `endpoint` of ATTACH/DETACH/PROBE (−1 otherwise). */
  endpoint: number;
  /** MAP/UNMAP: [start, end) from `virt_start` and `virt_end` + 1 (0 otherwise). */
  start: number;
  end: number;
  /**
   * The tail status the device wrote (`VIRTIO_IOMMU_S_*`; IOERR for a buffer it returned
   * unwritten), once `viommu_sync_req()` collected it; {@link VIOMMU_LOG_PENDING} before.
   */
  status: number;
}

/** Model-only: the request log of one {@link VirtioIommu} (oldest entries dropped past the capacity). */
export class ViommuRequestLog extends BoundedLog<ViommuLoggedRequest> {
  /** Log the request whose device-readable part starts at `pa`; returns the entry (status pending). */
  request(mem: PhysMem, pa: number): ViommuLoggedRequest {
    const L = VIRTIO_IOMMU_REQ_LAYOUT;
    const type = mem.read32(pa) & 0xff;
    const r: ViommuLoggedRequest = {
      type,
      domain: -1,
      endpoint: -1,
      start: 0,
      end: 0,
      status: VIOMMU_LOG_PENDING,
    };
    switch (type) {
      case VIRTIO_IOMMU_T_ATTACH:
      case VIRTIO_IOMMU_T_DETACH:
        r.domain = mem.read32(pa + L.attach.domain);
        r.endpoint = mem.read32(pa + L.attach.endpoint);
        break;
      case VIRTIO_IOMMU_T_MAP:
      case VIRTIO_IOMMU_T_UNMAP:
        r.domain = mem.read32(pa + L.map.domain);
        r.start = readLe64(mem, pa + L.map.virtStart);
        r.end = readLe64End(mem, pa + L.map.virtEnd);
        break;
      case VIRTIO_IOMMU_T_PROBE:
        r.endpoint = mem.read32(pa + L.probe.endpoint);
        break;
    }
    this.push(r);
    return r;
  }

  /** Log a completed `viommu_sync_req()`. */
  sync(): void {
    this.push({ type: 0, domain: -1, endpoint: -1, start: 0, end: 0, status: 0 });
  }
}
