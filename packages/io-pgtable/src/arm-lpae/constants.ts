/**
 * drivers/iommu/io-pgtable-arm.c, io-pgtable-arm.h: ARM LPAE descriptor and register
 * constants. A 64-bit descriptor is handled as two 32-bit words: `LO_*` constants are bits
 * 31:0, `HI_*` constants are bits 63:32 shifted down by 32.
 */
/** `ARM_LPAE_MAX_ADDR_BITS` */
export const ARM_LPAE_MAX_ADDR_BITS = 52;
/** `ARM_LPAE_S2_MAX_CONCAT_PAGES` */
export const ARM_LPAE_S2_MAX_CONCAT_PAGES = 16;
/** `ARM_LPAE_MAX_LEVELS` */
export const ARM_LPAE_MAX_LEVELS = 4;

// Descriptor type field, bits 1:0.
/** `ARM_LPAE_PTE_TYPE_BLOCK` */
export const PTE_TYPE_BLOCK = 1;
/** `ARM_LPAE_PTE_TYPE_TABLE` */
export const PTE_TYPE_TABLE = 3;
/** `ARM_LPAE_PTE_TYPE_PAGE` */
export const PTE_TYPE_PAGE = 3;

// Low word.
/** `ARM_LPAE_PTE_NS` */
export const LO_NS = 1 << 5;
/** `ARM_LPAE_PTE_AP_UNPRIV` */
export const LO_AP_UNPRIV = 1 << 6;
/** `ARM_LPAE_PTE_AP_RDONLY` */
export const LO_AP_RDONLY = 1 << 7;
/** `ARM_LPAE_PTE_HAP_READ` */
export const LO_HAP_READ = 1 << 6;
/** `ARM_LPAE_PTE_HAP_WRITE` */
export const LO_HAP_WRITE = 1 << 7;
/** `ARM_LPAE_PTE_SH_OS` */
export const LO_SH_OS = 2 << 8;
/** `ARM_LPAE_PTE_SH_IS` */
export const LO_SH_IS = 3 << 8;
/** `ARM_LPAE_PTE_AF` */
export const LO_AF = 1 << 10;
/** `ARM_LPAE_PTE_NG` */
export const LO_NG = 1 << 11;
/** `ARM_LPAE_PTE_ATTRINDX_SHIFT` */
export const LO_ATTRINDX_SHIFT = 2;
/** `ARM_LPAE_PTE_MEMATTR_DEV`: S2 MemAttr values, already in place (bits 5:2). */
export const LO_MEMATTR_DEV = 0x1 << 2;
/** `ARM_LPAE_PTE_MEMATTR_NC` */
export const LO_MEMATTR_NC = 0x5 << 2;
/** `ARM_LPAE_PTE_MEMATTR_FWB_WB` */
export const LO_MEMATTR_FWB_WB = 0x6 << 2;
/** `ARM_LPAE_PTE_MEMATTR_OIWB` */
export const LO_MEMATTR_OIWB = 0xf << 2;

// High word (bit n of the descriptor is bit n-32 here).
/** `ARM_LPAE_PTE_DBM`: DBM, bit 51: hardware dirty-bit management (IO_PGTABLE_QUIRK_ARM_HD). */
export const HI_DBM = 1 << 19;
/** `ARM_LPAE_PTE_XN`: UXN|PXN, bits 54:53. */
export const HI_XN = 3 << 21;
/** `ARM_LPAE_PTE_SW_SYNC`: Software bit 55: the entry has been synced for a non-coherent walker. */
export const HI_SW_SYNC = 1 << 23;
/** `ARM_LPAE_PTE_NSTABLE`: NSTABLE, bit 63. */
export const HI_NSTABLE = 1 << 31;

/** `ARM_LPAE_MAIR_ATTR_IDX_NC`: MAIR attribute indices the S1 descriptors use. */
export const MAIR_ATTR_IDX_NC = 0;
/** `ARM_LPAE_MAIR_ATTR_IDX_CACHE` */
export const MAIR_ATTR_IDX_CACHE = 1;
/** `ARM_LPAE_MAIR_ATTR_IDX_DEV` */
export const MAIR_ATTR_IDX_DEV = 2;
/** `ARM_LPAE_MAIR_ATTR_IDX_INC_OCACHE` */
export const MAIR_ATTR_IDX_INC_OCACHE = 3;
/** `ARM_LPAE_MAIR_ATTR_NC` */
export const MAIR_ATTR_NC = 0x44n;
/** `ARM_LPAE_MAIR_ATTR_WBRWA` */
export const MAIR_ATTR_WBRWA = 0xffn;
/** `ARM_LPAE_MAIR_ATTR_DEVICE` */
export const MAIR_ATTR_DEVICE = 0x04n;
/** `ARM_LPAE_MAIR_ATTR_INC_OWBRWA` */
export const MAIR_ATTR_INC_OWBRWA = 0xf4n;

/** `ARM_MALI_LPAE_TTBR_ADRMODE_TABLE`: Mali TRANSTAB / MEMATTR. */
export const MALI_TTBR_ADRMODE_TABLE = 3n;
/** `ARM_MALI_LPAE_TTBR_READ_INNER` */
export const MALI_TTBR_READ_INNER = 1n << 2n;
/** `ARM_MALI_LPAE_TTBR_SHARE_OUTER` */
export const MALI_TTBR_SHARE_OUTER = 1n << 4n;
/** `ARM_MALI_LPAE_MEMATTR_IMP_DEF` */
export const MALI_MEMATTR_IMP_DEF = 0x88n;
/** `ARM_MALI_LPAE_MEMATTR_WRITE_ALLOC` */
export const MALI_MEMATTR_WRITE_ALLOC = 0x8dn;

/** `ARM_LPAE_TCR_TG0_4K`: TCR/VTCR field encodings (io-pgtable-arm.h). */
export const TCR_TG0_4K = 0;
/** `ARM_LPAE_TCR_TG0_64K` */
export const TCR_TG0_64K = 1;
/** `ARM_LPAE_TCR_TG0_16K` */
export const TCR_TG0_16K = 2;
/** `ARM_LPAE_TCR_TG1_16K` */
export const TCR_TG1_16K = 1;
/** `ARM_LPAE_TCR_TG1_4K` */
export const TCR_TG1_4K = 2;
/** `ARM_LPAE_TCR_TG1_64K` */
export const TCR_TG1_64K = 3;
/** `ARM_LPAE_TCR_SH_OS` */
export const TCR_SH_OS = 2;
/** `ARM_LPAE_TCR_SH_IS` */
export const TCR_SH_IS = 3;
/** `ARM_LPAE_TCR_RGN_NC` */
export const TCR_RGN_NC = 0;
/** `ARM_LPAE_TCR_RGN_WBWA` */
export const TCR_RGN_WBWA = 1;
/** `ARM_LPAE_VTCR_SL0_MASK` */
export const VTCR_SL0_MASK = 3;

/** `ARM_LPAE_TCR_PS_*` by output address size; undefined = not encodable. */
export const TCR_PS_BY_BITS: Readonly<Record<number, number>> = {
  32: 0,
  36: 1,
  40: 2,
  42: 3,
  44: 4,
  48: 5,
  52: 6,
};
