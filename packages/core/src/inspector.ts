/**
 * Page-table inspection, the model's counterpart of the kernel's read-only table views
 * (`io_pgtable_ops.pgtable_walk`, generic_pt's `pt_attr_from_entry()`, the VT-d debugfs dumps):
 * one contract every format implements, returning data, never text. Tools (`iommu dump`,
 * the script engine's `walk`/`dump`, the explorer) format it in one place.
 *
 * Inspection is not a kernel walk: it reads memory directly, counts nothing in
 * {@link IommuCounters}, allocates freely and never throws on a damaged or partial table — an
 * entry whose table is not backed by memory is reported as such (`tableMissing`).
 */
import type { Addr } from "./addr.js";

/** One decoded field of an entry, named as the format's architecture manual or kernel macro names it. */
export interface PteField {
  /** e.g. `valid`, `type`, `AP`, `SH`, `AttrIndx`, `XN`, `OA`, `IR`, `PR`. */
  readonly name: string;
  /** Bit range in the entry, `"hi:lo"` or `"n"`. */
  readonly bits: string;
  /** The field's value (output addresses as the address they encode). */
  readonly value: number | bigint;
}

/** What an entry is, as the hardware walker would take it. */
export type PteKind = "table" | "leaf" | "invalid";

/** One page-table entry (one item of one table), decoded. */
export interface PteInfo {
  /** The format's own level number (LPAE 0..3 from the top, generic_pt 0 = leaf-most, v7s 1..2). */
  readonly level: number;
  /** Distance from the top table: 0 for its entries, +1 per table descended. */
  readonly depth: number;
  /** Physical address of the table holding the entry. */
  readonly tableAddr: number;
  /** Index of the entry in that table. */
  readonly index: number;
  /** Bytes per entry (4 or 8). */
  readonly entryBytes: number;
  /** The entry as stored (little-endian, zero-extended). */
  readonly raw: bigint;
  readonly kind: PteKind;
  /** First IOVA the item covers (sign-extended where the format is, e.g. x86_64 upper half). */
  readonly iova: bigint;
  /** Bytes the item covers (one item, even when it is a copy of a contiguous/replicated leaf). */
  readonly itemSize: number;
  /** Leaf: physical address of the item's first byte. */
  readonly phys?: bigint;
  /**
   * Leaf: bytes of the translation unit it belongs to — the item size, or the whole block
   * for contiguous (LPAE CONT, riscv NAPOT, amdv1 contiguous) and replicated (v7s 64K/16M)
   * entries. This is what `iova_to_phys_length` reports for an IOVA inside it.
   */
  readonly leafSize?: number;
  /** Leaf: index of this item within its contiguous/replicated run (0 = the first copy). */
  readonly contigIndex?: number;
  /** Leaf: `IOMMU_READ | IOMMU_WRITE | …` the entry grants (the format's attributes-from-entry). */
  readonly prot?: number;
  /** Table: physical address of the next-level table. */
  readonly nextTable?: number;
  /** Table: true when the next-level table is not backed by memory (a partial image). */
  readonly tableMissing?: boolean;
  /** The format's fields, in bit order from the top. */
  readonly fields: readonly PteField[];
}

/** Why a walk stopped. */
export type PageTableWalkEnd =
  /** At a leaf: the IOVA is mapped. */
  | "leaf"
  /** At an empty (or invalid) entry. */
  | "hole"
  /** The IOVA is outside what the table can translate (above ias, non-canonical, beyond the top level). */
  | "out-of-range"
  /** At a table entry whose table is not backed by memory. */
  | "missing-table";

/** The walk of one IOVA from the top table down. */
export interface PageTableWalk {
  readonly iova: bigint;
  /** Every entry the hardware walker reads, top first (empty for `out-of-range`). */
  readonly steps: readonly PteInfo[];
  readonly end: PageTableWalkEnd;
  /** `leaf`: the physical address of `iova` itself. */
  readonly phys?: bigint;
  /** `leaf`: the translation unit's size; `hole`: the size of the empty entry that stopped the walk. */
  readonly length?: number;
}

/** The shape of the table, for headings and drawing. */
export interface PageTableGeometry {
  /** Format name as the registry names it (`ARM_64_LPAE_S1`, `amdv1`, …). */
  readonly format: string;
  /** Physical address of the top table (the root a TTBR/DTE/… would hold). */
  readonly root: number;
  /** Level number of the top table (format numbering, see {@link PteInfo.level}). */
  readonly topLevel: number;
  /** Levels from the top table to the leaf-most one. */
  readonly levels: number;
  /** Entries in the top table. */
  readonly topEntries: number;
  /** Bytes per entry. */
  readonly entryBytes: number;
  /** Input address bits the table translates. */
  readonly iasBits: number;
  /** Whether IOVAs are sign-extended from bit iasBits − 1 (x86_64 upper half, TTBR1). */
  readonly signExtended: boolean;
  /** Page sizes the table can map (bit n = 2^n bytes), as a bigint so every size fits. */
  readonly pgsizeBitmap: bigint;
}

/** Counts over a whole table. */
export interface PageTableStats {
  /** Tables reachable from the root (the root included). */
  readonly tables: number;
  /** Tables per depth (index 0 = the root). */
  readonly tablesByDepth: readonly number[];
  /** Leaf items (copies of contiguous entries counted one by one). */
  readonly leafItems: number;
  /** Translation units by size in bytes (a contiguous run counts once, at its leafSize). */
  readonly leavesBySize: ReadonlyMap<number, number>;
  /** Non-zero entries that are neither leaf nor table. */
  readonly invalidNonZero: number;
  /** Table entries whose table is missing from memory. */
  readonly missingTables: number;
  /** Bytes mapped (sum of leaf item sizes). */
  readonly mappedBytes: bigint;
}

/** Options of {@link PageTableInspector.visit}. */
export interface PageTableVisitOptions {
  /** Visit only items overlapping [from, to] (inclusive, canonical IOVAs); default: everything. */
  readonly from?: Addr;
  readonly to?: Addr;
}

/**
 * The inspection contract (model-only; the kernel's nearest are `pgtable_walk` and
 * `pt_attr_from_entry`). Implemented by every format; reached from a domain through
 * {@link iommuDomainInspector}.
 */
export interface PageTableInspector {
  geometry(): PageTableGeometry;
  /** The entries a hardware walk of `iova` reads, and how it ended. */
  walk(iova: Addr): PageTableWalk;
  /**
   * Every non-zero entry in depth-first pre-order (ascending index; a table entry is followed
   * by its table's contents). A visitor that returns exactly `false` for a table entry skips its subtree.
   */
  visit(visitor: (entry: PteInfo) => unknown, options?: PageTableVisitOptions): void;
  /** Counts over every reachable entry. */
  stats(): PageTableStats;
}
