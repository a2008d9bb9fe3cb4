/**
 * drivers/iommu/sprd-iommu.c (torvalds/linux 4bbdb725, ~6.8–6.10): the Unisoc IOMMU's one
 * flat table — one 32-bit page frame number per 4 KiB page of a 256 MiB aperture, with no
 * valid bit and no permission bits — and the two register layouts (EX, VAU).
 */

/** `SPRD_IOMMU_PAGE_SHIFT` */
export const SPRD_IOMMU_PAGE_SHIFT = 12;
/** `SPRD_IOMMU_PAGE_SIZE`: SZ_4K, also the ops' `pgsize_bitmap`. */
export const SPRD_IOMMU_PAGE_SIZE = 0x1000;
/** `aperture_end` of every domain: SZ_256M − 1 (`aperture_start` is 0). */
export const SPRD_APERTURE_END = 0x0fff_ffff;
/** `sprd_iommu_pgt_size() / sizeof(u32)`: entries of the flat table, one per 4 KiB of the aperture (65536). */
export const SPRD_PGT_ENTRIES = (SPRD_APERTURE_END + 1) / SPRD_IOMMU_PAGE_SIZE;
/** `sprd_iommu_pgt_size()`: 256 KiB. */
export const SPRD_PGT_SIZE = SPRD_PGT_ENTRIES * 4;

/** `enum sprd_iommu_version`: `SPRD_IOMMU_EX` (0) or `SPRD_IOMMU_VAU` (1), read from bits 15:8 of the version register. */
export type SprdIommuVersion = "ex" | "vau";

/** `SPRD_EX_*` / `SPRD_VAU_*`: the register offsets a version uses. */
export interface SprdRegs {
  readonly cfg: number;
  readonly update: number;
  readonly firstVpn: number;
  readonly vpnRange: number;
  readonly firstPpn: number;
  /** DEFAULT_PPN (EX) or DEFAULT_PPN_RD and _WR (VAU). */
  readonly defaultPpn: readonly number[];
}

/** `SPRD_EX_*` */
export const SPRD_EX_REGS: SprdRegs = {
  cfg: 0x0,
  update: 0x4,
  firstVpn: 0x8,
  vpnRange: 0xc,
  firstPpn: 0x10,
  defaultPpn: [0x14],
};

/** `SPRD_VAU_*` */
export const SPRD_VAU_REGS: SprdRegs = {
  cfg: 0x4,
  update: 0x8,
  firstVpn: 0x1c,
  vpnRange: 0x20,
  firstPpn: 0x10,
  defaultPpn: [0x14, 0x18],
};

/** `pabase >> SPRD_IOMMU_PAGE_SHIFT`: the flat-table entry `sprd_iommu_map()` writes for a 32-bit page base. */
export function sprdMkEntry(pabase32: number): number {
  return pabase32 >>> SPRD_IOMMU_PAGE_SHIFT;
}
