// tools/explorer (packages/core/docs/iotlb-model.md): what the IOTLB panel shows, as data — the
// attached model's stats, its cached translations and walk-cache entries (ascending IOVA, with
// their stale flag) and the checker's findings. Formatting stays in main.ts.
import { IOMMU_READ, IOMMU_WRITE } from "@iommu/core";
import type { ScriptIotlb } from "@iommu/script";

/** One cached translation. */
export interface IotlbEntryRow {
  readonly tag: number;
  /** [iova, end) exact to 2^64. */
  readonly iova: bigint;
  readonly end: bigint;
  readonly phys: bigint;
  /** Leaf size in bytes. */
  readonly size: number;
  /** `r`, `w`, `rw`, `-`, or `?` when the table does not say. */
  readonly prot: string;
  /** The operation that made it stale, or null while it matches the table. */
  readonly stale: string | null;
}

/** One walk-cache entry: a table pointer a walk passed. */
export interface WalkEntryRow {
  readonly tag: number;
  readonly depth: number;
  readonly iova: bigint;
  readonly end: bigint;
  readonly table: bigint;
  readonly stale: string | null;
}

export interface IotlbFindingRow {
  readonly kind: string;
  readonly op: string;
  readonly iova: bigint;
  readonly size: number;
  readonly cache: string;
  readonly message: string;
}

/** The IOTLB panel's data, taken after the script ran. */
export interface IotlbSnapshot {
  readonly driver: string;
  readonly tag: number;
  readonly capacity: number;
  readonly walkCapacity: number;
  readonly policy: string;
  readonly stats: {
    readonly accesses: number;
    readonly hits: number;
    readonly misses: number;
    readonly walks: number;
    readonly walkCacheHits: number;
    readonly faults: number;
    readonly evictions: number;
    readonly invalidations: number;
  };
  readonly entries: readonly IotlbEntryRow[];
  readonly walk: readonly WalkEntryRow[];
  readonly findings: readonly IotlbFindingRow[];
}

function protOf(prot: number): string {
  if (prot < 0) return "?";
  return `${prot & IOMMU_READ ? "r" : ""}${prot & IOMMU_WRITE ? "w" : ""}` || "-";
}

const big = (n: number | bigint): bigint => (typeof n === "bigint" ? n : BigInt(n));

/** The panel's data for an attached model (copies: the rows do not change with the model). */
export function iotlbSnapshot(io: ScriptIotlb): IotlbSnapshot {
  const m = io.model;
  const s = m.stats;
  const byIova = <T extends { iova: bigint }>(a: T, b: T) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0);
  return {
    driver: io.driver,
    tag: m.tag,
    capacity: m.capacity,
    walkCapacity: m.walkCapacity,
    policy: m.replacement,
    stats: {
      accesses: s.accesses,
      hits: s.hits,
      misses: s.misses,
      walks: s.walks,
      walkCacheHits: s.walkCacheHits,
      faults: s.faults,
      evictions: s.evictions,
      invalidations: s.invalidations,
    },
    entries: m.entries
      .map((e) => ({
        tag: e.tag,
        iova: big(e.iova),
        end: big(e.iova) + big(e.size),
        phys: big(e.phys),
        size: e.size,
        prot: protOf(e.prot),
        stale: e.stale?.op ?? null,
      }))
      .sort(byIova),
    walk: m.walkEntries
      .map((w) => ({
        tag: w.tag,
        depth: w.depth,
        iova: big(w.iova),
        end: big(w.iova) + big(w.size),
        table: big(w.table),
        stale: w.stale?.op ?? null,
      }))
      .sort(byIova),
    findings: io.checker.findings.map((f) => ({
      kind: f.kind,
      op: f.op,
      iova: big(f.address ?? f.iova),
      size: f.size,
      cache: f.cache,
      message: f.message,
    })),
  };
}
