/**
 * Model-only (no kernel file: the hardware behind drivers/iommu/*): the IOTLB and the walk
 * cache of an IOMMU, attachable to any paging domain. Device accesses translate through the
 * cache or, on a miss, by a walk of the domain's page table (the domain's
 * `iova_to_phys_length` op, called directly so the core's `counters.walks` — CPU lookups —
 * is left alone; the model counts its own walks). Invalidation commands a driver issues are
 * decoded by per-driver glue into {@link IotlbInvalidation}s and either applied at once or
 * queued until the driver's completion barrier (CMD_SYNC, wait descriptor, COMPLETION_WAIT,
 * TLBSYNC) calls {@link IotlbModel.sync}: until then the hardware may keep using the entries.
 *
 * Entries are leaf-sized (one per translation unit, so a 2 MiB block is one entry) and tagged
 * with the ASID / VMID / domain id the device's transactions carry. Capacities are small, so
 * lookups scan arrays; the model is a checking tool, not a kernel hot path.
 *
 * Addresses are exact to 2^64: entries hold their IOVA as a number, which is exact for any
 * 4 KiB-aligned address below 2^64 (a page frame number < 2^52 times 2^12). An access above
 * 2^53 is split into its 4 KiB page (compared exactly) and the offset inside it, as the core's
 * runs.ts splits addresses into frames and offsets; below 2^53 addresses are used as they are.
 */
import { type Addr, normalizeAddr, offOf, PAGE_SIZE, pfnOf, toNumber } from "./addr.js";
import type { IommuDomain } from "./domain.js";
import type { PageTableInspector } from "./inspector.js";
import { PhysLength } from "./phys-length.js";
import { IOMMU_READ, IOMMU_WRITE } from "./prot.js";

/** A device access: read or write (permission-checked when the table reports protections). */
export type IotlbAccess = "read" | "write";

/** Which entry a full cache evicts: least recently used, or oldest inserted. */
export type IotlbReplacement = "lru" | "fifo";

/** How an {@link IotlbModel} is built. */
export interface IotlbModelOptions {
  /** The tag (ASID / VMID / domain id) the device's accesses carry. Default 0. */
  tag?: number;
  /** Leaf entries the IOTLB holds (default 64). */
  capacity?: number;
  /** Replacement policy of both caches (default "lru"). */
  replacement?: IotlbReplacement;
  /**
   * Table entries the walk cache holds (default 0: no walk cache). Needs the domain's
   * inspector to learn the tables a walk passes through.
   */
  walkCache?: number;
}

/** Why a cached entry no longer matches the page table: the operation that changed it. */
export interface IotlbStaleCause {
  /** Operation name, e.g. "unmap" or "map". */
  readonly op: string;
  readonly iova: number;
  readonly size: number;
}

/** One IOTLB entry: a whole translation unit. */
export interface IotlbEntry {
  tag: number;
  /**
   * First IOVA of the unit and its size (a power of two, naturally aligned). Exact to 2^64:
   * the unit is at least 4 KiB aligned above 2^53.
   */
  iova: number;
  size: number;
  /** Physical address of the unit's first byte (exact below 2^53). */
  phys: number;
  /** IOMMU_READ | IOMMU_WRITE granted, or -1 when the table does not say. */
  prot: number;
  /** Set by a checker: the page table no longer says this. */
  stale: IotlbStaleCause | null;
  /** Already reported by a sync check. */
  reported: boolean;
  /** Replacement order (LRU: last use; FIFO: insertion). */
  stamp: number;
}

/** One walk-cache entry: a table entry that points to a next-level table. */
export interface WalkCacheEntry {
  tag: number;
  /** Depth of the table entry (0 = in the top table). */
  depth: number;
  /** IOVA span the pointed-to table translates (aligned: exact to 2^64). */
  iova: number;
  size: number;
  /** Physical address of the pointed-to table. */
  table: number;
  stale: IotlbStaleCause | null;
  reported: boolean;
  stamp: number;
}

/** Largest address a number holds exactly with any offset (2^53 − 1). */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
const MAX_EXACT_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Model-only: split `a` into the number the model compares (`a` itself when it is exact as a
 * number, else its 4 KiB page's first byte, exact below 2^64) and the offset left over (0, or
 * the offset inside the page). Writes the module's scratch pair: no allocation.
 */
function split(a: Addr): void {
  if (typeof a === "number" ? a <= MAX_EXACT : a <= MAX_EXACT_BIG) {
    splitBase = typeof a === "number" ? a : Number(a);
    splitOff = 0;
  } else {
    splitBase = pfnOf(a) * PAGE_SIZE;
    splitOff = offOf(a);
  }
}
let splitBase = 0;
let splitOff = 0;

