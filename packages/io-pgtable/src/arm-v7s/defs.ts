/**
 * drivers/iommu/io-pgtable-arm-v7s.c: the ARMv7 short-descriptor constants, as 32-bit
 * numbers.
 *
 * Two levels: L1 resolves iova bits [ias-1:20] (4096 entries, 16384 with MediaTek's 34-bit
 * iova), L2 resolves bits [19:12] in 1 KiB tables of 256 entries.
 */
/** `ARM_V7S_ADDR_BITS`: iova and pa width without the MediaTek extension. */
export const ARM_V7S_ADDR_BITS = 32;
/** `ARM_V7S_ADDR_BITS (MediaTek ias)`: MediaTek MTK_EXT: iova up to 34 bits, pa up to 35 bits. */
export const ARM_V7S_MTK_IAS_MAX = 34;
/** `ARM_V7S_ADDR_BITS (MediaTek oas)` */
export const ARM_V7S_MTK_OAS_MAX = 35;

/** `ARM_V7S_LVL_SHIFT(lvl)` */
export const ARM_V7S_L1_SHIFT = 20;
/** `ARM_V7S_LVL_SHIFT(2)` */
export const ARM_V7S_L2_SHIFT = 12;
/** `ARM_V7S_BLOCK_SIZE(lvl)` */
export const ARM_V7S_L1_BLOCK = 1 << ARM_V7S_L1_SHIFT;
/** `ARM_V7S_BLOCK_SIZE(2)` */
export const ARM_V7S_L2_BLOCK = 1 << ARM_V7S_L2_SHIFT;
/** `ARM_V7S_PTES_PER_LVL(2)`: L2 index bits are fixed at 8. */
export const ARM_V7S_L2_ENTRIES = 256;
/** `ARM_V7S_TABLE_SIZE(2)`: an L2 table is a 1 KiB slab object. */
export const ARM_V7S_L2_TABLE_BYTES = ARM_V7S_L2_ENTRIES * 4;

/** `ARM_V7S_LVL_MASK(lvl)` as unsigned 32-bit values. */
export const ARM_V7S_L1_MASK = 0xfff0_0000;
/** `ARM_V7S_LVL_MASK(2)` */
export const ARM_V7S_L2_MASK = 0xffff_f000;
/** `ARM_V7S_TABLE_MASK`: an L1 table descriptor points at a 1 KiB aligned L2 table. */
export const ARM_V7S_TABLE_MASK = 0xffff_fc00;
/**
 * `ARM_V7S_LVL_MASK(1) * ARM_V7S_CONT_PAGES`, evaluated in u32 as the kernel does: the
 * multiplication wraps, leaving the mask of a 16M supersection / 64K large page.
 */
export const ARM_V7S_L1_CONT_MASK = 0xff00_0000;
/** `ARM_V7S_LVL_MASK(2) * ARM_V7S_CONT_PAGES` */
export const ARM_V7S_L2_CONT_MASK = 0xffff_0000;

/** `ARM_V7S_CONT_PAGES`: a large page / supersection is one entry written 16 times. */
export const ARM_V7S_CONT_PAGES = 16;

/** `ARM_V7S_PTE_TYPE_TABLE`: Descriptor type, bits [1:0]. */
export const ARM_V7S_PTE_TYPE_TABLE = 0x1;
/** `ARM_V7S_PTE_TYPE_PAGE` */
export const ARM_V7S_PTE_TYPE_PAGE = 0x2;
/** `ARM_V7S_PTE_TYPE_CONT_PAGE` */
export const ARM_V7S_PTE_TYPE_CONT_PAGE = 0x1;

/** `ARM_V7S_ATTR_XN(lvl)` = BIT(4 * (2 - lvl)). */
export const ARM_V7S_L1_XN = 1 << 4;
/** `ARM_V7S_ATTR_XN(2)` */
export const ARM_V7S_L2_XN = 1 << 0;
/** `ARM_V7S_ATTR_B` */
export const ARM_V7S_ATTR_B = 1 << 2;
/** `ARM_V7S_ATTR_C` */
export const ARM_V7S_ATTR_C = 1 << 3;
/** `ARM_V7S_ATTR_NS_TABLE` */
export const ARM_V7S_ATTR_NS_TABLE = 1 << 3;
/** `ARM_V7S_ATTR_NS_SECTION` */
export const ARM_V7S_ATTR_NS_SECTION = 1 << 19;
/** `ARM_V7S_CONT_SECTION` */
export const ARM_V7S_CONT_SECTION = 1 << 18;
/** `ARM_V7S_CONT_PAGE_XN_SHIFT` */
export const ARM_V7S_CONT_PAGE_XN_SHIFT = 15;

/** `ARM_V7S_ATTR_SHIFT(lvl)` = 16 - 6 * lvl: the 8-bit attribute block sits at [17:10] / [11:4]. */
export const ARM_V7S_L1_ATTR_SHIFT = 10;
/** `ARM_V7S_ATTR_SHIFT(2)` */
export const ARM_V7S_L2_ATTR_SHIFT = 4;

