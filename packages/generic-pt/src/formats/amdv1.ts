/**
 * drivers/iommu/generic_pt/fmt/amdv1.h, fmt/iommu_amdv1.c: the AMD IOMMU v1 host page table.
 *
 * Levels 0..5 (mode = level + 1); level 5 covers VA bits 63:57 with 128 items and cannot
 * hold leaves. Every power of two from 4K to 2^51 except 512G is a leaf size: sizes between
 * the item sizes are NEXT_LEVEL=7 entries replicated over 2^n items with the size encoded
 * as a run of ones in the low OA bits.
 *
 * The encode/decode is written once over the variant's constants ({@link amdv1Variant}), as
 * amdv1.h is compiled twice: here as amdv1, and with `AMDV1_IOMMUFD_SELFTEST` as the iommufd
 * selftest's 2 KiB variant (amdv1-mock.ts).
 */
import { ERRNO, IOMMU_READ, IOMMU_WRITE, type PteField } from "@iommu/core";
import {
  bit,
  PT_FEAT_AMDV1_ENCRYPT_TABLES,
  PT_FEAT_AMDV1_FORCE_COHERENCE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_FULL_VA,
} from "../features.js";
import {
  addrField,
  bitField,
  oaHi12,
  oaLo12,
  type PtFormat,
  type PtFormatDefaults,
  type PtKunitCfg,
  pfnFrom12,
  rangeField,
} from "../pt-common.js";
import {
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  type PtAttrs,
  type PtCommonInit,
  type PtHwInfoField,
} from "../pt-defs.js";
import { ffz32, genmask, P2 } from "../pt-log2.js";

const PR = 1 << 0;
const D = 1 << 6;
const NL_SHIFT = 9;
const NL_SIZE = 7;
/** FC/IR/IW live in the high word: bits 60/61/62. */
const FC_HI = 1 << 28;
const IR_HI = 1 << 29;
const IW_HI = 1 << 30;
/** The bits `pt_attr_from_entry` keeps: FC, IR, IW (high word). */
const ATTR_HI = FC_HI | IR_HI | IW_HI;

const SZ_512G_LG2 = 39;

/** Trailing ones of the 40-bit OA field (`oaffz` of bits 51:12). */
function oaFieldTrailingOnes(lo: number, hi: number): number {
  const low20 = lo >>> 12;
  if (low20 !== 0xfffff) return ffz32(low20 | 0xfff00000);
  return 20 + ffz32((hi & 0xfffff) | 0xfff00000);
}

/**
 * Model-only: the constants amdv1.h switches on `AMDV1_IOMMUFD_SELFTEST` and the
 * `fmt/iommu_*.c` unit defines (`PT_SUPPORTED_FEATURES`, `PT_FORCE_ENABLED_FEATURES`,
 * `PT_FMT_VARIANT`), plus the model's defaults and kunit cfgs.
 */
export interface Amdv1Variant<N extends string> {
  readonly name: N;
  /** `PT_MAX_VA_ADDRESS_LG2` */
  readonly maxVaLg2: number;
  /** `PT_MAX_OUTPUT_ADDRESS_LG2` */
  readonly maxOaLg2: number;
  /** `PT_MAX_TOP_LEVEL` (the level that cannot hold leaves) */
  readonly maxTopLevel: number;
  /** `PT_GRANULE_LG2SZ` */
  readonly granuleLg2: number;
  readonly supported: number;
  readonly forced: number;
  readonly defaults: PtFormatDefaults;
  readonly kunitCfgs: readonly PtKunitCfg[];
  /** `pt_iommu_fmt_hw_info` exists (not with `PT_FMT_VARIANT`). */
  readonly hasHwInfo: boolean;
}

/**
 * Model-only: `fmt/amdv1.h` compiled for one variant — the item size of level L is
 * 2^(granule + 9L), the OA field counts granule frames, and a contiguous entry's size code is
 * 2^(size − granule − 1) − 1 in that field.
 */
