/**
 * Read-only traversal of a live table for tools (dump, tests): not a hot path, so it builds
 * bigints freely.
 */
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE } from "./format.js";
import type { PtTable } from "./pt-table.js";

export interface PtEntryVisit {
  /** Level of the table holding the item. */
  level: number;
  /** Indices from the top table down to this item. */
  path: readonly number[];
  /** First IOVA the item covers (canonical: sign-extended for SIGN_EXTEND formats). */
  iova: bigint;
  kind: "table" | "leaf" | "invalid";
  raw: bigint;
  /** Item size lg2. */
  itemLg2: number;
  /** Items of the contiguous entry this item belongs to (1 = not contiguous). */
  contig: number;
  /** Leaf: whether this visit stands for all `contig` identical items. */
  merged: boolean;
}

const MASK64 = (1n << 64n) - 1n;

/**
 * Visit every non-zero item in depth-first pre-order (ascending index, a table item followed
 * by its table's contents). Unless `all`, a contiguous entry whose items are identical is
 * visited once at its first item.
 */
export function forEachPtEntry(pt: PtTable, visit: (e: PtEntryVisit) => void, all = false): void {
  const fmt = pt.fmt;
  const feat = pt.features;
  const bits = pt.topRangeBits;
  const signBit = pt.signExtend && bits < 64 ? 1n << BigInt(bits - 1) : 0n;
  const upper = signBit ? MASK64 & ~((1n << BigInt(bits)) - 1n) : 0n;
  const walk = (pa: number, level: number, entries: number, path: number[], base: bigint): void => {
    const words = pt.tableWords(pa);
    const isz = 12 + 9 * level;
    for (let i = 0; i < entries; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      if (lo === 0 && hi === 0) continue;
      const raw = (BigInt(hi) << 32n) | BigInt(lo);
      let iova = base + (BigInt(i) << BigInt(isz));
      if (signBit && iova & signBit) iova |= upper;
      const p = [...path, i];
      const t = fmt.entryType(lo, hi, level, feat);
      if (t === PT_ENTRY_EMPTY) {
        visit({ level, path: p, iova, kind: "invalid", raw, itemLg2: isz, contig: 1, merged: false });
        continue;
      }
      if (t === PT_ENTRY_TABLE) {
        visit({ level, path: p, iova, kind: "table", raw, itemLg2: isz, contig: 1, merged: false });
        walk(fmt.tablePfn(lo, hi, feat) * 4096, level - 1, 512, p, base + (BigInt(i) << BigInt(isz)));
        continue;
      }
      const n = 1 << fmt.numContigLg2(lo, hi, level, feat);
      if (!all && n > 1 && i % n === 0 && i + n <= entries) {
        let same = true;
        for (let k = i + 1; k < i + n && same; k++) same = words[2 * k] === lo && words[2 * k + 1] === hi;
        if (same) {
          visit({ level, path: p, iova, kind: "leaf", raw, itemLg2: isz, contig: n, merged: true });
          i += n - 1;
          continue;
        }
      }
      visit({ level, path: p, iova, kind: "leaf", raw, itemLg2: isz, contig: n, merged: false });
    }
  };
  void PT_ENTRY_OA;
  walk(pt.topPa, pt.topLevel, pt.topEntries, [], 0n);
}
