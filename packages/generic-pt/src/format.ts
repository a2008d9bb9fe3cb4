import type { MemChunk } from "@iommu/core";

/** `enum pt_entry_type` */
export const PT_ENTRY_EMPTY = 0;
export const PT_ENTRY_TABLE = 1;
export const PT_ENTRY_OA = 2;
export type PtEntryType = typeof PT_ENTRY_EMPTY | typeof PT_ENTRY_TABLE | typeof PT_ENTRY_OA;

/** `struct pt_write_attrs`: the descriptor bits set_prot computed, split in 32-bit halves. */
export class PtAttrs {
  lo = 0;
  hi = 0;
}

/** What fmt_init may change: the table geometry of `struct pt_common` plus the top level. */
export interface PtCommonInit {
  features: number;
  maxVasz: number;
  maxOasz: number;
  topLevel: number;
}

/** One named hardware-info value (`pt_iommu_<fmt>_hw_info`), in the harness's print order. */
export interface PtHwInfoField {
  readonly name: string;
  readonly value: number;
  /** Print as hex (addresses) rather than decimal (modes, levels). */
  readonly hex: boolean;
}

/**
 * The common entry layout of a format as data, so the shared walker decodes and encodes
 * ordinary entries inline (one code path for every format: a call through a per-format
 * function would turn megamorphic, and uninlinable, as soon as two formats are in use).
 * Entries this cannot describe — contiguous entries — go to the format's functions.
 */
export interface PtEntryLayout {
  /** Present bit(s) in the low word; 0 = any non-zero entry is present (vtdss). */
  readonly presentLo: number;
  /** Low bit of the OA/table address field (12, riscv 10) and the field's high-word mask. */
  readonly oaShift: number;
  readonly oaHiMask: number;
  /** Above level 0 a leaf has one of these low bits (PS, riscv R|W|X)... */
  readonly leafLo: number;
  /** ...at levels up to this one; */
  readonly maxLeafLevel: number;
  /** or (amdv1) NEXT_LEVEL (bits 11:9) is 0 or 7. */
  readonly nextLevelField: boolean;
  /** A contiguous entry: (lo & contigLoMask) === contigLoMask with a non-zero mask, or hi & contigHi. */
  readonly contigLoMask: number;
  readonly contigHi: number;
  /** Bits every single-item leaf carries (besides attrs/OA): the present bit; PS above level 0. */
  readonly leafSetLo: number;
  readonly leafPsLo: number;
  /** A table entry: these bits, plus NEXT_LEVEL = level when nextLevelField. */
  readonly tableLo: number;
  readonly tableHi: number;
}

/**
 * A page-table format: its constants (`PT_MAX_VA_ADDRESS_LG2`, ...) and the small entry
 * encode/decode functions of `fmt/<name>.h`. The shared walker in pt-table.ts does every
 * iteration; a format never walks.
 *
 * Entries are 64-bit and handled as two 32-bit words (`lo` = bits 31:0, `hi` = bits 63:32) so
 * that no BigInt is needed. Output/table addresses travel as 4 KiB frame numbers (`pfn`).
 * All formats here use 8-byte items, a 4 KiB granule and 4 KiB tables (512 items), so the
 * item size of level L is 2^(12 + 9L) (`pt_table_item_lg2sz` default).
 */
export interface PtFormat {
  readonly name: string;
  /** `PT_MAX_VA_ADDRESS_LG2` */
  readonly maxVaLg2: number;
  /** `PT_MAX_OUTPUT_ADDRESS_LG2` */
  readonly maxOaLg2: number;
  /** `PT_MAX_TOP_LEVEL` */
  readonly maxTopLevel: number;
  /** `PT_SUPPORTED_FEATURES` of fmt/iommu_<name>.c */
  readonly supported: number;
  /** `PT_FORCE_ENABLED_FEATURES` */
  readonly forced: number;
  /** Names of the format-private feature bits starting at PT_FEAT_FMT_START. */
  readonly privateFeatureNames: readonly string[];
  /** Address field of a table entry, to clear for `attrs` (lo mask, hi mask of kept bits). */
  readonly attrKeepLo: number;
  readonly attrKeepHi: number;
  /** SW bit 0 (`SW_BIT_CACHE_FLUSH_DONE`) for DMA_INCOHERENT, as lo/hi masks; 0/0 = none. */
  readonly swBit0Lo: number;
  readonly swBit0Hi: number;
  /** The entry layout the shared walker decodes inline. */
  readonly layout: PtEntryLayout;
  /** Whether the format defines `pt_entry_is_write_dirty`. */
  readonly hasDirty: boolean;
  /** The "present" notion for dump: a non-zero entry the format calls EMPTY is `invalid`. */

