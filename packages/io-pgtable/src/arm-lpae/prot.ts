/**
 * drivers/iommu/io-pgtable-arm.c: `arm_lpae_prot_to_pte()`.
 */
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from "@iommu/core";
import {
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IoPgtableFmt,
} from "../io-pgtable.js";
import {
  HI_DBM,
  HI_XN,
  LO_AF,
  LO_AP_RDONLY,
  LO_AP_UNPRIV,
  LO_ATTRINDX_SHIFT,
  LO_HAP_READ,
  LO_HAP_WRITE,
  LO_MEMATTR_DEV,
  LO_MEMATTR_FWB_WB,
  LO_MEMATTR_NC,
  LO_MEMATTR_OIWB,
  LO_NG,
  LO_NS,
  LO_SH_IS,
  LO_SH_OS,
  MAIR_ATTR_IDX_CACHE,
  MAIR_ATTR_IDX_DEV,
} from "./constants.js";

/** Model-only: the six IOMMU_* prot bits the descriptor encoding looks at. */
export const PROT_BITS = 0x3f;

/**
 * `arm_lpae_prot_to_pte()`: the attribute bits of a leaf for `prot` (type and output
 * address are added when the entry is written). Returns the low word; the high word is
 * {@link protToPteHi}. S1 formats use AP bits and MAIR indices, S2 uses HAP and MemAttr,
 * and Mali mixes S1 attributes with S2 permissions and never sets AF.
 */
export function protToPteLo(fmt: IoPgtableFmt, quirks: number, prot: number): number {
  let lo: number;
  const s1 = fmt === IoPgtableFmt.ARM_64_LPAE_S1 || fmt === IoPgtableFmt.ARM_32_LPAE_S1;
  const s2 = fmt === IoPgtableFmt.ARM_64_LPAE_S2 || fmt === IoPgtableFmt.ARM_32_LPAE_S2;
  const mali = fmt === IoPgtableFmt.ARM_MALI_LPAE;
  if (s1) {
    lo = LO_NG;
    if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) lo |= LO_AP_RDONLY;
    if (!(prot & IOMMU_PRIV)) lo |= LO_AP_UNPRIV;
  } else {
    lo = 0;
    if (prot & IOMMU_READ) lo |= LO_HAP_READ;
    if (prot & IOMMU_WRITE) lo |= LO_HAP_WRITE;
  }
  if (s2) {
    if (prot & IOMMU_MMIO) lo |= LO_MEMATTR_DEV;
    else if (prot & IOMMU_CACHE)
      lo |= quirks & IO_PGTABLE_QUIRK_ARM_S2FWB ? LO_MEMATTR_FWB_WB : LO_MEMATTR_OIWB;
    else lo |= LO_MEMATTR_NC;
  } else if (prot & IOMMU_MMIO) lo |= MAIR_ATTR_IDX_DEV << LO_ATTRINDX_SHIFT;
  else if (prot & IOMMU_CACHE) lo |= MAIR_ATTR_IDX_CACHE << LO_ATTRINDX_SHIFT;
  // Mali's inner shareable domain is the GPU itself, so it always asks for outer.
  lo |= prot & IOMMU_CACHE && !mali ? LO_SH_IS : LO_SH_OS;
  if (quirks & IO_PGTABLE_QUIRK_ARM_NS) lo |= LO_NS;
  if (!mali) lo |= LO_AF;
  return lo;
}

/** `arm_lpae_prot_to_pte()`, high word: XN for NOEXEC, DBM for writable S1 leaves under ARM_HD. */
export function protToPteHi(fmt: IoPgtableFmt, quirks: number, prot: number): number {
  let hi = 0;
  const s1 = fmt === IoPgtableFmt.ARM_64_LPAE_S1 || fmt === IoPgtableFmt.ARM_32_LPAE_S1;
  // Read-only leaves get AP_RDONLY instead; everything else writable is dirty-tracked.
  if (s1 && !(!(prot & IOMMU_WRITE) && prot & IOMMU_READ) && quirks & IO_PGTABLE_QUIRK_ARM_HD) hi |= HI_DBM;
  if (prot & IOMMU_NOEXEC) hi |= HI_XN;
  return hi;
}
