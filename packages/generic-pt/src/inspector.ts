/**
 * Model-only inspection of a generic_pt table (core's `PageTableInspector`): the kernel's
 * nearest are `pt_attr_from_entry()` (pt_common.h), the `pt_load_entry` walk of pt_iter.h and
 * the reference harness's `walk`/`dump`. Reads table memory directly, counts nothing, moves
 * no cursor and never throws on a partial image: an entry whose table is not in memory is
 * reported with `tableMissing`.
 */
import {
  type Addr,
  type PageTableGeometry,
  type PageTableInspector,
  type PageTableStats,
  type PageTableVisitOptions,
  type PageTableWalk,
  type PteInfo,
  pageTableStatsOf,
} from "@iommu/core";
import { cContig, cPfn, cType } from "./entry-codec.js";
import { PT_ENTRY_OA, PT_ENTRY_TABLE, PtAttrs } from "./pt-defs.js";
import type { PtTable } from "./pt-table.js";

const MASK64 = (1n << 64n) - 1n;

/**
 * Model-only: one entry of a generic_pt table as the inspector reports it — core's
 * {@link PteInfo} plus what the reference harness's `walk` and `dump` lines print.
 */
export interface PtPteInfo extends PteInfo {
  /** Indices from the top table down to this item (`dump`'s `a/b/c` path). */
  readonly path: readonly number[];
  /** The entry with its address field cleared (what `walk`/`dump` print as `attrs=`). */
  readonly attrBits: bigint;
  /**
   * Leaf, first item (contigIndex 0) of a contiguous entry: true when all its items lie in
   * this table and are identical copies (`dump` prints such an entry once, `dump all` every item).
   */
  readonly contigIdentical?: boolean;
}

/** Model-only: one step of {@link ptWalkSteps} (the harness's `walk` line). */
export interface PtWalkStep {
  level: number;
  index: number;
  kind: "table" | "leaf" | "empty";
  /** The raw 64-bit item. */
  raw: bigint;
  /** Item size (table/empty) or entry size (leaf, contiguous entries whole). */
  sizeLg2: number;
  /** Leaf: the exact output address of the iova. */
  oa: bigint;
}

/** An address as a u64 bigint (numbers wrap as size_t does; nothing here throws). */
function u64(a: Addr): bigint {
  if (typeof a === "bigint") return a & MASK64;
  if (!Number.isFinite(a)) return 0n;
  return BigInt(Math.trunc(a)) & MASK64;
}

/**
 * Model-only: the {@link PageTableInspector} of a generic_pt table. It is live: every call
 * reads the table as it is then (the top may have moved since, amdv1 dynamic top).
 */
export class PtInspector implements PageTableInspector {
  private readonly attrs = new PtAttrs();
  /** The bits outside the format's address field. */
  private readonly keep: bigint;

  constructor(readonly pt: PtTable) {
    this.keep = (BigInt(pt.fmt.attrKeepHi >>> 0) << 32n) | BigInt(pt.fmt.attrKeepLo >>> 0);
  }

  geometry(): PageTableGeometry {
    const pt = this.pt;
    return {
      format: pt.fmt.name,
      root: pt.topPa,
      topLevel: pt.topLevel,
      levels: pt.topLevel + 1,
      topEntries: pt.topEntries,
      entryBytes: 8,
      iasBits: pt.topRangeBits,
      signExtended: pt.signExtend,
      pgsizeBitmap: BigInt(pt.pgsizeBitmap),
    };
  }

