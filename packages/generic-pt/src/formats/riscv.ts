/**
 * drivers/iommu/generic_pt/fmt/riscv.h, fmt/iommu_riscv64.c: the RISC-V Sv39/Sv48/Sv57 table
 * with Svnapot.
 *
 * Leaves are allowed at every level. With SVNAPOT_64K a 64K leaf is 16 identical level-0
 * items with N (bit 63) set and PPN bit 3 (entry bit 13) marking the 64K size.
 */
import { ERRNO, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, type PteField } from "@iommu/core";
import { bit, PT_FEAT_FLUSH_RANGE, PT_FEAT_RISCV_SVNAPOT_64K, PT_FEAT_SIGN_EXTEND } from "../features.js";
import { addrField, bitField, type PtFormat, rangeField } from "../pt-common.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE, type PtHwInfoField } from "../pt-defs.js";
import { P2 } from "../pt-log2.js";

const V = 1 << 0;
const R = 1 << 1;
const W = 1 << 2;
const X = 1 << 3;
const U = 1 << 4;
const A = 1 << 6;
const G = 1 << 5;
const D = 1 << 7;
/** PBMT (bits 62:61) in the high word. */
const PBMT_HI = 3 << 29;
const N_HI = 1 << 31;
const PPN64_64K_SZ = 1 << 13;
const TWO22 = 4194304;
const INV_TWO22 = 1 / 4194304;
const SVNAPOT = bit(PT_FEAT_RISCV_SVNAPOT_64K);

function ppnLo(pfn: number): number {
  return ((pfn & 0x3fffff) << 10) >>> 0;
}
function ppnHi(pfn: number): number {
  return ((pfn * INV_TWO22) | 0) & 0x3fffff;
}
function ppn(lo: number, hi: number): number {
  return (hi & 0x3fffff) * TWO22 + (lo >>> 10);
}

