/**
 * drivers/iommu/rockchip-iommu.c (intel-lab-lkp/linux 10f9a341, mainline ~6.15+): the page
 * table format — a 4 KiB directory (DT) of 1024 DTEs, each pointing at a 4 KiB page table of
 * 1024 PTEs — and the v1 (32-bit PA) and v2 (rk3568, 40-bit PA) entry encodings.
 */

/** `NUM_DT_ENTRIES`: one DTE per 4 MiB of the 32-bit IOVA space. */
export const NUM_DT_ENTRIES = 1024;
/** `NUM_PT_ENTRIES`: one PTE per 4 KiB page. */
export const NUM_PT_ENTRIES = 1024;
/** `SPAGE_SIZE`: the only page the hardware knows, 4 KiB. */
export const SPAGE_SIZE = 0x1000;
/** `NUM_PT_ENTRIES * SPAGE_SIZE`: the bytes one DTE spans (4 MiB). */
export const DTE_SPAN = NUM_PT_ENTRIES * SPAGE_SIZE;
/**
 * `RK_IOMMU_PGSIZE_BITMAP`: every power of two from 4 KiB to 4 MiB. Not hardware block sizes:
 * a "page" of size S is S / 4 KiB consecutive PTEs of one page table.
 */
export const RK_IOMMU_PGSIZE_BITMAP = 0x007f_f000;

/** `RK_DTE_PT_ADDRESS_MASK` */
export const RK_DTE_PT_ADDRESS_MASK = 0xffff_f000;
/** `RK_DTE_PT_VALID` */
export const RK_DTE_PT_VALID = 1 << 0;
/** `RK_PTE_PAGE_ADDRESS_MASK` */
export const RK_PTE_PAGE_ADDRESS_MASK = 0xffff_f000;
/** `RK_PTE_PAGE_FLAGS_MASK`: bits 8:1 (RA, RC, WB, WA, WC, override, W, R). */
export const RK_PTE_PAGE_FLAGS_MASK = 0x0000_01fe;
/** `RK_PTE_PAGE_WRITABLE` */
export const RK_PTE_PAGE_WRITABLE = 1 << 2;
/** `RK_PTE_PAGE_READABLE` */
export const RK_PTE_PAGE_READABLE = 1 << 1;
/** `RK_PTE_PAGE_VALID` */
export const RK_PTE_PAGE_VALID = 1 << 0;

const TWO32 = 2 ** 32;
const TWO36 = 2 ** 36;

/** `rk_iova_dte_index(iova)` of a 32-bit IOVA. */
export function rkIovaDteIndex(iova32: number): number {
  return iova32 >>> 22;
}

/** `rk_iova_pte_index(iova)` of a 32-bit IOVA. */
export function rkIovaPteIndex(iova32: number): number {
  return (iova32 >>> 12) & 0x3ff;
}

/** `rk_dte_pt_address(dte)` (v1, also PTEs): bits 31:12. */
export function rkDtePtAddress(dte: number): number {
  return (dte & RK_DTE_PT_ADDRESS_MASK) >>> 0;
}

/** `rk_dte_pt_address_v2(dte)`: bits 31:12, 35:32 from bits 11:8, 39:36 from bits 7:4. */
export function rkDtePtAddressV2(dte: number): number {
  return ((dte & RK_DTE_PT_ADDRESS_MASK) >>> 0) + ((dte >>> 8) & 0xf) * TWO32 + ((dte >>> 4) & 0xf) * TWO36;
}

/** `rk_mk_dte(pt_dma)` (v1): PA bits 31:12 | valid. */
export function rkMkDte(pfn: number): number {
  return (((pfn & 0xfffff) << 12) | RK_DTE_PT_VALID) >>> 0;
}

/** `rk_mk_dte_v2(pt_dma)`: PA bits 31:12, 35:32 → 11:8, 39:36 → 7:4, | valid (bits above 39 lost). */
export function rkMkDteV2(pfn: number): number {
  const hi = Math.floor(pfn / 0x10_0000);
  return (((pfn & 0xfffff) << 12) | ((hi & 0xf) << 8) | (((hi >>> 4) & 0xf) << 4) | RK_DTE_PT_VALID) >>> 0;
}

/** The R/W flags of `rk_mk_pte*()`: READ → bit 1, WRITE → bit 2, other prot bits ignored. */
export function rkPteFlags(prot: number): number {
  return ((prot & 1) << 1) | ((prot & 2) << 1);
}

/** `rk_mk_pte(page, prot)` (v1) of page frame `pfn`: PA bits 31:12 | flags | valid. */
export function rkMkPte(pfn: number, prot: number): number {
  return (rkMkDte(pfn) | rkPteFlags(prot)) >>> 0;
}

/** `rk_mk_pte_v2(page, prot)` of page frame `pfn`: the v2 address encoding | flags | valid. */
export function rkMkPteV2(pfn: number, prot: number): number {
  return (rkMkDteV2(pfn) | rkPteFlags(prot)) >>> 0;
}

/** `rk_mk_pte_invalid(pte)`: only the valid bit goes; address and flags stay. */
export function rkMkPteInvalid(pte: number): number {
  return (pte & ~RK_PTE_PAGE_VALID) >>> 0;
}

/** `rk_dte_is_pt_valid(dte)` */
export function rkDteIsPtValid(dte: number): boolean {
  return (dte & RK_DTE_PT_VALID) !== 0;
}

/** `rk_pte_is_page_valid(pte)` */
export function rkPteIsPageValid(pte: number): boolean {
  return (pte & RK_PTE_PAGE_VALID) !== 0;
}

/** `struct rk_iommu_ops`: the encoding of one hardware generation. */
export interface RkIommuOps {
  /** `"v1"` (`rockchip,iommu`) or `"v2"` (`rockchip,rk3568-iommu`). */
  readonly name: "v1" | "v2";
  /** `pt_address(dte)`: the PA a DTE or PTE points at. */
  ptAddress(dte: number): number;
  /** `mk_dtentries(pt_dma)` of page frame `pfn`. */
  mkDtentries(pfn: number): number;
  /** `mk_ptentries(page, prot)` of page frame `pfn`. */
  mkPtentries(pfn: number, prot: number): number;
  /** `dma_bit_mask`'s width: 32 or 40 bits. */
  readonly dmaBits: number;
}

/** `iommu_data_ops_v1` */
export const RK_IOMMU_OPS_V1: RkIommuOps = {
  name: "v1",
  ptAddress: rkDtePtAddress,
  mkDtentries: rkMkDte,
  mkPtentries: rkMkPte,
  dmaBits: 32,
};

/** `iommu_data_ops_v2` */
export const RK_IOMMU_OPS_V2: RkIommuOps = {
  name: "v2",
  ptAddress: rkDtePtAddressV2,
  mkDtentries: rkMkDteV2,
  mkPtentries: rkMkPteV2,
  dmaBits: 40,
};