  /** `pt_num_items_lg2` (never called at the top level by the walker). */
  numItemsLg2(level: number): number;
  /** `pt_can_have_leaf` */
  canHaveLeaf(level: number): boolean;
  /** `pt_possible_sizes`: bitmap of leaf sizes at this level (bit n = 2^n bytes). */
  possibleSizes(level: number, features: number): number;
  /** `pt_load_entry_raw` classification. */
  entryType(lo: number, hi: number, level: number, features: number): PtEntryType;
  /** `pt_table_pa` >> 12 */
  tablePfn(lo: number, hi: number, features: number): number;
  /** `pt_entry_oa` >> 12: OA of the first byte of the (contiguous) entry. */
  entryOaPfn(lo: number, hi: number, level: number, features: number): number;
  /** `pt_entry_num_contig_lg2` */
  numContigLg2(lo: number, hi: number, level: number, features: number): number;
  /**
   * `pt_install_leaf_entry`: write the leaf for [oa, oa + 2^oaLg2) at item `w/2` of `words`,
   * every item of a contiguous entry included. Returns the number of items written.
   */
  writeLeaf(
    words: Uint32Array,
    w: number,
    level: number,
    oaPfn: number,
    oaLg2: number,
    attrs: PtAttrs,
    features: number,
  ): number;
  /** `pt_install_table`: write a table pointer. */
  writeTable(words: Uint32Array, w: number, tablePfn: number, level: number, features: number): void;
  /** `pt_iommu_set_prot`: 0 or -errno; `warnText` receives a pr_err when there is one. */
  setProt(prot: number, features: number, attrs: PtAttrs, log?: (text: string) => void): number;
  /** `pt_iommu_fmt_init`: validate the config, set the top level and (maybe) max_vasz/max_oasz. */
  fmtInit(level: number | undefined, hwVasz: number, hwOasz: number, common: PtCommonInit): number;
  /** `pt_iommu_fmt_hw_info` */
  hwInfo(topPa: number, topLevel: number): PtHwInfoField[];
  /** `pt_entry_is_write_dirty` for the entry at item index `i` of `words` (contig aware). */
  isWriteDirty?(words: Uint32Array, i: number, level: number, features: number): boolean;
  /** `pt_entry_make_write_clean` */
  makeWriteClean?(words: Uint32Array, i: number, level: number, features: number): void;
  /** `pt_entry_make_write_dirty` (one item) */
  makeWriteDirty?(words: Uint32Array, i: number): void;
}

/** Chunk lookup result kept per table: PhysMem chunks of our tables start at the table. */
export type TableWords = MemChunk["words"];

/** 2^k as an exact double for k = 0..64. */
export const P2: readonly number[] = Array.from({ length: 65 }, (_, k) => 2 ** k);

const TWO20 = 1048576;
const INV_TWO20 = 1 / 1048576;

/** Low word of an OA/table field at bits 51:12 holding `pfn`. */
export function oaLo12(pfn: number): number {
  return ((pfn & 0xfffff) << 12) >>> 0;
}

/** High word of an OA/table field at bits 51:12 holding `pfn`. */
export function oaHi12(pfn: number): number {
  // ToInt32 truncates (= floor here) and wraps modulo 2^32, which the mask ignores.
  return ((pfn * INV_TWO20) | 0) & 0xfffff;
}

/** The pfn stored in bits 51:12. */
export function pfnFrom12(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO20 + (lo >>> 12);
}

/** Index of the lowest zero bit of a 32-bit value (`ffz_t(u32, x)`); 32 when all ones. */
export function ffz32(x: number): number {
  const inv = ~x;
  if (inv === 0) return 32;
  return 31 - Math.clz32(inv & -inv);
}

/** Trailing zero count of a non-negative integer double below 2^53 (64 for 0). */
export function ctz(x: number): number {
  if (x === 0) return 64;
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / 4294967296) >>> 0;
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** 0-based index of the highest set bit of a non-negative integer double below 2^53 (-1 for 0). */
export function flsIdx(x: number): number {
  if (x < 4294967296) return 31 - Math.clz32(x >>> 0);
  return 32 + 31 - Math.clz32(Math.floor(x / 4294967296) >>> 0);
}

/** Bitmap number with bits lo..hi set, minus the bits in `except` (lg2 list). */
export function genmask(hi: number, lo: number, except: readonly number[] = []): number {
  let v = 0;
  for (let b = lo; b <= hi; b++) if (!except.includes(b)) v += P2[b]!;
  return v;
}