/** Scope of an invalidation. */
export type IotlbInvalidationScope = "all" | "tag" | "range" | "walk";

/**
 * One decoded invalidation command.
 * - `all`: every entry of both caches (all tags).
 * - `tag`: every entry with `tag` (TLBI by ASID/VMID, VT-d DSI, PASID-selective, AMD all pages).
 * - `range`: IOTLB entries with `tag` overlapping [iova, iova + size); unless `leafOnly`, the
 *   walk-cache entries whose span overlaps it too. `leafSize` (a TTL level hint) limits it to
 *   entries of that size, as hardware may ignore entries at other levels.
 * - `walk`: walk-cache entries only.
 */
export interface IotlbInvalidation {
  scope: IotlbInvalidationScope;
  /** Tag, or -1 for every tag. */
  tag: number;
  iova: number;
  size: number;
  leafOnly: boolean;
  /** 0 = no level hint. */
  leafSize: number;
  /** The driver command it came from, for messages. */
  command?: string;
}

/** The outcome of one {@link IotlbModel.translate}, in a record the model reuses. */
export class IotlbTranslation {
  /** The access was translated (false: a translation or permission fault). */
  ok = false;
  /** Physical address (valid when `ok`). */
  phys = 0;
  /** Served from the IOTLB. */
  hit = false;
  /** Filled after a walk that started from a walk-cache entry. */
  walkHit = false;
  /** The IOTLB entry that served it, or the walk-cache entry the walk started from. */
  entry: IotlbEntry | null = null;
  walkEntry: WalkCacheEntry | null = null;
  /** Permission fault: the leaf does not grant the access. */
  permissionFault = false;
}

/** Counts of device-side activity (separate from the domain's CPU-side IommuCounters). */
export class IotlbStats {
  accesses = 0;
  hits = 0;
  misses = 0;
  /** Page-table walks the device side performed (fills). */
  walks = 0;
  walkCacheHits = 0;
  faults = 0;
  evictions = 0;
  /** Invalidations applied, by scope, and entries they dropped. */
  invalidations = 0;
  fullInvalidations = 0;
  entriesInvalidated = 0;
  /** Bytes of IOVA named by range invalidations (the over-invalidation statistic's numerator). */
  bytesInvalidated = 0;
  /** Barriers (sync) that completed queued invalidations. */
  syncs = 0;
}

/**
 * The IOTLB of one IOMMU as seen by one domain's device: a leaf cache and an optional walk
 * cache, filled by device accesses and emptied by invalidations.
 */
export class IotlbModel {
  readonly tag: number;
  readonly capacity: number;
  readonly walkCapacity: number;
  readonly replacement: IotlbReplacement;
  readonly stats = new IotlbStats();
  /** Valid IOTLB entries (unordered). */
  readonly entries: IotlbEntry[] = [];
  readonly walkEntries: WalkCacheEntry[] = [];
  /** Invalidations issued but not yet completed by a barrier. */
  readonly pending: IotlbInvalidation[] = [];
  private clock = 0;
  private readonly out = new PhysLength();
  private readonly result = new IotlbTranslation();

  constructor(
    readonly domain: IommuDomain,
    options: IotlbModelOptions = {},
  ) {
    this.tag = options.tag ?? 0;
    this.capacity = options.capacity ?? 64;
    this.walkCapacity = options.walkCache ?? 0;
    this.replacement = options.replacement ?? "lru";
    if (!(this.capacity >= 1)) throw new RangeError("IotlbModel: capacity must be at least 1");
  }

  /** The IOTLB entry of this model's tag that translates `iova`, if any (no stats, no LRU update). */
  lookup(iova: Addr, tag = this.tag): IotlbEntry | undefined {
    split(iova);
    return this.lookupAt(splitBase, tag);
  }

  private lookupAt(iova: number, tag: number): IotlbEntry | undefined {
    for (const e of this.entries) if (e.tag === tag && iova >= e.iova && iova - e.iova < e.size) return e;
    return undefined;
  }

  /** The deepest walk-cache entry of `tag` whose table translates `iova`. */
  lookupWalk(iova: Addr, tag = this.tag): WalkCacheEntry | undefined {
    split(iova);
    return this.lookupWalkAt(splitBase, tag);
  }

  private lookupWalkAt(iova: number, tag: number): WalkCacheEntry | undefined {
    let best: WalkCacheEntry | undefined;
    for (const w of this.walkEntries)
      if (w.tag === tag && iova >= w.iova && iova - w.iova < w.size && (!best || w.depth > best.depth))
        best = w;
    return best;
  }