/** `ARM_V7S_ATTR_AP0`: Fields of the 8-bit attribute block. */
export const ARM_V7S_ATTR_AP0 = 1 << 0;
/** `ARM_V7S_ATTR_AP1` */
export const ARM_V7S_ATTR_AP1 = 1 << 1;
/** `ARM_V7S_ATTR_AP2` */
export const ARM_V7S_ATTR_AP2 = 1 << 5;
/** `ARM_V7S_ATTR_S` */
export const ARM_V7S_ATTR_S = 1 << 6;
/** `ARM_V7S_ATTR_NG` */
export const ARM_V7S_ATTR_NG = 1 << 7;
/** `ARM_V7S_TEX_SHIFT` */
export const ARM_V7S_TEX_SHIFT = 2;
/** `ARM_V7S_TEX_MASK` */
export const ARM_V7S_TEX_MASK = 0x7;
/** `ARM_V7S_PTE_AF`: Simplified access permissions (AP[2:1] model). */
export const ARM_V7S_PTE_AF = ARM_V7S_ATTR_AP0;
/** `ARM_V7S_PTE_AP_UNPRIV` */
export const ARM_V7S_PTE_AP_UNPRIV = ARM_V7S_ATTR_AP1;
/** `ARM_V7S_PTE_AP_RDONLY` */
export const ARM_V7S_PTE_AP_RDONLY = ARM_V7S_ATTR_AP2;

/** `ARM_V7S_CONT_PAGE_TEX_SHIFT`: A small page's TEX field [8:6] moves to [14:12] in a large page. */
export const ARM_V7S_CONT_PAGE_TEX_SHIFT = 6;
/** `ARM_V7S_CONT_PAGE_TEX_MASK` */
export const ARM_V7S_CONT_PAGE_TEX_MASK = ARM_V7S_TEX_MASK << ARM_V7S_CONT_PAGE_TEX_SHIFT;

/** `ARM_V7S_ATTR_MTK_PA_BIT32`: MediaTek PA bits 32/33/34 live in PTE bits 9/4/5. */
export const ARM_V7S_ATTR_MTK_PA_BIT32 = 1 << 9;
/** `ARM_V7S_ATTR_MTK_PA_BIT33` */
export const ARM_V7S_ATTR_MTK_PA_BIT33 = 1 << 4;
/** `ARM_V7S_ATTR_MTK_PA_BIT34` */
export const ARM_V7S_ATTR_MTK_PA_BIT34 = 1 << 5;

/** `ARM_V7S_RGN_NC`: Region attributes for TTBR/NMRR. */
export const ARM_V7S_RGN_NC = 0;
/** `ARM_V7S_RGN_WBWA` */
export const ARM_V7S_RGN_WBWA = 1;

/** `ARM_V7S_PRRR_TYPE_DEVICE` */
export const ARM_V7S_PRRR_TYPE_DEVICE = 1;
/** `ARM_V7S_PRRR_TYPE_NORMAL` */
export const ARM_V7S_PRRR_TYPE_NORMAL = 2;
/** `ARM_V7S_PRRR_TR(n, type)` */
export function armV7sPrrrTr(n: number, type: number): number {
  return ((type & 0x3) << (n * 2)) >>> 0;
}
/** `ARM_V7S_PRRR_DS0` */
export const ARM_V7S_PRRR_DS0 = 1 << 16;
/** `ARM_V7S_PRRR_DS1` */
export const ARM_V7S_PRRR_DS1 = 1 << 17;
/** `ARM_V7S_PRRR_NS1` */
export const ARM_V7S_PRRR_NS1 = 1 << 19;
/** `ARM_V7S_PRRR_NOS(n)` */
export function armV7sPrrrNos(n: number): number {
  return (1 << (n + 24)) >>> 0;
}
/** `ARM_V7S_NMRR_IR(n, attr)` / `ARM_V7S_NMRR_OR(n, attr)` */
export function armV7sNmrrIr(n: number, attr: number): number {
  return ((attr & 0x3) << (n * 2)) >>> 0;
}
/** `ARM_V7S_NMRR_OR` */
export function armV7sNmrrOr(n: number, attr: number): number {
  return ((attr & 0x3) << (n * 2 + 16)) >>> 0;
}

/** `ARM_V7S_TTBR_S` */
export const ARM_V7S_TTBR_S = 1 << 1;
/** `ARM_V7S_TTBR_NOS` */
export const ARM_V7S_TTBR_NOS = 1 << 5;
/** `ARM_V7S_TTBR_ORGN_ATTR(attr)` */
export function armV7sTtbrOrgn(attr: number): number {
  return (attr & 0x3) << 3;
}
/** `ARM_V7S_TTBR_IRGN_ATTR(attr)`: IRGN[0] is TTBR bit 6, IRGN[1] is bit 0. */
export function armV7sTtbrIrgn(attr: number): number {
  return ((attr & 0x1) << 6) | ((attr & 0x2) >> 1);
}

/**
 * `arm_v7s_alloc_pgtable()`'s `pgsize_bitmap` mask: the page sizes the format can map — 4K
 * small page, 64K large page, 1M section, 16M supersection.
 */
export const ARM_V7S_PGSIZES = 0x1000 | 0x1_0000 | 0x10_0000 | 0x100_0000;
