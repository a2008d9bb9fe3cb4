/**
 * drivers/iommu/generic_pt/iommu_pt.h `__collect_tables` and `pt_iommu_deinit`: gather every
 * table below an item (map's `clear_contig`, teardown) and free a whole table.
 */
import { cPfn, cType } from "./entry-codec.js";
import { EADDRINUSE, PT_ENTRY_OA, PT_ENTRY_TABLE } from "./pt-defs.js";
import type { PtTable } from "./pt-table.js";

/**
 * `__collect_tables` over the whole table at `pa` (level `level`): every sub-table in
 * pre-order goes to `list`; with checkMapped any leaf fails with -EADDRINUSE.
 */
export function collectTables(
  pt: PtTable,
  level: number,
  pa: number,
  checkMapped: boolean,
  list: number[],
  entries = 512,
): number {
  if (!checkMapped && level === 0) return 0;
  const base = level;
  let words = pt.tableWords(pa);
  let i = 0;
  let end = entries;
  for (;;) {
    if (i >= end) {
      if (level === base) return 0;
      level++;
      words = pt.cWords[level]!;
      i = pt.cIdx[level]! + 1;
      end = level === base ? entries : 512;
      continue;
    }
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    pt.counters.pteReads++;
    const t = cType(pt.codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      const cpa = cPfn(pt.codec, lo, hi) * pt.gSize;
      list.push(cpa);
      if (!checkMapped && level - 1 === 0) {
        i++;
        continue;
      }
      pt.cWords[level] = words;
      pt.cIdx[level] = i;
      level--;
      words = pt.tableWords(cpa);
      i = 0;
      end = 512;
      continue;
    }
    if (t === PT_ENTRY_OA && checkMapped) return EADDRINUSE;
    i++;
  }
}

/** `pt_iommu_deinit`: free every table, the top included (an adopted image is left alone). */
export function ptDeinit(pt: PtTable): void {
  if (pt.destroyed) return;
  pt.destroyed = true;
  pt.forgetWalks();
  if (pt.adopted) return;
  const list: number[] = [pt.topPa];
  collectTables(pt, pt.topLevel, pt.topPa, false, list, pt.topEntries);
  if (pt.fIncoherent) pt.incoherent.stop += list.length;
  for (const pa of list) pt.freeTable(pa);
}
