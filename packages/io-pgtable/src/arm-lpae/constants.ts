/**
 * ARM LPAE descriptor and register constants (drivers/iommu/io-pgtable-arm.c,
 * io-pgtable-arm.h). A 64-bit descriptor is handled as two 32-bit words: `LO_*` constants
 * are bits 31:0, `HI_*` constants are bits 63:32 shifted down by 32.
 */

/** `ARM_LPAE_MAX_ADDR_BITS` */
export const ARM_LPAE_MAX_ADDR_BITS = 52;
/** `ARM_LPAE_S2_MAX_CONCAT_PAGES` */
export const ARM_LPAE_S2_MAX_CONCAT_PAGES = 16;
/** `ARM_LPAE_MAX_LEVELS` */
export const ARM_LPAE_MAX_LEVELS = 4;

// Descriptor type field, bits 1:0.
export const PTE_TYPE_MASK = 3;
export const PTE_TYPE_BLOCK = 1;
export const PTE_TYPE_TABLE = 3;
export const PTE_TYPE_PAGE = 3;

// Low word.
export const LO_NS = 1 << 5;
export const LO_AP_UNPRIV = 1 << 6;
export const LO_AP_RDONLY = 1 << 7;
export const LO_HAP_READ = 1 << 6;
export const LO_HAP_WRITE = 1 << 7;
export const LO_SH_OS = 2 << 8;
export const LO_SH_IS = 3 << 8;
export const LO_AF = 1 << 10;
export const LO_NG = 1 << 11;
export const LO_ATTRINDX_SHIFT = 2;
/** S2 MemAttr values, already in place (bits 5:2). */
export const LO_MEMATTR_DEV = 0x1 << 2;
export const LO_MEMATTR_NC = 0x5 << 2;
export const LO_MEMATTR_FWB_WB = 0x6 << 2;
export const LO_MEMATTR_OIWB = 0xf << 2;
/** Address bits 31:12 of the output address field. */
export const LO_ADDR_MASK = 0xfffff000;

// High word (bit n of the descriptor is bit n-32 here).
/** Address bits 47:32 of the output address field. */
export const HI_ADDR_MASK = 0xffff;
/** DBM, bit 51: hardware dirty-bit management (IO_PGTABLE_QUIRK_ARM_HD). */
export const HI_DBM = 1 << 19;
/** UXN|PXN, bits 54:53. */
export const HI_XN = 3 << 21;
/** Software bit 55: the entry has been synced for a non-coherent walker. */
export const HI_SW_SYNC = 1 << 23;
/** NSTABLE, bit 63. */
export const HI_NSTABLE = 1 << 31;

/** MAIR attribute indices the S1 descriptors use. */
export const MAIR_ATTR_IDX_NC = 0;
export const MAIR_ATTR_IDX_CACHE = 1;
export const MAIR_ATTR_IDX_DEV = 2;
export const MAIR_ATTR_IDX_INC_OCACHE = 3;
export const MAIR_ATTR_NC = 0x44n;
export const MAIR_ATTR_WBRWA = 0xffn;
export const MAIR_ATTR_DEVICE = 0x04n;
export const MAIR_ATTR_INC_OWBRWA = 0xf4n;

/** Mali TRANSTAB / MEMATTR. */
export const MALI_TTBR_ADRMODE_TABLE = 3n;
export const MALI_TTBR_READ_INNER = 1n << 2n;
export const MALI_TTBR_SHARE_OUTER = 1n << 4n;
export const MALI_MEMATTR_IMP_DEF = 0x88n;
export const MALI_MEMATTR_WRITE_ALLOC = 0x8dn;

/** TCR/VTCR field encodings (io-pgtable-arm.h). */
export const TCR_TG0_4K = 0;
export const TCR_TG0_64K = 1;
export const TCR_TG0_16K = 2;
export const TCR_TG1_16K = 1;
export const TCR_TG1_4K = 2;
export const TCR_TG1_64K = 3;
export const TCR_SH_NS = 0;
export const TCR_SH_OS = 2;
export const TCR_SH_IS = 3;
export const TCR_RGN_NC = 0;
export const TCR_RGN_WBWA = 1;
export const TCR_RGN_WT = 2;
export const TCR_RGN_WB = 3;
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

export const SZ_4K = 0x1000;
export const SZ_16K = 0x4000;
export const SZ_64K = 0x10000;
export const SZ_2M = 0x200000;
export const SZ_32M = 0x2000000;
export const SZ_512M = 0x20000000;
export const SZ_1G = 0x40000000;
export const SZ_4T = 2 ** 42;
