// drivers/iommu/s390-iommu.c (issue 17, model extension): one descent over the region,
// segment and page tables of [iova, iova + size), reporting each PTE and invalid entry to a
// PhysRunCollector.
//
// Each entry in the range is read once (a region or segment entry for the whole span below
// it); no allocation and no BigInt per entry.
import type { PhysRunCollector } from "@iommu/core";
import { s390PteProt } from "./inspect.js";
import {
  ZPCI_PT_ENTRIES,
  ZPCI_PTE_INVALID,
  ZPCI_RTE_FLAG_MASK,
  ZPCI_STE_FLAG_MASK,
  ZPCI_TABLE_ENTRIES,
  ZPCI_TABLE_INVALID,
  ZPCI_TABLE_TYPE_MASK,
  ZPCI_TABLE_TYPE_RFX,
  ZPCI_TABLE_TYPE_RSX,
  ZPCI_TABLE_TYPE_SX,
} from "./pci-dma.js";
import type { S390Domain } from "./s390-iommu.js";

const PAGE = 4096;
const TWO32 = 2 ** 32;
const TWO20 = 2 ** 20;
const TWO52 = 2 ** 52;

/** 4 KiB frames one entry of a table of `type` spans (RF 2^53, RS 2^42, RT 2 GiB, ST 1 MiB bytes). */
function entryPfns(type: number): number {
  return type === ZPCI_TABLE_TYPE_RFX
    ? 2 ** 41
    : type === ZPCI_TABLE_TYPE_RSX
      ? 2 ** 30
      : type === ZPCI_TABLE_TYPE_SX
        ? 256
        : 2 ** 19;
}

/**
 * Model-only `iova_to_phys_runs` for s390: an invalid (or mistyped) region or segment entry is
 * a hole of the span it covers, as `iova_to_phys_length` reports it; IOVAs above the aperture
 * are one hole.
 */
export function s390IovaToPhysRuns(d: S390Domain, runs: PhysRunCollector): void {
  const limit = d.apertureEndPfn + 1;
  if (runs.startPfn < limit && !tableRuns(d, runs, d.dmaTable, d.originType, 0)) return;
  if (limit < TWO52) runs.hole(limit, TWO52 - limit, (TWO52 - limit) * PAGE);
}

/** The region or segment table at `table` (of `type`) translating from frame `first`: false when done. */
function tableRuns(
  d: S390Domain,
  runs: PhysRunCollector,
  table: number,
  type: number,
  first: number,
): boolean {
  const c = d.allocator.mem.chunk(table);
  const span = entryPfns(type);
  const from = Math.max(0, Math.floor((runs.startPfn - first) / span));
  if (!c) return runs.hole(first + from * span, (ZPCI_TABLE_ENTRIES - from) * span, span * PAGE);
  const words = c.words;
  const base = (table - c.pa) / 4;
  const counters = d.counters;
  const end = runs.endPfn;
  for (let i = from; i < ZPCI_TABLE_ENTRIES; i++) {
    const pfn = first + i * span;
    if (pfn >= end) return true;
    const lo = words[base + 2 * i]!;
    const hi = words[base + 2 * i + 1]!;
    counters.pteReads++;
    if (lo & ZPCI_TABLE_INVALID || (lo & ZPCI_TABLE_TYPE_MASK) !== type) {
      if (!runs.hole(pfn, span, span * PAGE)) return false;
    } else if (type === ZPCI_TABLE_TYPE_SX) {
      if (!pageTableRuns(d, runs, hi * TWO32 + ((lo & ~ZPCI_STE_FLAG_MASK) >>> 0), pfn)) return false;
    } else if (!tableRuns(d, runs, hi * TWO32 + ((lo & ~ZPCI_RTE_FLAG_MASK) >>> 0), type - 4, pfn))
      return false;
  }
  return true;
}

/** The page table at `pt` for the 1 MiB from frame `first`: false when the collector is done. */
function pageTableRuns(d: S390Domain, runs: PhysRunCollector, pt: number, first: number): boolean {
  const c = d.allocator.mem.chunk(pt);
  if (!c) return runs.hole(first, ZPCI_PT_ENTRIES, PAGE);
  const words = c.words;
  const base = (pt - c.pa) / 4;
  const counters = d.counters;
  const end = runs.endPfn;
  for (let j = Math.max(0, runs.startPfn - first); j < ZPCI_PT_ENTRIES && first + j < end; j++) {
    const lo = words[base + 2 * j]!;
    counters.pteReads++;
    const ok =
      lo & ZPCI_PTE_INVALID
        ? runs.hole(first + j, 1, PAGE)
        : runs.leaf(first + j, 1, words[base + 2 * j + 1]! * TWO20 + (lo >>> 12), s390PteProt(lo), PAGE);
    if (!ok) return false;
  }
  return true;
}