export function amdv1Variant<N extends string>(v: Amdv1Variant<N>): PtFormat<N> {
  const g = v.granuleLg2;
  const possible: readonly number[] = Array.from({ length: v.maxTopLevel + 2 }, (_, level) => {
    if (level >= v.maxTopLevel) return 0;
    const isz = g + 9 * level;
    return genmask(Math.min(51, isz + 9 - 1), isz, [SZ_512G_LG2]);
  });
  const pfeature = (features: number, nr: number): boolean =>
    ((v.forced | (features & v.supported)) & bit(nr)) !== 0;
  const fmt: PtFormat<N> = {
    name: v.name,
    maxVaLg2: v.maxVaLg2,
    maxOaLg2: v.maxOaLg2,
    maxTopLevel: v.maxTopLevel,
    granuleLg2: g,
    supported: v.supported,
    forced: v.forced,
    privateFeatureNames: ["encrypt_tables", "force_coherence"],
    attrKeepLo: 0xfff,
    attrKeepHi: 0xfff00000 | 0,
    swBit0Lo: 0,
    swBit0Hi: 0,
    layout: {
      presentLo: PR,
      oaShift: 12,
      oaHiMask: 0xfffff,
      leafLo: 0,
      maxLeafLevel: v.maxTopLevel - 1,
      nextLevelField: true,
      contigLoMask: NL_SIZE << NL_SHIFT,
      contigHi: 0,
      leafSetLo: PR,
      leafPsLo: 0,
      tableLo: PR,
      tableHi: IR_HI | IW_HI,
    },
    hasDirty: true,
    defaults: v.defaults,
    kunitFmtFeatures: 0,
    kunitCfgs: v.kunitCfgs,

    numItemsLg2(level) {
      // The level-5 top only decodes VA bits 63:57.
      return level === 5 ? 7 : 9;
    },
    canHaveLeaf(level) {
      return level < v.maxTopLevel;
    },
    possibleSizes(level) {
      return possible[level] ?? 0;
    },
    entryType(lo, _hi, level) {
      if ((lo & PR) === 0) return PT_ENTRY_EMPTY;
      const nl = (lo >>> NL_SHIFT) & 7;
      if (level === 0 || nl === 0 || nl === NL_SIZE) return PT_ENTRY_OA;
      return PT_ENTRY_TABLE;
    },
    tablePfn(lo, hi) {
      // sme_me_mask is 0 in the model: __sme_clr() is the identity.
      return pfnFrom12(lo, hi);
    },
    entryOaPfn(lo, hi) {
      const nl = (lo >>> NL_SHIFT) & 7;
      const pfn = pfnFrom12(lo, hi);
      if (nl === NL_SIZE) {
        const ones = oaFieldTrailingOnes(lo, hi);
        return pfn - (pfn % P2[ones]!);
      }
      if (nl !== 0) return 0;
      return pfn;
    },
    numContigLg2(lo, hi, level) {
      if (((lo >>> NL_SHIFT) & 7) === 0) return 0;
      // The size code starts one bit below the OA field, shifted by the item size in
      // granules: 12 − 1 + (g + 9·level) − g.
      const s = 11 + 9 * level;
      const code = s < 32 ? (lo >>> s) | (s === 0 ? 0 : hi << (32 - s)) : hi >>> (s - 32);
      return ffz32(code);
    },
    writeLeaf(words, w, level, oaPfn, oaLg2, attrs) {
      const isz = g + 9 * level;
      let lo = (oaLo12(oaPfn) | PR | attrs.lo) >>> 0;
      let hi = (oaHi12(oaPfn) | attrs.hi) >>> 0;
      if (oaLg2 === isz) {
        words[w] = lo;
        words[w + 1] = hi;
        return 1;
      }
      const ones = oaLg2 - g - 1;
      lo = (lo | (NL_SIZE << NL_SHIFT)) >>> 0;
      if (ones <= 20) lo = (lo | (((P2[ones]! - 1) * 4096) >>> 0)) >>> 0;
      else {
        lo = (lo | 0xfffff000) >>> 0;
        hi = (hi | (P2[ones - 20]! - 1)) >>> 0;
      }
      const n = 1 << (oaLg2 - isz);
      for (let k = 0, e = w + 2 * n; w + k < e; k += 2) {
        words[w + k] = lo;
        words[w + k + 1] = hi;
      }
      return n;
    },
    writeTable(words, w, tablePfn, level) {
      // IR/IW are ANDed down the walk: tables always grant both, the leaf decides.
      words[w] = (PR | (level << NL_SHIFT) | oaLo12(tablePfn)) >>> 0;
      words[w + 1] = (oaHi12(tablePfn) | IR_HI | IW_HI) >>> 0;
    },
    setProt(prot, features, attrs) {
      let hi = 0;
      if (pfeature(features, PT_FEAT_AMDV1_FORCE_COHERENCE)) hi |= FC_HI;
      if (prot & IOMMU_READ) hi |= IR_HI;
      if (prot & IOMMU_WRITE) hi |= IW_HI;
      attrs.lo = 0;
      attrs.hi = hi >>> 0;
      return 0;
    },
    attrFromEntry(_lo, hi, _level, _features, attrs: PtAttrs) {
      attrs.lo = 0;
      attrs.hi = (hi & ATTR_HI) >>> 0;
    },
    protFromAttrs(attrs) {
      return (attrs.hi & IR_HI ? IOMMU_READ : 0) | (attrs.hi & IW_HI ? IOMMU_WRITE : 0);
    },
    decodeFields(lo, hi, level, features): PteField[] {
      // AMD IOMMU specification, PDE / PTE of the host page table.
      const table = fmt.entryType(lo, hi, level, features) === PT_ENTRY_TABLE;
      const out: PteField[] = [bitField("IW", lo, hi, 62), bitField("IR", lo, hi, 61)];
      if (!table) out.push(bitField("FC", lo, hi, 60), bitField("U", lo, hi, 59));
      const nl = (lo >>> NL_SHIFT) & 7;
      const pfn = table || nl !== NL_SIZE ? pfnFrom12(lo, hi) : fmt.entryOaPfn(lo, hi, level, features);
      out.push(addrField("OA", 51, 12, pfn, g), rangeField("NextLevel", lo, hi, 11, 9));
      if (!table) out.push(bitField("D", lo, hi, 6));
      out.push(bitField("A", lo, hi, 5), bitField("PR", lo, hi, 0));
      return out;
    },
    fmtInit(level, hwVasz, hwOasz, common: PtCommonInit) {
      const start = level ?? 2;
      if (start === 0 || start > v.maxTopLevel) return -ERRNO.EINVAL;
      let maxVasz = v.maxVaLg2;
      if (!pfeature(common.features, PT_FEAT_DYNAMIC_TOP) && start !== v.maxTopLevel)
        maxVasz = g + 9 * (start + 1);
      common.maxVasz = Math.min(maxVasz, hwVasz);
      common.maxOasz = Math.min(v.maxOaLg2, hwOasz);
      common.topLevel = start;
      return 0;
    },
    hwInfo(topPa, topLevel): PtHwInfoField[] {
      if (!v.hasHwInfo) return [];
      return [
        { name: "mode", value: topLevel + 1, hex: false },
        { name: "host_pt_root", value: topPa, hex: true },
      ];
    },
    isWriteDirty(words, i, level, features) {
      const n = fmt.numContigLg2(words[2 * i]!, words[2 * i + 1]!, level, features);
      const first = i - (i % (1 << n));
      for (let k = first; k < first + (1 << n); k++) if (words[2 * k]! & D) return true;
      return false;
    },
    makeWriteClean(words, i, level, features) {
      const n = fmt.numContigLg2(words[2 * i]!, words[2 * i + 1]!, level, features);
      const first = i - (i % (1 << n));
      for (let k = first; k < first + (1 << n); k++) words[2 * k] = (words[2 * k]! & ~D) >>> 0;
    },
    makeWriteDirty(words, i) {
      words[2 * i] = (words[2 * i]! | D) >>> 0;
    },
  };
  return fmt;
}

