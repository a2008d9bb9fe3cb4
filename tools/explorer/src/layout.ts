// tools/explorer: the drawing model of a table, level by level — read from the table's
// PageTableInspector (visit/geometry/stats), never re-derived: every block is an entry the
// inspector reported, a contiguous/replicated run is merged into one block at its leafSize,
// and table pages are the tables the inspector's table entries point at.
import type { PageTableGeometry, PageTableInspector, PageTableStats, PteInfo, PteKind } from "@iommu/core";

/** One drawn entry: a leaf (a whole contiguous run), a table entry, or an invalid non-zero entry. */
export interface Block {
  readonly kind: PteKind;
  readonly depth: number;
  /** First IOVA (as a double: exact below 2^53, good for drawing above). */
  readonly start: number;
  /** Bytes covered: leafSize for a leaf run, the item size otherwise. */
  readonly size: number;
  /** The first entry of the block (the run's first copy). */
  readonly pte: PteInfo;
  /** Entries merged into the block (contiguous/replicated copies; 1 otherwise). */
  readonly items: number;
}

/** One table page: where it lives and the IOVA range its entries cover. */
export interface TablePage {
  readonly depth: number;
  readonly addr: number;
  readonly start: number;
  readonly size: number;
  readonly missing: boolean;
}

/** A gap inside a table page: consecutive empty entries. */
export interface Hole {
  readonly depth: number;
  readonly start: number;
  readonly size: number;
}

export interface Row {
  readonly depth: number;
  /** Sorted by start. */
  readonly blocks: readonly Block[];
  readonly tables: readonly TablePage[];
  readonly holes: readonly Hole[];
}

export interface TableLayout {
  readonly geometry: PageTableGeometry;
  readonly stats: PageTableStats;
  readonly rows: readonly Row[];
  /** Leaf blocks (contiguous runs counted once) — what the view draws. */
  readonly leafBlocks: number;
  /** IOVA span holding every non-empty entry: [start, end). */
  readonly extent: readonly [number, number];
}

/** IOVA span of the top table. */
export function topSpan(g: PageTableGeometry): { start: number; size: number } {
  const size = 2 ** g.iasBits;
  return { start: g.signExtended ? -size / 2 : 0, size };
}

/** Lay out every non-zero entry of the table. */
export function layoutTable(insp: PageTableInspector): TableLayout {
  const geometry = insp.geometry();
  const stats = insp.stats();
  const rows: { blocks: Block[]; tables: TablePage[] }[] = [];
  for (let d = 0; d < geometry.levels; d++) rows.push({ blocks: [], tables: [] });
  const top = topSpan(geometry);
  rows[0]!.tables.push({ depth: 0, addr: geometry.root, start: top.start, size: top.size, missing: false });
  let leafBlocks = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  insp.visit((e) => {
    const row = rows[e.depth];
    if (!row) return;
    const start = Number(e.iova);
    if (e.kind === "leaf") {
      const size = e.leafSize ?? e.itemSize;
      const prev = row.blocks[row.blocks.length - 1];
      if ((e.contigIndex ?? 0) > 0 && prev && prev.kind === "leaf" && start < prev.start + prev.size) {
        (prev as { items: number }).items++;
        return;
      }
      // A run whose first copy is outside the visit starts at its own copy's run base.
      const runStart = size > e.itemSize ? start - (e.contigIndex ?? 0) * e.itemSize : start;
      row.blocks.push({ kind: "leaf", depth: e.depth, start: runStart, size, pte: e, items: 1 });
      leafBlocks++;
      lo = Math.min(lo, runStart);
      hi = Math.max(hi, runStart + size);
      return;
    }
    row.blocks.push({ kind: e.kind, depth: e.depth, start, size: e.itemSize, pte: e, items: 1 });
    if (e.kind === "table" && e.nextTable !== undefined) {
      rows[e.depth + 1]?.tables.push({
        depth: e.depth + 1,
        addr: e.nextTable,
        start,
        size: e.itemSize,
        missing: e.tableMissing === true,
      });
    }
    if (e.kind === "invalid") {
      lo = Math.min(lo, start);
      hi = Math.max(hi, start + e.itemSize);
    }
  });
  const out: Row[] = rows.map((r, depth) => ({
    depth,
    blocks: r.blocks,
    tables: r.tables,
    holes: holesOf(depth, r.tables, r.blocks),
  }));
  if (lo > hi) {
    lo = top.start;
    hi = top.start + Math.min(top.size, 2 ** 32);
  }
  return { geometry, stats, rows: out, leafBlocks, extent: [lo, hi] };
}

/** Gaps between the blocks of each table page (blocks and tables are both sorted by start). */
function holesOf(depth: number, tables: readonly TablePage[], blocks: readonly Block[]): Hole[] {
  const holes: Hole[] = [];
  let b = 0;
  for (const t of tables) {
    if (t.missing) continue;
    const end = t.start + t.size;
    let at = t.start;
    while (b < blocks.length && blocks[b]!.start < t.start) b++;
    while (b < blocks.length && blocks[b]!.start < end) {
      const blk = blocks[b]!;
      if (blk.start > at) holes.push({ depth, start: at, size: blk.start - at });
      at = Math.max(at, blk.start + blk.size);
      b++;
    }
    if (end > at) holes.push({ depth, start: at, size: end - at });
  }
  return holes;
}

/** Index of the first item whose end is above `x` (items sorted by start, not overlapping). */
export function firstEndingAfter(items: readonly { start: number; size: number }[], x: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const it = items[mid]!;
    if (it.start + it.size <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The block of `row` holding `iova`, if any. */
export function blockAt(row: Row, iova: number): Block | undefined {
  const i = firstEndingAfter(row.blocks, iova);
  const b = row.blocks[i];
  return b && b.start <= iova ? b : undefined;
}
