/**
 * drivers/iommu/generic_pt/fmt/vtdss.h, fmt/iommu_vtdss.c: the Intel VT-d second-stage table.
 *
 * No present bit: any non-zero entry is present, so set_prot refuses a prot without R/W.
 * Leaves at levels 0..2 (4K, 2M, 1G; PS above level 0); tables are R|W|OA.
 */
import { ERRNO, IOMMU_READ, IOMMU_WRITE, type PteField } from "@iommu/core";
import {
  bit,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_VTDSS_FORCE_COHERENCE,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
} from "../features.js";
import { addrField, bitField, oaHi12, oaLo12, type PtFormat, pfnFrom12 } from "../pt-common.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE, type PtHwInfoField } from "../pt-defs.js";
import { P2 } from "../pt-log2.js";

const R = 1 << 0;
const W = 1 << 1;
const PS = 1 << 7;
const D = 1 << 9;
const SNP = 1 << 11;

/** `fmt/vtdss.h` as a {@link PtFormat}. */
export const VTDSS: PtFormat<"vtdss"> = {
  name: "vtdss",
  maxVaLg2: 57,
  maxOaLg2: 52,
  maxTopLevel: 4,
  granuleLg2: 12,
  supported:
    bit(PT_FEAT_FLUSH_RANGE) |
    bit(PT_FEAT_VTDSS_FORCE_COHERENCE) |
    bit(PT_FEAT_VTDSS_FORCE_WRITEABLE) |
    bit(PT_FEAT_DMA_INCOHERENT),
  forced: 0,
  privateFeatureNames: ["force_coherence", "force_writeable"],
  attrKeepLo: 0xfff,
  attrKeepHi: 0xfff00000 | 0,
  // SW bit 0 is bit 10 (marked Ignored in the spec).
  swBit0Lo: 1 << 10,
  swBit0Hi: 0,
  layout: {
    presentLo: 0,
    oaShift: 12,
    oaHiMask: 0xfffff,
    leafLo: PS,
    maxLeafLevel: 2,
    nextLevelField: false,
    contigLoMask: 0,
    contigHi: 0,
    leafSetLo: 0,
    leafPsLo: PS,
    tableLo: R | W,
    tableHi: 0,
  },
  hasDirty: true,
  defaults: { features: bit(PT_FEAT_FLUSH_RANGE), vaBits: 48, oaBits: 52 },
  kunitFmtFeatures: bit(PT_FEAT_VTDSS_FORCE_WRITEABLE),
  kunitCfgs: [
    { name: "vtdss 39", features: 0, vaBits: 39, level: 2 },
    { name: "vtdss 48", features: 0, vaBits: 48, level: 3 },
    { name: "vtdss 57", features: 0, vaBits: 57, level: 4 },
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
  entryType(lo, hi, level) {
    if (lo === 0 && hi === 0) return PT_ENTRY_EMPTY;
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
    words[w] = (oaLo12(oaPfn) | attrs.lo | (level !== 0 ? PS : 0)) >>> 0;
    words[w + 1] = (oaHi12(oaPfn) | attrs.hi) >>> 0;
    return 1;
  },
  writeTable(words, w, tablePfn) {
    words[w] = (R | W | oaLo12(tablePfn)) >>> 0;
    words[w + 1] = oaHi12(tablePfn);
  },
  setProt(prot, features, attrs, log) {
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -ERRNO.EINVAL;
    let lo = 0;
    if (prot & IOMMU_READ) lo |= R;
    if (prot & IOMMU_WRITE) lo |= W;
    if (features & bit(PT_FEAT_VTDSS_FORCE_COHERENCE)) lo |= SNP;
    if (features & bit(PT_FEAT_VTDSS_FORCE_WRITEABLE) && !(prot & IOMMU_WRITE)) {
      log?.(
        "Read-only mapping is disallowed on the domain which serves as the parent in a nested configuration, due to HW errata (ERRATA_772415_SPR17)",
      );
      return -ERRNO.EINVAL;
    }
    attrs.lo = lo;
    attrs.hi = 0;
    return 0;
  },
  attrFromEntry(lo, _hi, _level, _features, attrs) {
    attrs.lo = lo & (R | W | SNP);
    attrs.hi = 0;
  },
  protFromAttrs(attrs) {
    return (attrs.lo & R ? IOMMU_READ : 0) | (attrs.lo & W ? IOMMU_WRITE : 0);
  },
  decodeFields(lo, hi, level, features): PteField[] {
    // VT-d specification, second-stage paging entries.
    const table = VTDSS.entryType(lo, hi, level, features) === PT_ENTRY_TABLE;
    const out: PteField[] = [addrField("OA", 51, 12, pfnFrom12(lo, hi))];
    if (!table) out.push(bitField("SNP", lo, hi, 11), bitField("D", lo, hi, 9));
    out.push(bitField("A", lo, hi, 8));
    if (level !== 0) out.push(bitField("PS", lo, hi, 7));
    out.push(bitField("W", lo, hi, 1), bitField("R", lo, hi, 0));
    return out;
  },
  fmtInit(level, hwVasz, _hwOasz, common) {
    const top = level ?? (hwVasz <= 39 ? 2 : hwVasz <= 48 ? 3 : 4);
    if (top > 4 || top < 2) return -ERRNO.EOPNOTSUPP;
    common.topLevel = top;
    return 0;
  },
  hwInfo(topPa, topLevel): PtHwInfoField[] {
    return [
      { name: "aw", value: topLevel - 1, hex: false },
      { name: "ssptptr", value: topPa, hex: true },
    ];
  },
  isWriteDirty(words, i) {
    return (words[2 * i]! & D) !== 0;
  },
  makeWriteClean(words, i) {
    words[2 * i] = (words[2 * i]! & ~D) >>> 0;
  },
  makeWriteDirty(words, i) {
    words[2 * i] = (words[2 * i]! | D) >>> 0;
  },
};
