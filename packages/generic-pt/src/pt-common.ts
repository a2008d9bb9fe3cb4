/**
 * drivers/iommu/generic_pt/pt_common.h (with pt_fmt_defaults.h): the format API every
 * `fmt/<name>.h` implements, as the {@link PtFormat} interface, plus the field helpers the
 * formats share. A format never walks; the shared walker (pt-iter.ts and the op files) does.
 */
import type { PteField } from "@iommu/core";
import type { PtAttrs, PtCommonInit, PtEntryType, PtHwInfoField } from "./pt-defs.js";

/**
 * Model-only: the common entry layout of a format as data, so the shared walker decodes and
 * encodes ordinary entries inline (one code path for every format: a call through a
 * per-format function would turn megamorphic, and uninlinable, as soon as two formats are in
 * use). Entries this cannot describe — contiguous entries — go to the format's functions.
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

/** `pt_iommu_<fmt>_cfg` defaults: what the drivers (and the reference harness) use. */
export interface PtFormatDefaults {
  features: number;
  vaBits: number;
  oaBits: number;
  level?: number;
}

/** `kunit_fmt_cfgs[]`: one configuration the kernel's KUnit suites run a format with. */
export interface PtKunitCfg {
  readonly name: string;
  readonly features: number;
  readonly vaBits?: number;
  readonly oaBits?: number;
  readonly level?: number;
}

/**
 * `pt_common.h` format API: a format's constants (`PT_MAX_VA_ADDRESS_LG2`, ...) and the small
 * entry encode/decode functions of `fmt/<name>.h`.
 *
 * Entries are 64-bit and handled as two 32-bit words (`lo` = bits 31:0, `hi` = bits 63:32) so
 * that no BigInt is needed. Output/table addresses travel as frame numbers of the format's
 * granule (`pfn`: 4 KiB frames, 2 KiB for amdv1_mock). All formats here use 8-byte items and
 * 4 KiB tables (512 items), so the item size of level L is 2^(granuleLg2 + 9L)
 * (`pt_table_item_lg2sz` default).
 */
export interface PtFormat<N extends string = string> {
  /** The format's name (`fmt/<name>.h`), the key of `PT_FORMATS`. */
  readonly name: N;
  /** `PT_MAX_VA_ADDRESS_LG2` */
  readonly maxVaLg2: number;
  /** `PT_MAX_OUTPUT_ADDRESS_LG2` */
  readonly maxOaLg2: number;
  /** `PT_MAX_TOP_LEVEL` */
  readonly maxTopLevel: number;
  /**
   * `PT_GRANULE_LG2SZ`: lg2 of the level-0 item size, and the unit the OA/table address field
   * counts in — 12 for every format but amdv1_mock (the iommufd selftest's 2 KiB variant, 11).
   * Tables stay 4 KiB (`PT_TABLEMEM_LG2SZ` 12) in every format.
   */
  readonly granuleLg2: number;
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
  /** The driver defaults (cfg, features) of this format. */
  readonly defaults: PtFormatDefaults;
  /** `KUNIT_FMT_FEATURES`: the features the kunit cfg list controls; the rest default to on. */
  readonly kunitFmtFeatures: number;
  /** `kunit_fmt_cfgs[]` */
  readonly kunitCfgs: readonly PtKunitCfg[];

  /** `pt_num_items_lg2` (never called at the top level by the walker). */
  numItemsLg2(level: number): number;
  /** `pt_can_have_leaf` */
  canHaveLeaf(level: number): boolean;
  /** `pt_possible_sizes`: bitmap of leaf sizes at this level (bit n = 2^n bytes). */
  possibleSizes(level: number, features: number): number;
  /** `pt_load_entry_raw` classification. */
  entryType(lo: number, hi: number, level: number, features: number): PtEntryType;
  /** `pt_table_pa` >> granuleLg2 */
  tablePfn(lo: number, hi: number, features: number): number;
  /** `pt_entry_oa` >> granuleLg2: OA of the first byte of the (contiguous) entry. */
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
  /** `pt_iommu_set_prot`: 0 or -errno; `log` receives a pr_err when there is one. */
  setProt(prot: number, features: number, attrs: PtAttrs, log?: (text: string) => void): number;
  /**
   * `pt_attr_from_entry`: the write attributes of a leaf, such that {@link writeLeaf} with them
   * (and the entry's OA and size) rewrites the entry bit for bit.
   */
  attrFromEntry(lo: number, hi: number, level: number, features: number, attrs: PtAttrs): void;
  /**
   * Model-only, the inverse of `pt_iommu_set_prot`: the `IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC
   * | …` a leaf with these attributes grants, limited to the bits set_prot itself encodes.
   */
  protFromAttrs(attrs: PtAttrs, features: number): number;
  /**
   * Model-only field decoder (the kernel has none; the nearest are the format's `*_FMT_*`
   * bit definitions): the entry's fields named as the format's specification names them, in
   * bit order from the top. Address fields carry the address they encode.
   */
  decodeFields(lo: number, hi: number, level: number, features: number): PteField[];
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

const TWO20 = 1048576;
const INV_TWO20 = 1 / 1048576;

/** `FIELD_PREP(GENMASK(51, 12), pfn)`, low word: the OA/table field at bits 51:12 holding `pfn`. */
export function oaLo12(pfn: number): number {
  return ((pfn & 0xfffff) << 12) >>> 0;
}

/** `FIELD_PREP(GENMASK(51, 12), pfn)`, high word. */
export function oaHi12(pfn: number): number {
  // ToInt32 truncates (= floor here) and wraps modulo 2^32, which the mask ignores.
  return ((pfn * INV_TWO20) | 0) & 0xfffff;
}

/** `FIELD_GET(GENMASK(51, 12), entry)`: the pfn stored in bits 51:12. */
export function pfnFrom12(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO20 + (lo >>> 12);
}

/** Model-only: bit `n` of the entry as a one-bit {@link PteField}. */
export function bitField(name: string, lo: number, hi: number, n: number): PteField {
  return { name, bits: `${n}`, value: n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1 };
}

/** Model-only: bits `top:low` of the entry (a field inside one 32-bit half) as a {@link PteField}. */
export function rangeField(name: string, lo: number, hi: number, top: number, low: number): PteField {
  const word = low < 32 ? lo : hi;
  const shift = low < 32 ? low : low - 32;
  const width = top - low + 1;
  return { name, bits: `${top}:${low}`, value: (word >>> shift) & ((2 ** width - 1) | 0) };
}

/**
 * Model-only: an address field (`top:low`) whose value is the address it encodes: `pfn`
 * frames of 2^`granuleLg2` bytes (4 KiB unless given).
 */
export function addrField(name: string, top: number, low: number, pfn: number, granuleLg2 = 12): PteField {
  return { name, bits: `${top}:${low}`, value: BigInt(pfn) << BigInt(granuleLg2) };
}
