/**
 * drivers/iommu/intel/dmar.c + cache.c: what a VT-d unit does with the invalidation
 * descriptors `cache_tag_flush_*` queue, for the core's IOTLB model — IOTLB descriptors
 * (PSI: 2^AM pages at ADDR, IH = leaves only; DSI: the whole domain id), PASID-based IOTLB
 * descriptors (page-selective or every non-global entry of the PASID), each completed by the
 * submission's wait descriptor.
 *
 * The feed reads each unit's descriptor log (nothing in the invalidation path changes). The
 * model holds one PASID: PASID-based descriptors are matched on the domain id only.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import type { DmarDomain } from "./domain.js";
import {
  type IntelQi,
  QI_EIOTLB_TYPE,
  QI_GRAN_DSI,
  QI_GRAN_NONG_PASID,
  QI_GRAN_PSI,
  QI_GRAN_PSI_PASID,
  QI_IOTLB_TYPE,
  QI_IWD_TYPE,
  type QiDesc,
} from "./qi.js";

/** Model-only: how {@link intelIotlbFeed} reads the queues. */
export interface IntelIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each descriptor before the unit executes it. */
  rewrite?: (desc: QiDesc) => QiDesc | null;
}

/** The tag a VT-d domain's translations carry on its first unit: the domain id. */
export function intelIotlbTag(d: DmarDomain): number {
  const t = d.cacheTags[0];
  if (!t) throw new Error("intelIotlbTag: the domain is not attached");
  return t.domainId;
}

/** Model-only: an IOTLB model of the unit `d` is attached through (tagged with its domain id). */
export function intelIotlbModel(d: DmarDomain, options: Omit<IotlbModelOptions, "tag"> = {}): IotlbModel {
  return new IotlbModel(d, { ...options, tag: intelIotlbTag(d) });
}

/** Model-only: one descriptor as the unit applies it; `"sync"` for a wait descriptor. */
export function intelDecodeQiDesc(q: QiDesc): IotlbInvalidation | "sync" | null {
  const base = { iova: 0, size: 0, leafOnly: false, leafSize: 0, tag: q.did };
  if (q.type === QI_IWD_TYPE) return "sync";
  if (q.type === QI_IOTLB_TYPE) {
    if (q.gran === QI_GRAN_DSI) return { ...base, scope: "tag", command: "IOTLB DSI" };
    if (q.gran === QI_GRAN_PSI)
      return {
        ...base,
        scope: "range",
        iova: Number(q.addr),
        size: 2 ** (q.am + 12),
        leafOnly: q.ih === 1,
        command: "IOTLB PSI",
      };
    // Global invalidation: every domain.
    return { ...base, scope: "all", tag: -1, command: "IOTLB GLOBAL" };
  }
  if (q.type === QI_EIOTLB_TYPE) {
    if (q.gran === QI_GRAN_NONG_PASID) return { ...base, scope: "tag", command: "PIOTLB PASID" };
    if (q.gran === QI_GRAN_PSI_PASID)
      return {
        ...base,
        scope: "range",
        iova: Number(q.addr),
        size: 2 ** (q.am + 12),
        leafOnly: q.ih === 1,
        command: "PIOTLB PSI",
      };
  }
  return null;
}

/**
 * Model-only: the descriptors queued since the feed was made on the unit `d` is attached
 * through first (the unit whose IOTLB {@link intelIotlbModel} models; each unit has its own),
 * applied to the model at each drain. Throws if the log dropped descriptors.
 */
export function intelIotlbFeed(d: DmarDomain, options: IntelIotlbFeedOptions = {}): IotlbCommandFeed {
  const tag = d.cacheTags[0];
  if (!tag) throw new Error("intelIotlbFeed: the domain is not attached");
  const qi: IntelQi = tag.unit.qi;
  let mark = qi.issued;
  return {
    drain(model) {
      const log = qi.log(mark);
      if (log.length !== qi.issued - mark)
        throw new Error(`intelIotlbFeed: ${qi.issued - mark - log.length} descriptors fell off the log`);
      mark = qi.issued;
      for (const raw of log) {
        const q = options.rewrite ? options.rewrite(raw) : raw;
        if (!q) continue;
        const inv = intelDecodeQiDesc(q);
        if (inv === "sync") model.sync();
        else if (inv) model.issue(inv);
      }
    },
  };
}
