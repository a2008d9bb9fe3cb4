/**
 * Model-only (the bug class behind many drivers/iommu/* fixes: a missing or too narrow
 * invalidation after an unmap): a checker that runs a domain's map/unmap/sync operations
 * through the core (iommu_map, iommu_unmap, iommu_unmap_fast + iommu_iotlb_sync,
 * iommu_flush_iotlb_all), feeds the invalidation commands the driver issued into an
 * {@link IotlbModel}, interleaves device accesses, and reports:
 *
 * - `stale-access`: a device access served by an IOTLB entry whose leaf was unmapped or
 *   changed with no covering invalidation completed before the access;
 * - `stale-walk`: a device walk that started from a walk-cache entry of a table that was freed
 *   or replaced (e.g. only leaf invalidations followed the table's removal);
 * - `sync-stale`: a syncing operation returned while entries for a range it changed remain
 *   cached and no queued invalidation covers them;
 * - `missing-sync`: the same, but an invalidation covering them was issued and never completed
 *   by a barrier (CMD_SYNC, wait descriptor, COMPLETION_WAIT, TLBSYNC);
 *
 * and, as a statistic, bytes invalidated by range commands against bytes unmapped.
 */
import { type Addr, hex, normalizeAddr, toNumber } from "./addr.js";
import type { IommuDomain } from "./domain.js";
import type { IotlbGather } from "./gather.js";
import { iommuFlushIotlbAll, iommuIotlbSync, iommuMap, iommuUnmap, iommuUnmapFast } from "./iommu.js";
import type {
  IotlbAccess,
  IotlbEntry,
  IotlbModel,
  IotlbStaleCause,
  IotlbTranslation,
  WalkCacheEntry,
} from "./iotlb-model.js";
import { GFP_KERNEL } from "./prot.js";

/**
 * Per-driver glue: moves the invalidation commands the driver issued since the last drain
 * into the model (`model.issue` for each invalidation, `model.sync` for each barrier).
 */
export interface IotlbCommandFeed {
  drain(model: IotlbModel): void;
}

/** What a finding diagnoses. */
export type IotlbFindingKind = "stale-access" | "stale-walk" | "sync-stale" | "missing-sync";

/** One problem the checker found. */
export interface IotlbFinding {
  readonly kind: IotlbFindingKind;
  /** The operation during or after which it was seen: "access", "unmap", "map", "sync", "flush-all". */
  readonly op: string;
  /**
   * The IOVA range concerned: the accessed address (size 1) or the stale entry's span. Above
   * 2^53 an accessed address that is not 4 KiB aligned is rounded here; `address` has it exactly.
   */
  readonly iova: number;
  readonly size: number;
  /** The accessed address, exactly (set only when `iova` cannot hold it: above 2^53, unaligned). */
  readonly address?: Addr;
  /** Which cache held the stale entry. */
  readonly cache: "iotlb" | "walk";
  /** The operation that made the entry stale. */
  readonly cause: IotlbStaleCause | null;
  readonly message: string;
}

/** Over-invalidation: bytes named by range invalidations against bytes unmapped. */
export interface IotlbOverInvalidation {
  bytesUnmapped: number;
  bytesInvalidated: number;
  /** Whole-tag / whole-cache invalidations (not counted in bytes). */
  fullInvalidations: number;
  /** bytesInvalidated / bytesUnmapped (0 when nothing was unmapped). */
  ratio: number;
}

/** Runs a domain's operations and device accesses, checking the model's IOTLB after each. */
export class IotlbChecker {
  readonly findings: IotlbFinding[] = [];
  bytesUnmapped = 0;

  constructor(
    readonly domain: IommuDomain,
    readonly model: IotlbModel,
    readonly feed: IotlbCommandFeed | null = null,
  ) {}