  walk(iova: Addr): PageTableWalk & { readonly steps: readonly PtPteInfo[] } {
    const pt = this.pt;
    const va = u64(iova);
    const mv = pt.topRangeBits;
    const steps: PtPteInfo[] = [];
    if (!this.inTopRange(va)) return { iova: va, steps, end: "out-of-range" };
    const inRange = mv >= 64 ? va : va & ((1n << BigInt(mv)) - 1n);
    let level = pt.topLevel;
    let tableAddr = pt.topPa;
    let entries = pt.topEntries;
    let words = this.tableAt(tableAddr, entries);
    if (!words) return { iova: va, steps, end: "missing-table" };
    const path: number[] = [];
    for (let depth = 0; ; depth++) {
      const isz = BigInt(pt.gLg2 + 9 * level);
      const index =
        depth === 0 ? Number(inRange >> isz) % entries : Number((inRange >> isz) & BigInt(entries - 1));
      path.push(index);
      const base = (inRange >> isz) << isz;
      const e = this.info(words, entries, tableAddr, level, depth, index, base, path);
      steps.push(e);
      if (e.kind === "leaf") {
        // `pt_entry_oa_exact`: the entry's OA | (va mod entry size).
        const oa = this.entryOa(words[2 * index]!, words[2 * index + 1]!, level);
        return {
          iova: va,
          steps,
          end: "leaf",
          phys: oa | (va & (BigInt(e.leafSize!) - 1n)),
          length: e.leafSize!,
        };
      }
      if (e.kind !== "table") return { iova: va, steps, end: "hole", length: e.itemSize };
      if (e.tableMissing) return { iova: va, steps, end: "missing-table" };
      tableAddr = e.nextTable!;
      entries = 512;
      words = this.tableAt(tableAddr, entries)!;
      level--;
    }
  }

  visit(visitor: (entry: PtPteInfo) => unknown, options: PageTableVisitOptions = {}): void {
    const pt = this.pt;
    const from = options.from === undefined ? 0n : u64(options.from);
    const to = options.to === undefined ? MASK64 : u64(options.to);
    const walk = (
      pa: number,
      level: number,
      depth: number,
      entries: number,
      base: bigint,
      path: number[],
    ) => {
      const words = this.tableAt(pa, entries);
      if (!words) return;
      const isz = pt.gLg2 + 9 * level;
      const size = 1n << BigInt(isz);
      for (let i = 0; i < entries; i++) {
        if (words[2 * i] === 0 && words[2 * i + 1] === 0) continue;
        const itemBase = base + (BigInt(i) << BigInt(isz));
        const first = this.canonical(itemBase);
        if (first + size - 1n < from || first > to) continue;
        path.push(i);
        const e = this.info(words, entries, pa, level, depth, i, itemBase, path);
        if (visitor(e) !== false && e.kind === "table" && !e.tableMissing)
          walk(e.nextTable!, level - 1, depth + 1, 512, itemBase, path);
        path.pop();
      }
    };
    walk(pt.topPa, pt.topLevel, 0, pt.topEntries, 0n, []);
  }

  stats(): PageTableStats {
    return pageTableStatsOf((v) => this.visit(v));
  }

  /** `pt_check_range` of one address against the top range, as the lookup walk does it. */
  private inTopRange(va: bigint): boolean {
    const mv = this.pt.topRangeBits;
    if (mv >= 64) return true;
    const sign = this.pt.signExtend;
    if (va < 1n << BigInt(sign ? mv - 1 : mv)) return true;
    // SIGN_EXTEND: the bits above max_vasz must all be set (bit max_vasz-1 is not checked).
    return sign && va >= (1n << 64n) - (1n << BigInt(mv));
  }

  /** The canonical form of an IOVA in the top range (sign-extended for SIGN_EXTEND). */
  private canonical(va: bigint): bigint {
    const mv = this.pt.topRangeBits;
    if (!this.pt.signExtend || mv >= 64) return va;
    return (va >> BigInt(mv - 1)) & 1n ? (va | (MASK64 ^ ((1n << BigInt(mv)) - 1n))) & MASK64 : va;
  }

  /** The words of a table of `entries` items at `pa`, or null when memory does not back it. */
  private tableAt(pa: number, entries: number): Uint32Array | null {
    const c = this.pt.alloc.mem.chunk(pa);
    if (!c) return null;
    const w = (pa - c.pa) / 4;
    if (!Number.isInteger(w) || w + 2 * entries > c.words.length) return null;
    return c.words.subarray(w, w + 2 * entries);
  }

