/**
 * arch/s390/include/asm/pci_dma.h (with the >4 TiB series' RS/RF definitions): the zPCI DMA
 * translation-table layout — IOTA flags, region/segment/page table entry bits and sizes.
 */

/** `ZPCI_IOTA_IOT_ENABLED` */
export const ZPCI_IOTA_IOT_ENABLED = 0x800;
/** `ZPCI_IOTA_DT_ST`: designation type segment table. */
export const ZPCI_IOTA_DT_ST = 0 << 2;
/** `ZPCI_IOTA_DT_RT`: designation type region-third table. */
export const ZPCI_IOTA_DT_RT = 1 << 2;
/** `ZPCI_IOTA_DT_RS`: designation type region-second table. */
export const ZPCI_IOTA_DT_RS = 2 << 2;
/** `ZPCI_IOTA_DT_RF`: designation type region-first table. */
export const ZPCI_IOTA_DT_RF = 3 << 2;
/** `ZPCI_KEY` (`PAGE_DEFAULT_KEY << 5`, key 0). */
export const ZPCI_KEY = 0;
/** `ZPCI_IOTA_RTTO_FLAG` */
export const ZPCI_IOTA_RTTO_FLAG = ZPCI_IOTA_IOT_ENABLED | ZPCI_KEY | ZPCI_IOTA_DT_RT;
/** `ZPCI_IOTA_RSTO_FLAG` */
export const ZPCI_IOTA_RSTO_FLAG = ZPCI_IOTA_IOT_ENABLED | ZPCI_KEY | ZPCI_IOTA_DT_RS;
/** `ZPCI_IOTA_RFTO_FLAG` */
export const ZPCI_IOTA_RFTO_FLAG = ZPCI_IOTA_IOT_ENABLED | ZPCI_KEY | ZPCI_IOTA_DT_RF;

/** `ZPCI_INDEX_MASK`: 11 index bits per region/segment table. */
export const ZPCI_INDEX_MASK = 0x7ff;
/** `ZPCI_TABLE_TYPE_MASK`: bits 3:2 of a region/segment entry. */
export const ZPCI_TABLE_TYPE_MASK = 0xc;
/** `ZPCI_TABLE_TYPE_RFX`: an entry of a region-first table. */
export const ZPCI_TABLE_TYPE_RFX = 0xc;
/** `ZPCI_TABLE_TYPE_RSX`: an entry of a region-second table. */
export const ZPCI_TABLE_TYPE_RSX = 0x8;
/** `ZPCI_TABLE_TYPE_RTX`: an entry of a region-third table. */
export const ZPCI_TABLE_TYPE_RTX = 0x4;
/** `ZPCI_TABLE_TYPE_SX`: an entry of a segment table. */
export const ZPCI_TABLE_TYPE_SX = 0x0;
/** `ZPCI_TABLE_LEN_RFX` (= `_RSX` = `_RTX`): table length bits 1:0 of a region entry. */
export const ZPCI_TABLE_LEN_RTX = 0x3;
/** `ZPCI_TABLE_OFFSET_MASK`: table offset bits 7:6 of a region entry. */
export const ZPCI_TABLE_OFFSET_MASK = 0xc0;
/** `ZPCI_TABLE_SIZE`: bytes of a region or segment table (2048 entries). */
export const ZPCI_TABLE_SIZE = 0x4000;
/** `ZPCI_TABLE_ENTRIES` */
export const ZPCI_TABLE_ENTRIES = 2048;
/** `ZPCI_TABLE_BITS` */
export const ZPCI_TABLE_BITS = 11;
/** `ZPCI_PT_BITS` */
export const ZPCI_PT_BITS = 8;
/** `ZPCI_ST_SHIFT`: IOVA bits 30:20 index a segment table. */
export const ZPCI_ST_SHIFT = ZPCI_PT_BITS + 12;
/** `ZPCI_RT_SHIFT`: IOVA bits 41:31 index a region-third table. */
export const ZPCI_RT_SHIFT = ZPCI_ST_SHIFT + ZPCI_TABLE_BITS;
/** `ZPCI_RS_SHIFT`: IOVA bits 52:42 index a region-second table. */
export const ZPCI_RS_SHIFT = ZPCI_RT_SHIFT + ZPCI_TABLE_BITS;
/** `ZPCI_RF_SHIFT`: IOVA bits 63:53 index a region-first table. */
export const ZPCI_RF_SHIFT = ZPCI_RS_SHIFT + ZPCI_TABLE_BITS;
/** `ZPCI_TABLE_SIZE_RT`: 2^42, the IOVA span of a region-third table. */
export const ZPCI_TABLE_SIZE_RT = 2 ** 42;
/** `ZPCI_TABLE_SIZE_RS`: 2^53, the IOVA span of a region-second table. */
export const ZPCI_TABLE_SIZE_RS = 2 ** 53;

/** `ZPCI_RTE_FLAG_MASK`: region entries point with bits 63:14. */
export const ZPCI_RTE_FLAG_MASK = 0x3fff;
/** `ZPCI_STE_FLAG_MASK`: segment entries point with bits 63:11. */
export const ZPCI_STE_FLAG_MASK = 0x7ff;

/** `ZPCI_PTE_VALID_MASK` */
export const ZPCI_PTE_VALID_MASK = 0x400;
/** `ZPCI_PTE_INVALID`: bit 10 set = invalid page. */
export const ZPCI_PTE_INVALID = 0x400;
/** `ZPCI_PTE_VALID` */
export const ZPCI_PTE_VALID = 0x000;
/** `ZPCI_PT_SIZE`: bytes of a page table (256 entries). */
export const ZPCI_PT_SIZE = 0x800;
/** `ZPCI_PT_ALIGN`: page tables are naturally aligned. */
export const ZPCI_PT_ALIGN = ZPCI_PT_SIZE;
/** `ZPCI_PT_ENTRIES` */
export const ZPCI_PT_ENTRIES = 256;
/** `ZPCI_PTE_FLAG_MASK`: page entries hold the page address in bits 63:12. */
export const ZPCI_PTE_FLAG_MASK = 0xfff;

/** `ZPCI_TABLE_VALID` */
export const ZPCI_TABLE_VALID = 0x00;
/** `ZPCI_TABLE_INVALID`: bit 5 set = invalid region/segment entry (the value of an empty one). */
export const ZPCI_TABLE_INVALID = 0x20;
/** `ZPCI_TABLE_PROTECTED`: bit 9, the page (or everything below the entry) is read-only. */
export const ZPCI_TABLE_PROTECTED = 0x200;
/** `ZPCI_TABLE_VALID_MASK` */
export const ZPCI_TABLE_VALID_MASK = 0x20;
/** `ZPCI_TABLE_PROT_MASK` */
export const ZPCI_TABLE_PROT_MASK = 0x200;

/** `ZPCI_TABLE_TYPE_RTX` / `_RSX` / `_RFX` by the name the harness prints. */
export type S390OriginType = "rtx" | "rsx" | "rfx";

/** `ZPCI_TABLE_TYPE_*` of an origin type name. */
export const S390_ORIGIN_TYPES: Readonly<Record<S390OriginType, number>> = {
  rtx: ZPCI_TABLE_TYPE_RTX,
  rsx: ZPCI_TABLE_TYPE_RSX,
  rfx: ZPCI_TABLE_TYPE_RFX,
};
