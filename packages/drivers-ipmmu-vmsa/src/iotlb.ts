/**
 * drivers/iommu/ipmmu-vmsa.c: what an IPMMU context does with `ipmmu_tlb_invalidate` (IMCTR |=
 * FLUSH: the whole context's TLB, there is no page or range invalidation) and when the flush
 * is known complete (`ipmmu_tlb_sync` reading IMCTR with FLUSH clear), for the core's IOTLB
 * model. Translations are tagged with the root context the domain owns.
 *
 * The feed reads the root IPMMU's TLB event log (nothing in the invalidation path changes):
 * build the IPMMU with `tlbLogCapacity` > 0, large enough for one operation's events.
 */
import { type IotlbCommandFeed, IotlbModel, type IotlbModelOptions } from "@iommu/core";
import type { IpmmuVmsaDomain } from "./domain.js";
import type { IpmmuTlbEvent } from "./ipmmu-vmsa.js";

/** Model-only: how {@link ipmmuIotlbFeed} reads the log. */
export interface IpmmuIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each event before the IPMMU acts on it. */
  rewrite?: (event: IpmmuTlbEvent) => IpmmuTlbEvent | null;
}

/** Model-only: the tag an attached domain's translations carry — its context in the root IPMMU. */
export function ipmmuIotlbTag(d: IpmmuVmsaDomain): number {
  if (!d.mmu) throw new Error("ipmmuIotlbTag: the domain has no context yet (first attach)");
  return d.contextId;
}

/** Model-only: an IOTLB model of the IPMMU as the domain's micro-TLBs see it. */
export function ipmmuIotlbModel(
  d: IpmmuVmsaDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: ipmmuIotlbTag(d) });
}

/**
 * Model-only: the TLB events of `d`'s root IPMMU since the feed was made, applied at each
 * drain — a FLUSH of the domain's context queues a whole-context invalidation, its
 * completion completes it (other contexts' events are not this domain's). Throws if the log is off or dropped events.
 */
export function ipmmuIotlbFeed(d: IpmmuVmsaDomain, options: IpmmuIotlbFeedOptions = {}): IotlbCommandFeed {
  const root = d.mmu?.root;
  if (!root) throw new Error("ipmmuIotlbFeed: the domain has no context yet (first attach)");
  if (!root.tlbLogging) throw new Error("ipmmuIotlbFeed: the root IPMMU's TLB log is off (tlbLogCapacity)");
  const ctx = d.contextId;
  let mark = root.tlbEvents;
  return {
    drain(model) {
      const log = root.tlbLog;
      const n = root.tlbEvents - mark;
      if (n > log.length) throw new Error(`ipmmuIotlbFeed: ${n - log.length} events fell off the log`);
      mark = root.tlbEvents;
      for (let i = log.length - n; i < log.length; i++) {
        const e = options.rewrite ? options.rewrite(log[i]!) : log[i]!;
        // Only this context's events: polling another context's IMCTR completes nothing here.
        if (!e || e.ctx !== ctx) continue;
        if (e.kind === "done") model.sync();
        else
          model.issue({
            scope: "tag",
            tag: ctx,
            iova: 0,
            size: 0,
            leafOnly: false,
            leafSize: 0,
            command: "IMCTR.FLUSH",
          });
      }
    },
  };
}
