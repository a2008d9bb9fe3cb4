/**
 * drivers/iommu/msm_iommu.c: what an MSM context bank does with the driver's TLB maintenance
 * (`__flush_iotlb`: CTX_TLBIALL; `__flush_iotlb_range`: one TLBIVA per granule, VA[31:12] |
 * ASID, dropping the entries that translate that VA — TLBIVA has no leaf-only form, so walk
 * caches go too) for the core's IOTLB model. The driver has no TLBSYNC (the kernel removed its
 * empty `tlb_sync`): a sequence counts as complete at its end (`__disable_clocks()`), where the
 * driver relies on the posted writes having landed — the feed's barrier.
 *
 * The feed reads the IOMMU's TLB event log (nothing in the invalidation path changes): build
 * the IOMMU with `tlbLogCapacity` > 0, large enough for one operation's events.
 */
import { type IotlbCommandFeed, IotlbModel, type IotlbModelOptions } from "@iommu/core";
import type { MsmPriv } from "./msm-domain.js";
import type { MsmIommu, MsmTlbEvent } from "./msm-iommu.js";
import { CONTEXTIDR_ASID_MASK, TLBIVA_VA } from "./regs.js";

const PAGE = 0x1000;
const TWO32 = 2 ** 32;

/** Model-only: one register write (or the end of a sequence) as the feed hands it to `rewrite`. */
export interface MsmTlbWrite {
  readonly kind: "TLBIALL" | "TLBIVA" | "done";
  readonly ctx: number;
  /** TLBIVA: VA[31:12] | ASID; 0 otherwise. */
  readonly value: number;
}

/** Model-only: how {@link msmIotlbFeed} reads the log. */
export interface MsmIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each write before the context bank acts on it. */
  rewrite?: (write: MsmTlbWrite) => MsmTlbWrite | null;
}

function firstContext(d: MsmPriv): { iommu: MsmIommu; ctx: number; asid: number } {
  const iommu = d.listAttached[0];
  const bank = iommu?.context(iommu.master.num);
  if (!iommu || !bank) throw new Error("msm iotlb: the domain is not attached");
  return { iommu, ctx: bank.index, asid: bank.contextidr & CONTEXTIDR_ASID_MASK };
}

/** Model-only: the tag the domain's translations carry — the ASID of its (first) context bank. */
export function msmIotlbTag(d: MsmPriv): number {
  return firstContext(d).asid;
}

/** Model-only: an IOTLB model of the first attached IOMMU's context bank of the domain. */
export function msmIotlbModel(d: MsmPriv, options: Omit<IotlbModelOptions, "tag"> = {}): IotlbModel {
  return new IotlbModel(d, { ...options, tag: msmIotlbTag(d) });
}

/**
 * Model-only: the TLB writes of the domain's first IOMMU since the feed was made, applied at
 * each drain: CTX_TLBIALL → the context's tag; each TLBIVA → its 4 KiB page (VA, ASID) in both
 * caches (consecutive pages merged into one range); `"done"` → the barrier. Throws if the log
 * is off or dropped events.
 */
export function msmIotlbFeed(d: MsmPriv, options: MsmIotlbFeedOptions = {}): IotlbCommandFeed {
  const { iommu, ctx, asid } = firstContext(d);
  if (!iommu.tlbLogging) throw new Error("msmIotlbFeed: the IOMMU's TLB log is off (tlbLogCapacity)");
  let mark = iommu.tlbEvents;
  return {
    drain(model) {
      const log = iommu.tlbLog;
      const n = iommu.tlbEvents - mark;
      if (n > log.length) throw new Error(`msmIotlbFeed: ${n - log.length} events fell off the log`);
      mark = iommu.tlbEvents;
      const run = new RangeRun(model);
      for (let i = log.length - n; i < log.length; i++) {
        const e = log[i]!;
        if (e.kind !== "done" && e.ctx !== ctx) continue;
        if (e.kind === "TLBIVA") {
          for (let k = 0; k < e.count; k++) apply(model, run, asid, writeOf(e, k), options);
        } else apply(model, run, asid, e, options);
      }
      run.flush();
    },
  };
}

/** The k-th TLBIVA write of a run: the VA advances by the granule and wraps at 2^32. */
function writeOf(e: MsmTlbEvent, k: number): MsmTlbWrite {
  const va = ((e.value & TLBIVA_VA) + k * e.granule) % TWO32;
  return { kind: "TLBIVA", ctx: e.ctx, value: ((va & TLBIVA_VA) | (e.value & CONTEXTIDR_ASID_MASK)) >>> 0 };
}

function apply(
  model: IotlbModel,
  run: RangeRun,
  asid: number,
  w0: MsmTlbWrite,
  options: MsmIotlbFeedOptions,
): void {
  const w = options.rewrite ? options.rewrite(w0) : w0;
  if (!w) return;
  if (w.kind === "TLBIVA") {
    run.add(w.value & CONTEXTIDR_ASID_MASK, (w.value & TLBIVA_VA) >>> 0);
    return;
  }
  run.flush();
  if (w.kind === "done") model.sync();
  else
    model.issue({
      scope: "tag",
      tag: asid,
      iova: 0,
      size: 0,
      leafOnly: false,
      leafSize: 0,
      command: "CTX_TLBIALL",
    });
}

/** Consecutive TLBIVA pages of one ASID, issued as one range invalidation. */
class RangeRun {
  private tag = -1;
  private start = 0;
  private end = 0;

  constructor(private readonly model: IotlbModel) {}

  add(tag: number, va: number): void {
    if (this.tag === tag && va === this.end) {
      this.end += PAGE;
      return;
    }
    this.flush();
    this.tag = tag;
    this.start = va;
    this.end = va + PAGE;
  }

  flush(): void {
    if (this.tag < 0) return;
    this.model.issue({
      scope: "range",
      tag: this.tag,
      iova: this.start,
      size: this.end - this.start,
      leafOnly: false,
      leafSize: 0,
      command: "TLBIVA",
    });
    this.tag = -1;
  }
}
