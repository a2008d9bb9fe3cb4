/**
 * drivers/iommu/sun50i-iommu.c (torvalds/linux 6cc0d5f4, ~6.8+): the Allwinner H6 page-table
 * format — a 16 KiB directory of 4096 DTEs (1 MiB each) pointing at 1 KiB page tables of 256
 * PTEs — and its entry encodings with the ACI (authority control index) permissions.
 */

/** `NUM_DT_ENTRIES` */
export const NUM_DT_ENTRIES = 4096;
/** `DT_SIZE`: 16 KiB. */
export const DT_SIZE = NUM_DT_ENTRIES * 4;
/** `NUM_PT_ENTRIES` */
export const NUM_PT_ENTRIES = 256;
/** `PT_SIZE`: 1 KiB objects of the IOMMU's `pt_pool` kmem_cache. */
export const PT_SIZE = NUM_PT_ENTRIES * 4;
/** `SPAGE_SIZE`: 4 KiB, the only page size (`pgsize_bitmap = SZ_4K`). */
export const SPAGE_SIZE = 4096;
/** `NUM_PT_ENTRIES * SPAGE_SIZE`: the bytes one DTE spans (1 MiB). */
export const DTE_SPAN = NUM_PT_ENTRIES * SPAGE_SIZE;
/** `sun50i_iommu_ops.pgsize_bitmap` */
export const SUN50I_PGSIZE_BITMAP = SPAGE_SIZE;

/** `SUN50I_DTE_PT_ADDRESS_MASK` = GENMASK(31, 10). */
export const SUN50I_DTE_PT_ADDRESS_MASK = 0xffff_fc00;
/** `SUN50I_DTE_PT_ATTRS` = GENMASK(1, 0). */
export const SUN50I_DTE_PT_ATTRS = 0x3;
/** `SUN50I_DTE_PT_VALID` */
export const SUN50I_DTE_PT_VALID = 1;
/** `SUN50I_PTE_PAGE_ADDRESS_MASK` = GENMASK(31, 12). */
export const SUN50I_PTE_PAGE_ADDRESS_MASK = 0xffff_f000;
/** `SUN50I_PTE_ACI_MASK` = GENMASK(7, 4). */
export const SUN50I_PTE_ACI_MASK = 0xf0;
/** `SUN50I_PTE_PAGE_VALID` = BIT(1). */
export const SUN50I_PTE_PAGE_VALID = 1 << 1;

/** `enum sun50i_iommu_aci`: the IOMMU "domains" 1..4 the driver programs for NONE, RD, WR, RD_WR. */
export const SUN50I_IOMMU_ACI_DO_NOT_USE = 0;
/** `SUN50I_IOMMU_ACI_NONE` */
export const SUN50I_IOMMU_ACI_NONE = 1;
/** `SUN50I_IOMMU_ACI_RD` */
export const SUN50I_IOMMU_ACI_RD = 2;
/** `SUN50I_IOMMU_ACI_WR` */
export const SUN50I_IOMMU_ACI_WR = 3;
/** `SUN50I_IOMMU_ACI_RD_WR` */
export const SUN50I_IOMMU_ACI_RD_WR = 4;

/** `sun50i_iova_get_dte_index(iova)` of a 32-bit IOVA (bits 31:20). */
export function sun50iIovaGetDteIndex(iova32: number): number {
  return iova32 >>> 20;
}

/** `sun50i_iova_get_pte_index(iova)` of a 32-bit IOVA (bits 19:12). */
export function sun50iIovaGetPteIndex(iova32: number): number {
  return (iova32 >>> 12) & 0xff;
}

/** `sun50i_dte_get_pt_address(dte)` */
export function sun50iDteGetPtAddress(dte: number): number {
  return (dte & SUN50I_DTE_PT_ADDRESS_MASK) >>> 0;
}

/** `sun50i_dte_is_pt_valid(dte)`: bits 1:0 = 1. */
export function sun50iDteIsPtValid(dte: number): boolean {
  return (dte & SUN50I_DTE_PT_ATTRS) === SUN50I_DTE_PT_VALID;
}

/** `sun50i_mk_dte(pt_dma)` of a table PA below 4 GiB. */
export function sun50iMkDte(ptPa: number): number {
  return ((ptPa & SUN50I_DTE_PT_ADDRESS_MASK) | SUN50I_DTE_PT_VALID) >>> 0;
}

/** `sun50i_pte_get_page_address(pte)` */
export function sun50iPteGetPageAddress(pte: number): number {
  return (pte & SUN50I_PTE_PAGE_ADDRESS_MASK) >>> 0;
}

/** `sun50i_get_pte_aci(pte)` */
export function sun50iGetPteAci(pte: number): number {
  return (pte & SUN50I_PTE_ACI_MASK) >>> 4;
}

/** `sun50i_pte_is_page_valid(pte)` */
export function sun50iPteIsPageValid(pte: number): boolean {
  return (pte & SUN50I_PTE_PAGE_VALID) !== 0;
}

/** The ACI `sun50i_mk_pte()` picks for an IOMMU_* prot: RD_WR, RD, WR or NONE. */
export function sun50iProtToAci(prot: number): number {
  if ((prot & 3) === 3) return SUN50I_IOMMU_ACI_RD_WR;
  if (prot & 1) return SUN50I_IOMMU_ACI_RD;
  if (prot & 2) return SUN50I_IOMMU_ACI_WR;
  return SUN50I_IOMMU_ACI_NONE;
}

/** Model-only: the IOMMU_* prot an ACI grants, the inverse of `sun50i_mk_pte()` (NONE and the unused 0 grant nothing). */
export function sun50iAciToProt(aci: number): number {
  switch (aci) {
    case SUN50I_IOMMU_ACI_RD_WR:
      return 3;
    case SUN50I_IOMMU_ACI_RD:
      return 1;
    case SUN50I_IOMMU_ACI_WR:
      return 2;
    default:
      return 0;
  }
}

/** `sun50i_mk_pte(page, prot)` of the PA's low 32 bits: page bits 31:12 | ACI << 4 | valid. */
export function sun50iMkPte(page32: number, prot: number): number {
  return (
    ((page32 & SUN50I_PTE_PAGE_ADDRESS_MASK) | (sun50iProtToAci(prot) << 4) | SUN50I_PTE_PAGE_VALID) >>> 0
  );
}
