/**
 * pt_common.h entry accessors (`pt_load_entry_raw`, `pt_table_pa`, `pt_entry_num_contig_lg2`,
 * the OA field of `pt_install_*`) for ordinary entries, decoded inline from a format's
 * {@link PtEntryLayout}: plain functions over one class, so entries of every format decode and
 * encode without a per-format call (which V8 cannot inline once two formats are in use).
 */
import type { PtEntryLayout } from "./pt-common.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE, type PtEntryType } from "./pt-defs.js";

/**
 * Model-only: a format's {@link PtEntryLayout} with the derived constants, in one class so that every
 * table's codec has the same hidden class and the walker's inline decode stays monomorphic.
 */
export class EntryCodec {
  readonly presentLo: number;
  readonly oaShift: number;
  readonly oaHiMask: number;
  /** 2^(32 - oaShift): weight of the high word's field bits in a frame number. */
  readonly oaHiMul: number;
  readonly oaHiInv: number;
  /** Frame-number bits that land in the low word. */
  readonly oaLoPfnMask: number;
  readonly leafLo: number;
  readonly maxLeafLevel: number;
  readonly nextLevelField: boolean;
  readonly contigLoMask: number;
  readonly contigHi: number;
  readonly leafSetLo: number;
  readonly leafPsLo: number;
  readonly tableLo: number;
  readonly tableHi: number;

  constructor(l: PtEntryLayout) {
    this.presentLo = l.presentLo;
    this.oaShift = l.oaShift;
    this.oaHiMask = l.oaHiMask;
    this.oaHiMul = 2 ** (32 - l.oaShift);
    this.oaHiInv = 2 ** -(32 - l.oaShift);
    this.oaLoPfnMask = 2 ** (32 - l.oaShift) - 1;
    this.leafLo = l.leafLo;
    this.maxLeafLevel = l.maxLeafLevel;
    this.nextLevelField = l.nextLevelField;
    this.contigLoMask = l.contigLoMask;
    this.contigHi = l.contigHi;
    this.leafSetLo = l.leafSetLo;
    this.leafPsLo = l.leafPsLo;
    this.tableLo = l.tableLo;
    this.tableHi = l.tableHi;
  }
}

/** `pt_load_entry_raw` classification from the layout. */
export function cType(c: EntryCodec, lo: number, hi: number, level: number): PtEntryType {
  if (c.presentLo === 0 ? (lo | hi) === 0 : (lo & c.presentLo) === 0) return PT_ENTRY_EMPTY;
  if (level === 0) return PT_ENTRY_OA;
  if (c.nextLevelField) {
    const nl = (lo >>> 9) & 7;
    return nl === 0 || nl === 7 ? PT_ENTRY_OA : PT_ENTRY_TABLE;
  }
  return level <= c.maxLeafLevel && (lo & c.leafLo) !== 0 ? PT_ENTRY_OA : PT_ENTRY_TABLE;
}

/** `pt_table_pa` >> 12 (and the OA frame of a plain leaf): the frame number in the address field. */
export function cPfn(c: EntryCodec, lo: number, hi: number): number {
  return (hi & c.oaHiMask) * c.oaHiMul + (lo >>> c.oaShift);
}

/** `pt_entry_num_contig_lg2() != 0`: whether the entry uses the format's contiguous encoding. */
export function cContig(c: EntryCodec, lo: number, hi: number): boolean {
  return (c.contigLoMask !== 0 && (lo & c.contigLoMask) === c.contigLoMask) || (hi & c.contigHi) !== 0;
}

/** `pt_install_*` OA field, low word, of frame `pfn`. */
export function cFieldLo(c: EntryCodec, pfn: number): number {
  return ((pfn & c.oaLoPfnMask) << c.oaShift) >>> 0;
}

/** `pt_install_*` OA field, high word, of frame `pfn`. */
export function cFieldHi(c: EntryCodec, pfn: number): number {
  // ToInt32 truncates (= floor) and wraps modulo 2^32, which the mask ignores.
  return ((pfn * c.oaHiInv) | 0) & c.oaHiMask;
}