  /**
   * A device access of `iova`: served by the IOTLB when an entry translates it, else a walk
   * (counted in `stats.walks`) that fills the IOTLB (and the walk cache). Returns a reused
   * record: copy what you keep.
   */
  translate(iova: Addr, access: IotlbAccess = "read"): IotlbTranslation {
    split(iova);
    // va: the address (below 2^53) or its page (above); off: what is left of it.
    const va = splitBase;
    const off = splitOff;
    const r = this.result;
    r.ok = false;
    r.phys = 0;
    r.hit = false;
    r.walkHit = false;
    r.entry = null;
    r.walkEntry = null;
    r.permissionFault = false;
    this.stats.accesses++;
    const want = access === "write" ? IOMMU_WRITE : IOMMU_READ;
    const e = this.lookupAt(va, this.tag);
    if (e) {
      this.stats.hits++;
      if (this.replacement === "lru") e.stamp = ++this.clock;
      r.hit = true;
      r.entry = e;
      if (e.prot !== -1 && !(e.prot & want)) {
        r.permissionFault = true;
        this.stats.faults++;
        return r;
      }
      r.ok = true;
      r.phys = e.phys + (va - e.iova) + off;
      return r;
    }
    this.stats.misses++;
    const w = this.walkCapacity > 0 ? this.lookupWalkAt(va, this.tag) : undefined;
    if (w) {
      this.stats.walkCacheHits++;
      if (this.replacement === "lru") w.stamp = ++this.clock;
      r.walkHit = true;
      r.walkEntry = w;
    }
    const filled = this.fill(va);
    if (!filled) {
      this.stats.faults++;
      return r;
    }
    r.entry = filled;
    if (filled.prot !== -1 && !(filled.prot & want)) {
      r.permissionFault = true;
      this.stats.faults++;
      return r;
    }
    r.ok = true;
    r.phys = filled.phys + (va - filled.iova) + off;
    return r;
  }

  /**
   * The truth for `iova`: a walk of the page table now, not counted anywhere (the domain's
   * pteReads are restored). `out` is the model's reused record. Addresses above 2^53 reach
   * the domain as bigints.
   */
  walkTruth(iova: Addr): PhysLength | null {
    const op = this.domain.ops?.iovaToPhysLength;
    if (!op) return null;
    const c = this.domain.counters;
    const reads = c.pteReads;
    op.call(this.domain.ops, this.domain, normalizeAddr(iova), this.out);
    c.pteReads = reads;
    return this.out;
  }

  /** The domain's inspector, when it has a table. */
  inspector(): PageTableInspector | null {
    return this.domain.ops?.inspect?.(this.domain) ?? null;
  }

  private fill(va: number): IotlbEntry | null {
    this.stats.walks++;
    const t = this.walkTruth(va);
    if (!t?.mapped) return null;
    const size = t.length;
    // Exact for a 4 KiB-aligned va below 2^64 and a power-of-two size.
    const base = va - (va % size);
    const phys = t.physNumber - (va - base);
    let prot = -1;
    const insp = this.inspector();
    if (insp) {
      const walk = insp.walk(normalizeAddr(va));
      for (const s of walk.steps) {
        if (s.kind === "leaf" && s.prot !== undefined) prot = s.prot;
        else if (s.kind === "table" && s.nextTable !== undefined && this.walkCapacity > 0)
          this.insertWalk(s.depth, Number(s.iova), s.itemSize, s.nextTable);
      }
    }
    return this.insert(base, size, phys, prot);
  }

  /** Put a translation in the IOTLB (evicting per the policy when full). `iova` exact: below 2^53 or 4 KiB aligned. */
  insert(iova: Addr, size: number, phys: number, prot = -1, tag = this.tag): IotlbEntry {
    if (this.entries.length >= this.capacity) {
      this.evict(this.entries);
      this.stats.evictions++;
    }
    const e: IotlbEntry = {
      tag,
      iova: toNumber(iova),
      size,
      phys,
      prot,
      stale: null,
      reported: false,
      stamp: ++this.clock,
    };
    this.entries.push(e);
    return e;
  }