  /**
   * `iommu_map()` then the check (also when it throws its IommuError: the core's rollback
   * unmapped and synced, so the check still applies).
   */
  map(iova: Addr, paddr: Addr, size: Addr, prot: number, gfp = GFP_KERNEL): void {
    try {
      iommuMap(this.domain, iova, paddr, size, prot, gfp);
    } finally {
      this.afterOp("map", toNumber(iova), toNumber(size), true);
    }
  }

  /** `iommu_unmap()` then the check (the core synced: nothing stale may remain). */
  unmap(iova: Addr, size: Addr): number {
    const n = iommuUnmap(this.domain, iova, size);
    this.countUnmapped(n);
    this.afterOp("unmap", toNumber(iova), Math.max(toNumber(size), n), true, false, true);
    return n;
  }

  /** `iommu_unmap_fast()`: no sync yet, so only staleness is recorded. */
  unmapFast(iova: Addr, size: Addr, gather: IotlbGather): number {
    const n = iommuUnmapFast(this.domain, iova, size, gather);
    this.countUnmapped(n);
    this.afterOp("unmap-fast", toNumber(iova), Math.max(toNumber(size), n), false, false, true);
    return n;
  }

  /** `iommu_iotlb_sync()` then the check over everything. */
  iotlbSync(gather: IotlbGather): void {
    const start = gather.start;
    const end = gather.endExcl;
    iommuIotlbSync(this.domain, gather);
    this.afterOp("sync", start, Math.max(0, end - start), true);
  }

  /** `iommu_flush_iotlb_all()` then the check over everything. */
  flushAll(): void {
    iommuFlushIotlbAll(this.domain);
    this.afterOp("flush-all", 0, 0, true, true);
  }

  /**
   * Model-only: the check after an operation a caller ran on the domain itself (VFIO's
   * `iommu_unmap_fast` + `iommu_iotlb_sync`, a GPU driver's own map/unmap and MMU flush):
   * mark what [iova, iova + size) changed stale, drain the feed, and for a `syncing`
   * operation report stale entries still cached for the range. `unmapped` bytes count in the
   * over-invalidation statistic.
   */
  observe(op: string, iova: Addr, size: Addr, syncing: boolean, unmapped = 0): void {
    this.countUnmapped(unmapped);
    this.afterOp(op, toNumber(iova), toNumber(size), syncing);
  }

  /**
   * Model-only: drain the feed and report every stale entry still cached, whatever range
   * made it stale — the check at the end of a caller's operation (an ioctl, a VM_BIND) or
   * after a flush of everything.
   */
  observeAll(op: string): void {
    this.afterOp(op, 0, 0, true, true);
  }

  /** A device access of `iova`; a stale translation is recorded as a finding. */
  access(iova: Addr, access: IotlbAccess = "read"): IotlbTranslation {
    const r = this.model.translate(iova, access);
    if (r.hit && r.entry?.stale) this.reportAccess("stale-access", iova, r.entry, "iotlb", access);
    else if (r.walkHit && r.walkEntry?.stale)
      this.reportAccess("stale-walk", iova, r.walkEntry, "walk", access);
    return r;
  }

  /** Over-invalidation so far. */
  overInvalidation(): IotlbOverInvalidation {
    const s = this.model.stats;
    return {
      bytesUnmapped: this.bytesUnmapped,
      bytesInvalidated: s.bytesInvalidated,
      fullInvalidations: s.fullInvalidations,
      ratio: this.bytesUnmapped === 0 ? 0 : s.bytesInvalidated / this.bytesUnmapped,
    };
  }

  /** Findings of one kind. */
  byKind(kind: IotlbFindingKind): IotlbFinding[] {
    return this.findings.filter((f) => f.kind === kind);
  }

  private countUnmapped(n: number): void {
    if (n > 0) this.bytesUnmapped += n;
  }

