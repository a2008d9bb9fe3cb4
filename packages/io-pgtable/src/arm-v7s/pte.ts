/**
 * drivers/iommu/io-pgtable-arm-v7s.c: ARMv7 short-descriptor entry encoding — prot → PTE,
 * the large-page / supersection ("contiguous") transform, and PA ↔ PTE with the MediaTek
 * extension. Entries are unsigned 32-bit numbers; `lvl` is 1 or 2 as in the kernel.
 */
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_WRITE } from "@iommu/core";
import { IO_PGTABLE_QUIRK_ARM_NS, IO_PGTABLE_QUIRK_NO_PERMS } from "../io-pgtable.js";
import {
  ARM_V7S_ATTR_B,
  ARM_V7S_ATTR_C,
  ARM_V7S_ATTR_MTK_PA_BIT32,
  ARM_V7S_ATTR_MTK_PA_BIT33,
  ARM_V7S_ATTR_MTK_PA_BIT34,
  ARM_V7S_ATTR_NG,
  ARM_V7S_ATTR_NS_SECTION,
  ARM_V7S_ATTR_S,
  ARM_V7S_CONT_PAGE_TEX_MASK,
  ARM_V7S_CONT_PAGE_TEX_SHIFT,
  ARM_V7S_CONT_PAGE_XN_SHIFT,
  ARM_V7S_CONT_SECTION,
  ARM_V7S_L1_ATTR_SHIFT,
  ARM_V7S_L1_CONT_MASK,
  ARM_V7S_L1_MASK,
  ARM_V7S_L1_XN,
  ARM_V7S_L2_ATTR_SHIFT,
  ARM_V7S_L2_CONT_MASK,
  ARM_V7S_L2_MASK,
  ARM_V7S_L2_XN,
  ARM_V7S_PTE_AF,
  ARM_V7S_PTE_AP_RDONLY,
  ARM_V7S_PTE_AP_UNPRIV,
  ARM_V7S_PTE_TYPE_CONT_PAGE,
  ARM_V7S_PTE_TYPE_PAGE,
  ARM_V7S_PTE_TYPE_TABLE,
  ARM_V7S_TABLE_MASK,
  ARM_V7S_TEX_SHIFT,
} from "./defs.js";

const TWO32 = 2 ** 32;
// Module-local copies of the masks the per-entry helpers use: a local constant folds into
// the code, an imported binding is loaded (and checked) from its module cell at every use.
const L1_MASK = ARM_V7S_L1_MASK;
const L2_MASK = ARM_V7S_L2_MASK;
const L1_CONT_MASK = ARM_V7S_L1_CONT_MASK;
const L2_CONT_MASK = ARM_V7S_L2_CONT_MASK;
const TABLE_MASK = ARM_V7S_TABLE_MASK;
const TYPE_TABLE = ARM_V7S_PTE_TYPE_TABLE;
const TYPE_PAGE = ARM_V7S_PTE_TYPE_PAGE;
const CONT_SECTION = ARM_V7S_CONT_SECTION;

/** `ARM_V7S_PTE_IS_VALID` */
export function armV7sPteIsValid(pte: number): boolean {
  return (pte & 3) !== 0;
}

/** `ARM_V7S_PTE_IS_TABLE`: only L1 has table descriptors; type 01 at L2 is a large page. */
export function armV7sPteIsTable(pte: number, lvl: number): boolean {
  return lvl === 1 && (pte & 3) === TYPE_TABLE;
}

/** `arm_v7s_pte_is_cont`: supersection bit at L1, type 01 (not 1x) at L2. */
export function armV7sPteIsCont(pte: number, lvl: number): boolean {
  if (lvl === 1) return (pte & 3) !== TYPE_TABLE && (pte & CONT_SECTION) !== 0;
  if (lvl === 2) return (pte & TYPE_PAGE) === 0;
  return false;
}

/**
 * `arm_v7s_prot_to_pte`: leaf attributes for `prot` at `lvl`. IOMMU_READ is never looked at
 * (a write-only mapping is readable); NO_PERMS drops AF/AP/XN so MediaTek can reuse the bits.
 */