/** `fmt/riscv.h` (64-bit) as a {@link PtFormat}. */
export const RISCV: PtFormat<"riscv"> = {
  name: "riscv",
  maxVaLg2: 57,
  maxOaLg2: 56,
  maxTopLevel: 4,
  granuleLg2: 12,
  supported: bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE) | SVNAPOT,
  forced: 0,
  privateFeatureNames: ["svnapot_64k"],
  attrKeepLo: 0x3ff,
  attrKeepHi: 0xffc00000 | 0,
  swBit0Lo: 0,
  swBit0Hi: 0,
  layout: {
    presentLo: V,
    oaShift: 10,
    oaHiMask: 0x3fffff,
    leafLo: R | W | X,
    maxLeafLevel: 4,
    nextLevelField: false,
    contigLoMask: 0,
    contigHi: N_HI,
    leafSetLo: V,
    leafPsLo: 0,
    tableLo: V,
    tableHi: 0,
  },
  hasDirty: false,
  defaults: {
    features: bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE) | SVNAPOT,
    vaBits: 48,
    oaBits: 56,
  },
  kunitFmtFeatures: SVNAPOT,
  kunitCfgs: [
    { name: "riscv svnapot 39", features: SVNAPOT, vaBits: 39, oaBits: 56 },
    { name: "riscv 48", features: 0, vaBits: 48, oaBits: 56 },
    { name: "riscv svnapot 57", features: SVNAPOT, vaBits: 57, oaBits: 56 },
  ],

  numItemsLg2() {
    return 9;
  },
  canHaveLeaf() {
    return true;
  },
  possibleSizes(level, features) {
    const isz = 12 + 9 * level;
    if (level === 0 && features & SVNAPOT) return P2[isz]! + P2[isz + 4]!;
    return P2[isz]!;
  },
  entryType(lo, _hi, level) {
    if ((lo & V) === 0) return PT_ENTRY_EMPTY;
    if (level === 0 || (lo & (X | W | R)) !== 0) return PT_ENTRY_OA;
    return PT_ENTRY_TABLE;
  },
  tablePfn(lo, hi) {
    return ppn(lo, hi);
  },
  entryOaPfn(lo, hi, _level, features) {
    if (features & SVNAPOT && hi & N_HI) {
      // PPN[53:14] in 64K units
      const f = (hi & 0x3fffff) * 262144 + (lo >>> 14);
      return f * 16;
    }
    return ppn(lo, hi);
  },
  numContigLg2(_lo, hi) {
    // Decided by the compiled-in feature, not the runtime one.
    return hi & N_HI ? 4 : 0;
  },
  writeLeaf(words, w, level, oaPfn, oaLg2, attrs, features) {
    let lo = (V | ppnLo(oaPfn) | attrs.lo) >>> 0;
    let hi = (ppnHi(oaPfn) | attrs.hi) >>> 0;
    if (features & SVNAPOT && level === 0 && oaLg2 !== 12) {
      lo = (lo | PPN64_64K_SZ) >>> 0;
      hi = (hi | N_HI) >>> 0;
      for (let k = 0; k < 32; k += 2) {
        words[w + k] = lo;
        words[w + k + 1] = hi;
      }
      return 16;
    }
    words[w] = lo;
    words[w + 1] = hi;
    return 1;
  },
  writeTable(words, w, tablePfn) {
    words[w] = (V | ppnLo(tablePfn)) >>> 0;
    words[w + 1] = ppnHi(tablePfn);
  },
  setProt(prot, _features, attrs) {
    let lo = A | U;
    if (prot & IOMMU_WRITE) lo |= W | R | D;
    if (prot & IOMMU_READ) lo |= R;
    if (!(prot & IOMMU_NOEXEC)) lo |= X;
    if ((lo & (X | W | R)) === 0) return -ERRNO.EOPNOTSUPP;
    attrs.lo = lo;
    attrs.hi = 0;
    return 0;
  },
  attrFromEntry(lo, hi, _level, _features, attrs) {
    attrs.lo = lo & (R | W | X | U | G | A | D);
    attrs.hi = (hi & PBMT_HI) >>> 0;
  },
  protFromAttrs(attrs) {
    return (
      (attrs.lo & R ? IOMMU_READ : 0) | (attrs.lo & W ? IOMMU_WRITE : 0) | (attrs.lo & X ? 0 : IOMMU_NOEXEC)
    );
  },
  decodeFields(lo, hi, level, features): PteField[] {
    // RISC-V privileged specification, Sv39/48/57 PTE (with Svnapot and Svpbmt).
    const pfn =
      RISCV.entryType(lo, hi, level, features) === PT_ENTRY_OA
        ? RISCV.entryOaPfn(lo, hi, level, features)
        : ppn(lo, hi);
    return [
      bitField("N", lo, hi, 63),
      rangeField("PBMT", lo, hi, 62, 61),
      addrField("OA", 53, 10, pfn),
      rangeField("RSW", lo, hi, 9, 8),
      bitField("D", lo, hi, 7),
      bitField("A", lo, hi, 6),
      bitField("G", lo, hi, 5),
      bitField("U", lo, hi, 4),
      bitField("X", lo, hi, 3),
      bitField("W", lo, hi, 2),
      bitField("R", lo, hi, 1),
      bitField("V", lo, hi, 0),
    ];
  },
  fmtInit(_level, hwVasz, hwOasz, common) {
    if (hwVasz === 39) common.topLevel = 2;
    else if (hwVasz === 48) common.topLevel = 3;
    else if (hwVasz === 57) common.topLevel = 4;
    else return -ERRNO.EINVAL;
    common.maxOasz = Math.min(56, hwOasz);
    return 0;
  },
  hwInfo(topPa, topLevel): PtHwInfoField[] {
    return [
      { name: "fsc_iosatp_mode", value: topLevel + 6, hex: false },
      { name: "ppn", value: Math.floor(topPa / 4096), hex: true },
    ];
  },
};
