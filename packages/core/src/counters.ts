/**
 * Cost counters. Every package reports through one `IommuCounters` per domain, so the
 * series' claim (walks per unmap, PTE reads per lookup, flushes) is measured rather than
 * asserted. Plain integer fields: cheap enough to leave on in every hot path.
 */
export class IommuCounters {
  /** Lookups through the core: iommu_iova_to_phys() and iommu_iova_to_phys_length() calls. */
  walks = 0;
  /** Page-table entries read by the format code (a lookup reads one per level walked). */
  pteReads = 0;
  /** Page-table entries written (set or cleared). */
  pteWrites = 0;
  /** Page-table pages allocated / freed. */
  tablesAllocated = 0;
  tablesFreed = 0;
  /** iommu_map() / iommu_unmap() + iommu_unmap_fast() calls, and the fast part alone. */
  mapCalls = 0;
  unmapCalls = 0;
  unmapFastCalls = 0;
  /** ops->map_pages / ops->unmap_pages calls made by the core loops. */
  mapPagesCalls = 0;
  unmapPagesCalls = 0;
  /** IOTLB invalidations issued by drivers/formats, by kind. */
  flushAll = 0;
  flushRange = 0;
  flushWalk = 0;
  flushPage = 0;
  /** iommu_iotlb_sync() executions (whether or not the driver had work) and iotlb_sync_map calls. */
  syncs = 0;
  syncMaps = 0;
  /** Kernel WARN/WARN_ON/WARN_ONCE conditions hit (WARN_ONCE counts every time). */
  warns = 0;
  /** Places where the kernel would BUG(); the model stops the loop instead. */
  bugs = 0;

  /** Receives the text of every WARN (e.g. to print on stderr). */
  onWarn: ((message: string) => void) | undefined;

  /** Record a kernel WARN condition. */
  warn(message: string): void {
    this.warns++;
    this.onWarn?.(message);
  }

  /** A plain copy of the numeric fields. */
  snapshot(): CounterSnapshot {
    const out = {} as Record<string, number>;
    for (const k of COUNTER_KEYS) out[k] = this[k];
    return out as CounterSnapshot;
  }

  /** Field-wise `now − before`. */
  since(before: CounterSnapshot): CounterSnapshot {
    const out = {} as Record<string, number>;
    for (const k of COUNTER_KEYS) out[k] = this[k] - before[k];
    return out as CounterSnapshot;
  }

  reset(): void {
    for (const k of COUNTER_KEYS) this[k] = 0;
  }
}

export const COUNTER_KEYS = [
  "walks",
  "pteReads",
  "pteWrites",
  "tablesAllocated",
  "tablesFreed",
  "mapCalls",
  "unmapCalls",
  "unmapFastCalls",
  "mapPagesCalls",
  "unmapPagesCalls",
  "flushAll",
  "flushRange",
  "flushWalk",
  "flushPage",
  "syncs",
  "syncMaps",
  "warns",
  "bugs",
] as const;

export type CounterKey = (typeof COUNTER_KEYS)[number];
export type CounterSnapshot = Record<CounterKey, number>;