  /** Put a table pointer in the walk cache (refreshing an identical one). */
  insertWalk(depth: number, iova: Addr, size: number, table: number, tag = this.tag): WalkCacheEntry {
    const va = toNumber(iova);
    for (const w of this.walkEntries)
      if (w.tag === tag && w.depth === depth && w.iova === va && w.table === table && !w.stale) {
        if (this.replacement === "lru") w.stamp = ++this.clock;
        return w;
      }
    if (this.walkEntries.length >= this.walkCapacity) {
      this.evict(this.walkEntries);
      this.stats.evictions++;
    }
    const w: WalkCacheEntry = {
      tag,
      depth,
      iova: va,
      size,
      table,
      stale: null,
      reported: false,
      stamp: ++this.clock,
    };
    this.walkEntries.push(w);
    return w;
  }

  private evict(list: { stamp: number }[]): void {
    let victim = 0;
    for (let i = 1; i < list.length; i++) if (list[i]!.stamp < list[victim]!.stamp) victim = i;
    list.splice(victim, 1);
  }

  /** Queue an invalidation: it takes effect at the next {@link sync}. */
  issue(inv: IotlbInvalidation): void {
    this.pending.push(inv);
  }

  /** A completion barrier: apply every queued invalidation, oldest first. */
  sync(): void {
    this.stats.syncs++;
    for (const inv of this.pending) this.apply(inv);
    this.pending.length = 0;
  }

  /** Apply one invalidation now. Returns the entries it dropped. */
  apply(inv: IotlbInvalidation): number {
    const st = this.stats;
    st.invalidations++;
    let n = 0;
    switch (inv.scope) {
      case "all":
        st.fullInvalidations++;
        n = this.entries.length + this.walkEntries.length;
        this.entries.length = 0;
        this.walkEntries.length = 0;
        break;
      case "tag":
        st.fullInvalidations++;
        n = removeIf(this.entries, (e) => inv.tag === -1 || e.tag === inv.tag);
        n += removeIf(this.walkEntries, (w) => inv.tag === -1 || w.tag === inv.tag);
        break;
      case "range":
      case "walk": {
        st.bytesInvalidated += inv.size;
        const end = inv.iova + inv.size;
        const hit = (x: { tag: number; iova: number; size: number }) =>
          (inv.tag === -1 || x.tag === inv.tag) && x.iova < end && inv.iova < x.iova + x.size;
        if (inv.scope === "range")
          n = removeIf(this.entries, (e) => hit(e) && (inv.leafSize === 0 || e.size === inv.leafSize));
        if (inv.scope === "walk" || !inv.leafOnly) n += removeIf(this.walkEntries, hit);
        break;
      }
    }
    st.entriesInvalidated += n;
    return n;
  }

  /** Convenience: apply "all" now. */
  invalidateAll(): void {
    this.apply({ scope: "all", tag: -1, iova: 0, size: 0, leafOnly: false, leafSize: 0 });
  }

  /** Convenience: apply "tag" now. */
  invalidateTag(tag = this.tag): void {
    this.apply({ scope: "tag", tag, iova: 0, size: 0, leafOnly: false, leafSize: 0 });
  }

  /** Convenience: apply "range" now (`iova`, `size` 4 KiB aligned above 2^53; `size` up to 2^64). */
  invalidateRange(
    iova: Addr,
    size: Addr,
    opts: { tag?: number; leafOnly?: boolean; leafSize?: number } = {},
  ): void {
    this.apply({
      scope: "range",
      tag: opts.tag ?? this.tag,
      iova: toNumber(iova),
      size: toNumber(size),
      leafOnly: opts.leafOnly ?? false,
      leafSize: opts.leafSize ?? 0,
    });
  }

  /** Convenience: apply "walk" now. */
  invalidateWalk(iova: Addr, size: Addr, tag = this.tag): void {
    this.apply({
      scope: "walk",
      tag,
      iova: toNumber(iova),
      size: toNumber(size),
      leafOnly: false,
      leafSize: 0,
    });
  }

  /** Whether a queued invalidation would drop `e` (an IOTLB or walk-cache entry). */
  pendingCovers(e: IotlbEntry | WalkCacheEntry): boolean {
    const isLeaf = "phys" in e;
    for (const inv of this.pending) {
      if (inv.scope === "all") return true;
      if (inv.tag !== -1 && inv.tag !== e.tag) continue;
      if (inv.scope === "tag") return true;
      if (!(e.iova < inv.iova + inv.size && inv.iova < e.iova + e.size)) continue;
      if (isLeaf && inv.scope === "range" && (inv.leafSize === 0 || inv.leafSize === e.size)) return true;
      if (!isLeaf && (inv.scope === "walk" || !inv.leafOnly)) return true;
    }
    return false;
  }
}

function removeIf<T>(list: T[], pred: (x: T) => boolean): number {
  let w = 0;
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (!pred(x)) list[w++] = x;
  }
  const n = list.length - w;
  list.length = w;
  return n;
}
