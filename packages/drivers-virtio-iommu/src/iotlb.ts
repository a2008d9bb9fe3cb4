/**
 * drivers/iommu/virtio-iommu.c (+ virtio spec §5.13.6): what invalidates a virtio-iommu
 * device's translation cache, for the core's IOTLB model. The driver has no invalidation
 * command: an UNMAP request removes the device's mappings of [virt_start, virt_end] — and with
 * them whatever the device cached for that range —, a DETACH ends the endpoint's use of the
 * domain, an ATTACH moves it (its old translations go). `map_pages` / `unmap_pages` only queue
 * requests (`viommu_add_req`); they are complete once `viommu_sync_req()` kicked the queue and
 * collected every request back from the device — the barrier (`iotlb_sync`, `iotlb_sync_map`,
 * `flush_iotlb_all`, and every synchronous request). Tags are device domain ids.
 *
 * The feed reads the driver's request log (`VirtioIommuOptions.logCapacity`): each request as
 * queued (decoded from its bytes in guest memory) and each completed sync. A request the device
 * answered with an error status invalidates nothing: it removed nothing.
 */
import {
  type Addr,
  type IommuDomain,
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
  type PhysLength,
} from "@iommu/core";
import { VIOMMU_LOG_PENDING, type ViommuLoggedRequest } from "./request-log.js";
import { type ViommuDomain, viommuIovaToPhysLength } from "./viommu-domain.js";
import {
  VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_UNMAP,
} from "./virtio-iommu-uapi.js";

/** Model-only: how {@link viommuIotlbFeed} reads the request log. */
export interface ViommuIotlbFeedOptions {
  /**
   * The endpoint id whose DMA the model stands for: ATTACH and DETACH of other endpoints leave
   * its entries alone. Default: any endpoint's ATTACH/DETACH counts.
   */
  endpoint?: number;
  /** Fault injection: replace (or drop with null) each logged entry before the model sees it. */
  rewrite?: (r: ViommuLoggedRequest) => ViommuLoggedRequest | null;
}

/** Model-only: options of {@link viommuIotlbModel}. */
export interface ViommuIotlbModelOptions extends Omit<IotlbModelOptions, "tag"> {
  /**
   * What one cached translation covers: `"granule"` (default) — one granule of the device's
   * `page_size_mask`, as QEMU's translate hands out (`addr_mask = granule − 1`) to whatever
   * caches it; `"unit"` — the whole aligned unit `iovaToPhysLength` answers (up to a MAP).
   */
  entry?: "granule" | "unit";
}

/**
 * Model-only: an IOTLB model of the device as `d`'s endpoints see it, tagged with the domain
 * id. Misses walk the driver's interval tree (what the kernel believes is mapped).
 */
export function viommuIotlbModel(d: ViommuDomain, options: ViommuIotlbModelOptions = {}): IotlbModel {
  const { entry = "granule", ...rest } = options;
  return new IotlbModel(entry === "unit" ? d : granuleView(d), { ...rest, tag: d.id });
}

/** `d` seen through lookups whose mapped units are one granule (every other field is `d`'s). */
function granuleView(d: ViommuDomain): IommuDomain {
  const g = d.viommu.granule;
  const view = Object.create(d) as ViommuDomain;
  view.ops = {
    ...d.ops!,
    iovaToPhysLength(_: IommuDomain, iova: Addr, out: PhysLength) {
      viommuIovaToPhysLength(d, iova, out);
      if (out.mapped && out.length > g) out.length = g;
    },
  };
  return view;
}

const NONE = { iova: 0, size: 0, leafOnly: false, leafSize: 0 };

/**
 * Model-only: one log entry as the device's cache sees it — `"sync"` for a completed
 * `viommu_sync_req()`; UNMAP → the range of the domain; DETACH → every entry of the domain;
 * ATTACH → every entry (the endpoint leaves whatever domain it was in); MAP, PROBE and requests
 * the device refused → null. `endpoint` −1 takes every endpoint's ATTACH/DETACH.
 */
export function viommuDecodeRequest(
  r: ViommuLoggedRequest,
  endpoint = -1,
): IotlbInvalidation | "sync" | null {
  if (r.type === 0) return "sync";
  if (r.status !== VIOMMU_LOG_PENDING && r.status !== VIRTIO_IOMMU_S_OK) return null;
  switch (r.type) {
    case VIRTIO_IOMMU_T_UNMAP:
      return {
        ...NONE,
        scope: "range",
        tag: r.domain,
        iova: r.start,
        size: r.end - r.start,
        command: "UNMAP",
      };
    case VIRTIO_IOMMU_T_DETACH:
      if (endpoint >= 0 && r.endpoint !== endpoint) return null;
      return { ...NONE, scope: "tag", tag: r.domain, command: "DETACH" };
    case VIRTIO_IOMMU_T_ATTACH:
      if (endpoint >= 0 && r.endpoint !== endpoint) return null;
      return { ...NONE, scope: "tag", tag: -1, command: "ATTACH" };
    default:
      return null;
  }
}

/**
 * Model-only: the requests `d`'s driver queued and the syncs that completed them since the
 * feed was made, applied to the model at each drain (each request issued, each sync a
 * barrier). Throws if the log is off or dropped entries.
 */
export function viommuIotlbFeed(d: ViommuDomain, options: ViommuIotlbFeedOptions = {}): IotlbCommandFeed {
  const log = d.viommu.log;
  if (!log) throw new Error("viommuIotlbFeed: the driver's request log is off (logCapacity)");
  const endpoint = options.endpoint ?? -1;
  let mark = log.total;
  return {
    drain(model) {
      const all = log.entries;
      const first = log.firstSince(mark, "viommuIotlbFeed");
      mark = log.total;
      for (let i = first; i < all.length; i++) {
        const r = options.rewrite ? options.rewrite(all[i]!) : all[i]!;
        if (!r) continue;
        const inv = viommuDecodeRequest(r, endpoint);
        if (inv === "sync") model.sync();
        else if (inv) model.issue(inv);
      }
    },
  };
}
