/**
 * drivers/iommu/generic_pt/fmt/x86_64.h, fmt/iommu_x86_64.c: the x86-64 4/5-level table as
 * used by VT-d first stage and AMD v2.
 *
 * Leaves 4K/2M/1G (PS above level 0). With SIGN_EXTEND the upper half of the VA space
 * maps through top indices ≥ 256; the AMD PASID-0 variants run without it.
 */
import { ERRNO, IOMMU_MMIO, IOMMU_READ, IOMMU_WRITE, type PteField } from "@iommu/core";
import {
  bit,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_SIGN_EXTEND,
  PT_FEAT_X86_64_AMD_ENCRYPT_TABLES,
} from "../features.js";
import { addrField, bitField, oaHi12, oaLo12, type PtFormat, pfnFrom12 } from "../pt-common.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE, type PtHwInfoField } from "../pt-defs.js";
import { P2 } from "../pt-log2.js";

const P = 1 << 0;
const RW = 1 << 1;
const U = 1 << 2;
const A = 1 << 5;
const D = 1 << 6;
const PS = 1 << 7;
/** XD (bit 63) in the high word. */
const XD_HI = 1 << 31;

/** `fmt/x86_64.h` as a {@link PtFormat}. */
export const X86_64: PtFormat<"x86_64"> = {
  name: "x86_64",
  maxVaLg2: 57,
  maxOaLg2: 52,
  maxTopLevel: 4,
  granuleLg2: 12,
  supported:
    bit(PT_FEAT_SIGN_EXTEND) |
    bit(PT_FEAT_FLUSH_RANGE) |
    bit(PT_FEAT_FLUSH_RANGE_NO_GAPS) |
    bit(PT_FEAT_X86_64_AMD_ENCRYPT_TABLES) |
    bit(PT_FEAT_DMA_INCOHERENT),
  forced: 0,
  privateFeatureNames: ["amd_encrypt_tables"],
  attrKeepLo: 0xfff,
  attrKeepHi: 0xfff00000 | 0,
  // SW bit 0 is bit 9 (AVL).
  swBit0Lo: 1 << 9,
  swBit0Hi: 0,
  layout: {
    presentLo: P,
    oaShift: 12,
    oaHiMask: 0xfffff,
    leafLo: PS,
    maxLeafLevel: 2,
    nextLevelField: false,
    contigLoMask: 0,
    contigHi: 0,
    leafSetLo: P,
    leafPsLo: PS,
    tableLo: P | RW | U | A,
    tableHi: 0,
  },
  hasDirty: false,
  defaults: { features: bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE), vaBits: 48, oaBits: 52 },
  kunitFmtFeatures: bit(PT_FEAT_SIGN_EXTEND),
  kunitCfgs: [
    { name: "x86_64 sign 48", features: bit(PT_FEAT_SIGN_EXTEND), vaBits: 48, level: 3 },
    { name: "x86_64 sign 57", features: bit(PT_FEAT_SIGN_EXTEND), vaBits: 57, level: 4 },
    { name: "x86_64 47", features: 0, vaBits: 47, level: 3 },
    { name: "x86_64 56", features: 0, vaBits: 56, level: 4 },
  ],

  numItemsLg2() {
    return 9;
  },
  canHaveLeaf(level) {
    return level <= 2;
  },
  possibleSizes(level) {
    return level <= 2 ? P2[12 + 9 * level]! : 0;
  },
  entryType(lo, _hi, level) {
    if ((lo & P) === 0) return PT_ENTRY_EMPTY;
    if (level === 0 || (level <= 2 && (lo & PS) !== 0)) return PT_ENTRY_OA;
    return PT_ENTRY_TABLE;
  },
  tablePfn(lo, hi) {
    return pfnFrom12(lo, hi);
  },
  entryOaPfn(lo, hi) {
    return pfnFrom12(lo, hi);
  },
  numContigLg2() {
    return 0;
  },
  writeLeaf(words, w, level, oaPfn, _oaLg2, attrs) {
    words[w] = (P | oaLo12(oaPfn) | attrs.lo | (level !== 0 ? PS : 0)) >>> 0;
    words[w + 1] = (oaHi12(oaPfn) | attrs.hi) >>> 0;
    return 1;
  },
  writeTable(words, w, tablePfn) {
    words[w] = (P | RW | U | A | oaLo12(tablePfn)) >>> 0;
    words[w + 1] = oaHi12(tablePfn);
  },
  setProt(prot, _features, attrs) {
    // No read bit: a present entry is readable. Writable entries are pre-dirtied; XD unused.
    let lo = U | A;
    if (prot & IOMMU_WRITE) lo |= RW | D;
    void IOMMU_MMIO; // __sme_set() (skipped for MMIO) is the identity with sme_me_mask = 0
    attrs.lo = lo;
    attrs.hi = 0;
    return 0;
  },
  attrFromEntry(lo, hi, _level, _features, attrs) {
    attrs.lo = lo & (RW | U | A | D);
    attrs.hi = (hi & XD_HI) >>> 0;
  },
  protFromAttrs(attrs) {
    // Present means readable; set_prot encodes only IOMMU_WRITE (XD is never written).
    return IOMMU_READ | (attrs.lo & RW ? IOMMU_WRITE : 0);
  },
  decodeFields(lo, hi, level, features): PteField[] {
    // Intel SDM / AMD APM 4- and 5-level paging entries.
    const table = X86_64.entryType(lo, hi, level, features) === PT_ENTRY_TABLE;
    const out: PteField[] = [bitField("NX", lo, hi, 63), addrField("OA", 51, 12, pfnFrom12(lo, hi))];
    if (!table) out.push(bitField("G", lo, hi, 8), bitField(level === 0 ? "PAT" : "PS", lo, hi, 7));
    else out.push(bitField("PS", lo, hi, 7));
    if (!table) out.push(bitField("D", lo, hi, 6));
    out.push(
      bitField("A", lo, hi, 5),
      bitField("PCD", lo, hi, 4),
      bitField("PWT", lo, hi, 3),
      bitField("US", lo, hi, 2),
      bitField("RW", lo, hi, 1),
      bitField("P", lo, hi, 0),
    );
    return out;
  },
  fmtInit(level, hwVasz, hwOasz, common) {
    const top = level ?? (hwVasz <= 48 ? 3 : 4);
    if (top < 3 || top > 4) return -ERRNO.EOPNOTSUPP;
    common.topLevel = top;
    common.maxOasz = Math.min(52, hwOasz);
    return 0;
  },
  hwInfo(topPa, topLevel): PtHwInfoField[] {
    return [
      { name: "levels", value: topLevel + 1, hex: false },
      { name: "gcr3_pt", value: topPa, hex: true },
    ];
  },
};