/** `fmt/amdv1.h` with `fmt/iommu_amdv1.c` as a {@link PtFormat}. */
export const AMDV1: PtFormat<"amdv1"> = amdv1Variant({
  name: "amdv1",
  maxVaLg2: 64,
  maxOaLg2: 52,
  maxTopLevel: 5,
  granuleLg2: 12,
  supported:
    bit(PT_FEAT_FULL_VA) |
    bit(PT_FEAT_DYNAMIC_TOP) |
    bit(PT_FEAT_FLUSH_RANGE) |
    bit(PT_FEAT_FLUSH_RANGE_NO_GAPS) |
    bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) |
    bit(PT_FEAT_AMDV1_FORCE_COHERENCE),
  forced: bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) | bit(PT_FEAT_AMDV1_FORCE_COHERENCE),
  defaults: {
    features:
      bit(PT_FEAT_DYNAMIC_TOP) |
      bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) |
      bit(PT_FEAT_AMDV1_FORCE_COHERENCE) |
      bit(PT_FEAT_FLUSH_RANGE),
    vaBits: 64,
    oaBits: 52,
    level: 2,
  },
  // The second kernel cfg (hw va 32) only initialises under CONFIG_DEBUG_GENERIC_PT, which
  // skips the forced-feature check; the model is the production build, so it is left out.
  kunitCfgs: [{ name: "amdv1 start 2", features: 0, level: 2 }],
  hasHwInfo: true,
});
