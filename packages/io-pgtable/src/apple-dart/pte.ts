/**
 * drivers/iommu/io-pgtable-dart.c: Apple DART entry encoding. Entries are u64, handled here
 * as two unsigned 32-bit words (`lo` = bits 31:0, `hi` = bits 63:32).
 */
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE } from "@iommu/core";

const TWO32 = 2 ** 32;

/** `APPLE_DART_PTE_VALID` */
export const APPLE_DART_PTE_VALID = 1 << 0;
/** `APPLE_DART_PTE_SUBPAGE_END` = 0xfff in bits 51:40 (every leaf allows the whole page); in `hi`. */
export const APPLE_DART_PTE_SUBPAGE_END_HI = 0xfff << 8;

/** `APPLE_DART1_PTE_PROT_NO_READ`: DART1 (t8103-era) protection bits. */
export const APPLE_DART1_PTE_PROT_NO_READ = 1 << 8;
/** `APPLE_DART1_PTE_PROT_NO_WRITE` */
export const APPLE_DART1_PTE_PROT_NO_WRITE = 1 << 7;
/** `APPLE_DART1_PTE_PROT_SP_DIS` */
export const APPLE_DART1_PTE_PROT_SP_DIS = 1 << 1;
/** `APPLE_DART2_PTE_PROT_NO_READ`: DART2 (t6000/t8110-era) protection bits. */
export const APPLE_DART2_PTE_PROT_NO_READ = 1 << 3;
/** `APPLE_DART2_PTE_PROT_NO_WRITE` */
export const APPLE_DART2_PTE_PROT_NO_WRITE = 1 << 2;
/** `APPLE_DART2_PTE_PROT_NO_CACHE` */
export const APPLE_DART2_PTE_PROT_NO_CACHE = 1 << 1;

/** `APPLE_DART1_PADDR_MASK` = GENMASK(35, 12), split in words. */
export const APPLE_DART1_PADDR_MASK_LO = 0xffff_f000;
/** `APPLE_DART1_PADDR_MASK (bits 63:32)` */
export const APPLE_DART1_PADDR_MASK_HI = 0xf;
/** `APPLE_DART2_PADDR_MASK` = GENMASK(37, 10) over `pa >> APPLE_DART2_PADDR_SHIFT`. */
export const APPLE_DART2_PADDR_MASK_LO = 0xffff_fc00;
/** `APPLE_DART2_PADDR_MASK (bits 63:32)` */
export const APPLE_DART2_PADDR_MASK_HI = 0x3f;
/** `APPLE_DART2_PADDR_SHIFT` */
export const APPLE_DART2_PADDR_SHIFT = 4;

/** `dart_prot_to_pte` (low word; the protection bits all sit below bit 32). */
export function appleDartProtToPte(prot: number, dart2: boolean): number {
  let pte = 0;
  if (!dart2) {
    pte |= APPLE_DART1_PTE_PROT_SP_DIS;
    if (!(prot & IOMMU_WRITE)) pte |= APPLE_DART1_PTE_PROT_NO_WRITE;
    if (!(prot & IOMMU_READ)) pte |= APPLE_DART1_PTE_PROT_NO_READ;
  } else {
    if (!(prot & IOMMU_WRITE)) pte |= APPLE_DART2_PTE_PROT_NO_WRITE;
    if (!(prot & IOMMU_READ)) pte |= APPLE_DART2_PTE_PROT_NO_READ;
    if (!(prot & IOMMU_CACHE)) pte |= APPLE_DART2_PTE_PROT_NO_CACHE;
  }
  return pte;
}

/**
 * `paddr_to_iopte`, low word. DART1 keeps PA[35:12] in place (higher bits are dropped even
 * with oas 42); DART2 stores PA >> 4 in bits 37:10, so PA[41:14] for 16K pages.
 */
export function appleDartPaddrLo(pa: number, dart2: boolean): number {
  // `>>> 0` is the value mod 2^32 (exact for integers), without a floating-point remainder.
  if (!dart2) return ((pa >>> 0) & APPLE_DART1_PADDR_MASK_LO) >>> 0;
  return ((Math.floor(pa / 16) >>> 0) & APPLE_DART2_PADDR_MASK_LO) >>> 0;
}

/** `paddr_to_iopte`, high word. */
export function appleDartPaddrHi(pa: number, dart2: boolean): number {
  if (!dart2) return Math.floor(pa / TWO32) & APPLE_DART1_PADDR_MASK_HI;
  return Math.floor(pa / (TWO32 * 16)) & APPLE_DART2_PADDR_MASK_HI;
}

/** `iopte_to_paddr` */
export function appleDartIopteToPaddr(lo: number, hi: number, dart2: boolean): number {
  if (!dart2) return ((lo & APPLE_DART1_PADDR_MASK_LO) >>> 0) + (hi & APPLE_DART1_PADDR_MASK_HI) * TWO32;
  return ((lo & APPLE_DART2_PADDR_MASK_LO) >>> 0) * 16 + (hi & APPLE_DART2_PADDR_MASK_HI) * TWO32 * 16;
}

/**
 * `iopte & ~PADDR_MASK`, low word: the entry with its address field cleared (the harness's
 * table `attrs`).
 */
export function appleDartAttrsLo(lo: number, dart2: boolean): number {
  return (lo & ~(dart2 ? APPLE_DART2_PADDR_MASK_LO : APPLE_DART1_PADDR_MASK_LO)) >>> 0;
}
/** `iopte & ~PADDR_MASK` */
export function appleDartAttrsHi(hi: number, dart2: boolean): number {
  return (hi & ~(dart2 ? APPLE_DART2_PADDR_MASK_HI : APPLE_DART1_PADDR_MASK_HI)) >>> 0;
}