export function armV7sProtToPte(prot: number, lvl: number, quirks: number): number {
  const ap = (quirks & IO_PGTABLE_QUIRK_NO_PERMS) === 0;
  let attr = ARM_V7S_ATTR_NG | ARM_V7S_ATTR_S;
  if (!(prot & IOMMU_MMIO)) attr |= 1 << ARM_V7S_TEX_SHIFT;
  if (ap) {
    attr |= ARM_V7S_PTE_AF;
    if (!(prot & IOMMU_PRIV)) attr |= ARM_V7S_PTE_AP_UNPRIV;
    if (!(prot & IOMMU_WRITE)) attr |= ARM_V7S_PTE_AP_RDONLY;
  }
  let pte = attr << (lvl === 1 ? ARM_V7S_L1_ATTR_SHIFT : ARM_V7S_L2_ATTR_SHIFT);
  if (prot & IOMMU_NOEXEC && ap) pte |= lvl === 1 ? ARM_V7S_L1_XN : ARM_V7S_L2_XN;
  if (prot & IOMMU_MMIO) pte |= ARM_V7S_ATTR_B;
  else if (prot & IOMMU_CACHE) pte |= ARM_V7S_ATTR_B | ARM_V7S_ATTR_C;
  pte |= ARM_V7S_PTE_TYPE_PAGE;
  if (lvl === 1 && quirks & IO_PGTABLE_QUIRK_ARM_NS) pte |= ARM_V7S_ATTR_NS_SECTION;
  return pte >>> 0;
}

/**
 * `arm_v7s_pte_to_cont`: a supersection only sets bit 18; a large page moves XN from bit 0 to
 * 15 and TEX from [8:6] to [14:12], and its type becomes 01.
 */
export function armV7sPteToCont(pte: number, lvl: number): number {
  if (lvl === 1) return (pte | ARM_V7S_CONT_SECTION) >>> 0;
  if (lvl === 2) {
    const xn = pte & ARM_V7S_L2_XN;
    const tex = pte & ARM_V7S_CONT_PAGE_TEX_MASK;
    pte ^= xn | tex | ARM_V7S_PTE_TYPE_PAGE;
    pte |=
      (xn << ARM_V7S_CONT_PAGE_XN_SHIFT) | (tex << ARM_V7S_CONT_PAGE_TEX_SHIFT) | ARM_V7S_PTE_TYPE_CONT_PAGE;
  }
  return pte >>> 0;
}

/**
 * `to_mtk_iopte`: PA bits 32/33/34 → PTE bits 9/4/5. `hi` is the PA's upper 32 bits.
 */
export function armV7sToMtkIopte(hi: number, pte: number): number {
  if (hi & 1) pte |= ARM_V7S_ATTR_MTK_PA_BIT32;
  if (hi & 2) pte |= ARM_V7S_ATTR_MTK_PA_BIT33;
  if (hi & 4) pte |= ARM_V7S_ATTR_MTK_PA_BIT34;
  return pte >>> 0;
}

/**
 * `paddr_to_iopte`: the output address field of a leaf at `lvl`. The kernel masks with a u32,
 * so PA bits ≥ 32 vanish unless the MediaTek extension stores 32..34 (bits ≥ 35 always do).
 */
export function armV7sPaddrToIopte(pa: number, lvl: number, mtk: boolean): number {
  const lo = pa >>> 0; // pa mod 2^32, without a floating-point remainder
  const pte = (lo & (lvl === 1 ? L1_MASK : L2_MASK)) >>> 0;
  return mtk ? armV7sToMtkIopte(Math.floor(pa / TWO32), pte) : pte;
}

/** `iopte_to_paddr`'s address mask for an entry for an entry (table / contiguous / plain leaf). */
export function armV7sPteAddrMask(pte: number, lvl: number): number {
  if (armV7sPteIsTable(pte, lvl)) return TABLE_MASK;
  if (armV7sPteIsCont(pte, lvl)) return lvl === 1 ? L1_CONT_MASK : L2_CONT_MASK;
  return lvl === 1 ? L1_MASK : L2_MASK;
}

/** `iopte_to_paddr`: the table or output address an entry holds (MTK bits ORed back in). */
export function armV7sIopteToPaddr(pte: number, lvl: number, mtk: boolean): number {
  const pa = (pte & armV7sPteAddrMask(pte, lvl)) >>> 0;
  if (!mtk) return pa;
  let hi = 0;
  if (pte & ARM_V7S_ATTR_MTK_PA_BIT32) hi |= 1;
  if (pte & ARM_V7S_ATTR_MTK_PA_BIT33) hi |= 2;
  if (pte & ARM_V7S_ATTR_MTK_PA_BIT34) hi |= 4;
  return pa + hi * TWO32;
}