  /**
   * After an operation on [iova, iova + size): mark the cached entries it changed stale (by
   * re-walking the page table), feed the driver's commands, then — for a syncing operation —
   * report what is still cached for a changed range (`all`: any stale entry, for a sync or
   * flush that covers every earlier change). An unmap re-walks every cached entry (`wide`): a
   * driver may remove more than was asked (virtio-iommu drops whole intervals), and what it
   * removed beyond the range is this operation's change too.
   */
  private afterOp(op: string, iova: number, size: number, syncing: boolean, all = false, wide = false): void {
    const cause = size > 0 || wide ? this.markStale(op, iova, size, wide) : undefined;
    this.feed?.drain(this.model);
    if (!syncing) return;
    const mine = (e: IotlbEntry | WalkCacheEntry) => all || overlaps(e, iova, size) || e.stale === cause;
    for (const e of this.model.entries)
      if (e.stale && !e.reported && mine(e)) this.reportSync(op, e, "iotlb");
    for (const w of this.model.walkEntries)
      if (w.stale && !w.reported && mine(w)) this.reportSync(op, w, "walk");
  }

  private markStale(op: string, iova: number, size: number, wide: boolean): IotlbStaleCause {
    const m = this.model;
    const cause: IotlbStaleCause = { op, iova, size };
    for (const e of m.entries) {
      if (e.stale || !(wide || overlaps(e, iova, size))) continue;
      const t = m.walkTruth(e.iova);
      if (!t?.mapped || t.length !== e.size || t.physNumber !== e.phys) e.stale = cause;
    }
    if (m.walkEntries.length === 0) return cause;
    const insp = m.inspector();
    for (const w of m.walkEntries) {
      if (w.stale || !(wide || overlaps(w, iova, size))) continue;
      // Still linked: the walk of its first IOVA passes a table entry at the same depth
      // pointing to the same table.
      let linked = false;
      if (insp)
        for (const s of insp.walk(normalizeAddr(w.iova)).steps)
          if (s.depth === w.depth && s.kind === "table" && s.nextTable === w.table) linked = true;
      if (!linked) w.stale = cause;
    }
    return cause;
  }

  private reportSync(op: string, e: IotlbEntry | WalkCacheEntry, cache: "iotlb" | "walk"): void {
    e.reported = true;
    const queued = this.model.pendingCovers(e);
    const kind: IotlbFindingKind = queued ? "missing-sync" : "sync-stale";
    const what = cache === "iotlb" ? "IOTLB entry" : "walk-cache entry";
    const why = queued
      ? "its invalidation was issued but no barrier completed it"
      : "no invalidation covers it";
    this.findings.push({
      kind,
      op,
      iova: e.iova,
      size: e.size,
      cache,
      cause: e.stale,
      message: `${op} returned with a stale ${what} for [${hex(e.iova)}, +${hex(e.size)}) (${causeText(e.stale)}): ${why}`,
    });
  }

  private reportAccess(
    kind: IotlbFindingKind,
    iova: Addr,
    e: IotlbEntry | WalkCacheEntry,
    cache: "iotlb" | "walk",
    access: IotlbAccess,
  ): void {
    const queued = this.model.pendingCovers(e);
    const what = cache === "iotlb" ? "a stale IOTLB entry" : "a walk-cache entry of a removed table";
    const va = Number(iova);
    this.findings.push({
      kind,
      op: "access",
      iova: va,
      size: 1,
      ...(BigInt(va) === BigInt(iova) ? {} : { address: iova }),
      cache,
      cause: e.stale,
      message:
        `device ${access} of ${hex(iova)} used ${what} [${hex(e.iova)}, +${hex(e.size)}) (${causeText(e.stale)})` +
        (queued
          ? ": its invalidation is still waiting for a barrier"
          : ": no covering invalidation followed"),
    });
  }
}

function overlaps(e: { iova: number; size: number }, iova: number, size: number): boolean {
  return e.iova < iova + size && iova < e.iova + e.size;
}

function causeText(c: IotlbStaleCause | null): string {
  return c ? `changed by ${c.op} [${hex(c.iova)}, +${hex(c.size)})` : "unchanged";
}