  /** `pt_entry_oa`: the OA of the first byte of a leaf entry (contiguous entries whole). */
  private entryOa(lo: number, hi: number, level: number): bigint {
    const pt = this.pt;
    const pfn = cContig(pt.codec, lo, hi)
      ? pt.fmt.entryOaPfn(lo, hi, level, pt.features)
      : cPfn(pt.codec, lo, hi);
    return BigInt(pfn) << BigInt(pt.gLg2);
  }

  /** Decode item `index` of a table (its raw IOVA `base`, before sign extension). */
  private info(
    words: Uint32Array,
    entries: number,
    tableAddr: number,
    level: number,
    depth: number,
    index: number,
    base: bigint,
    path: readonly number[],
  ): PtPteInfo {
    const pt = this.pt;
    const fmt = pt.fmt;
    const feat = pt.features;
    const lo = words[2 * index]!;
    const hi = words[2 * index + 1]!;
    const raw = (BigInt(hi) << 32n) | BigInt(lo);
    const isz = pt.gLg2 + 9 * level;
    const t = cType(pt.codec, lo, hi, level);
    // One object per entry, its properties added in a fixed order (no spreads: each would copy).
    const e: { -readonly [K in keyof PtPteInfo]: PtPteInfo[K] } = {
      level,
      depth,
      tableAddr,
      index,
      entryBytes: 8,
      raw,
      kind: t === PT_ENTRY_TABLE ? "table" : t === PT_ENTRY_OA ? "leaf" : "invalid",
      iova: this.canonical(base),
      itemSize: 2 ** isz,
      fields: fmt.decodeFields(lo, hi, level, feat),
      path: path.slice(),
      attrBits: raw & this.keep,
    };
    if (t === PT_ENTRY_TABLE) {
      e.nextTable = cPfn(pt.codec, lo, hi) * pt.gSize;
      e.tableMissing = this.tableAt(e.nextTable, 512) === null;
      return e;
    }
    if (t !== PT_ENTRY_OA) return e;
    const nlg2 = cContig(pt.codec, lo, hi) ? fmt.numContigLg2(lo, hi, level, feat) : 0;
    const n = 2 ** nlg2;
    const contigIndex = index % n;
    fmt.attrFromEntry(lo, hi, level, feat, this.attrs);
    e.phys =
      contigIndex === 0
        ? this.entryOa(lo, hi, level)
        : this.entryOa(lo, hi, level) | (BigInt(contigIndex) << BigInt(isz));
    e.leafSize = 2 ** (isz + nlg2);
    e.contigIndex = contigIndex;
    e.prot = fmt.protFromAttrs(this.attrs, feat);
    if (n === 1 || contigIndex !== 0) return e;
    let same = index + n <= entries;
    for (let k = index + 1; k < index + n && same; k++) same = words[2 * k] === lo && words[2 * k + 1] === hi;
    e.contigIdentical = same;
    return e;
  }
}

/**
 * Model-only: the lookup walk of `iova` with every step recorded (the harness's `walk` line),
 * from {@link PtInspector.walk}; null when the iova is outside the table (-ERANGE). A walk that
 * reaches a table missing from memory ends at that table entry.
 */
export function ptWalkSteps(pt: PtTable, iova: Addr): PtWalkStep[] | null {
  const w = new PtInspector(pt).walk(iova);
  if (w.end === "out-of-range") return null;
  return w.steps.map((s) => {
    if (s.kind === "leaf")
      return {
        level: s.level,
        index: s.index,
        kind: "leaf",
        raw: s.raw,
        sizeLg2: Math.log2(s.leafSize!),
        oa: w.phys!,
      };
    return {
      level: s.level,
      index: s.index,
      kind: s.kind === "table" ? "table" : "empty",
      raw: s.raw,
      sizeLg2: Math.log2(s.itemSize),
      oa: 0n,
    };
  });
}
