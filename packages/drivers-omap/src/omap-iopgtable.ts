/**
 * drivers/iommu/omap-iopgtable.h and omap-iommu.h: the OMAP IOMMU page-table layout (an
 * ARMv7-short-descriptor-like 2-level table) and the MMU register offsets and bits the
 * driver uses.
 */

/** `IOPGD_SHIFT`: IOVA bits 31:20 index the L1 table ("iopgd"). */
export const IOPGD_SHIFT = 20;
/** `IOSECTION_SIZE`: 1 MiB. */
export const IOSECTION_SIZE = 1 << 20;
/** `IOSECTION_MASK` (low 32 bits). */
export const IOSECTION_MASK = 0xfff0_0000;
/** `IOSUPER_SIZE`: 16 MiB. */
export const IOSUPER_SIZE = 1 << 24;
/** `IOSUPER_MASK` (low 32 bits). */
export const IOSUPER_MASK = 0xff00_0000;
/** `PTRS_PER_IOPGD`: 4096 L1 entries. */
export const PTRS_PER_IOPGD = 4096;
/** `IOPGD_TABLE_SIZE`: 16 KiB. */
export const IOPGD_TABLE_SIZE = PTRS_PER_IOPGD * 4;
/** `IOPTE_SHIFT`: IOVA bits 19:12 index an L2 table ("iopte"). */
export const IOPTE_SHIFT = 12;
/** `IOPTE_SIZE`: 4 KiB. */
export const IOPTE_SIZE = 1 << 12;
/** `IOPTE_MASK` / `IOPAGE_MASK` (low 32 bits). */
export const IOPTE_MASK = 0xffff_f000;
/** `IOLARGE_SIZE`: 64 KiB. */
export const IOLARGE_SIZE = 1 << 16;
/** `IOLARGE_MASK` (low 32 bits). */
export const IOLARGE_MASK = 0xffff_0000;
/** `PTRS_PER_IOPTE`: 256 L2 entries. */
export const PTRS_PER_IOPTE = 256;
/** `IOPTE_TABLE_SIZE`: 1 KiB. */
export const IOPTE_TABLE_SIZE = PTRS_PER_IOPTE * 4;

/** `IOPGD_TABLE`: L1 bits 1:0 = 01, a pointer to an L2 table (bits 31:10). */
export const IOPGD_TABLE = 1;
/** `IOPGD_SECTION`: L1 bits 1:0 = 10, a 1 MiB section. */
export const IOPGD_SECTION = 2;
/** `IOPGD_SUPER`: bit 18 + IOPGD_SECTION, a 16 MiB supersection (16 identical L1 entries). */
export const IOPGD_SUPER = (1 << 18) | IOPGD_SECTION;
/** `IOPTE_SMALL`: L2 bit 1, a 4 KiB page. */
export const IOPTE_SMALL = 2;
/** `IOPTE_LARGE`: L2 bits 1:0 = 01, a 64 KiB page (16 identical L2 entries). */
export const IOPTE_LARGE = 1;

/** `iopgd_is_table()` */
export function iopgdIsTable(x: number): boolean {
  return (x & 3) === IOPGD_TABLE;
}

/** `iopgd_is_section()` */
export function iopgdIsSection(x: number): boolean {
  return (x & ((1 << 18) | 3)) === IOPGD_SECTION;
}

/** `iopgd_is_super()` */
export function iopgdIsSuper(x: number): boolean {
  return (x & ((1 << 18) | 3)) === IOPGD_SUPER;
}

/** `iopte_is_small()` */
export function iopteIsSmall(x: number): boolean {
  return (x & 2) === IOPTE_SMALL;
}

/** `iopte_is_large()` */
export function iopteIsLarge(x: number): boolean {
  return (x & 3) === IOPTE_LARGE;
}

/** `iopgd_page_paddr()`: the L2 table an L1 table entry points to. */
export function iopgdPagePaddr(x: number): number {
  return (x & ~0x3ff) >>> 0;
}

/** `MMU_REVISION` */
export const MMU_REVISION = 0x00;
/** `MMU_IRQSTATUS` */
export const MMU_IRQSTATUS = 0x18;
/** `MMU_IRQENABLE` */
export const MMU_IRQENABLE = 0x1c;
/** `MMU_WALKING_ST` */
export const MMU_WALKING_ST = 0x40;
/** `MMU_CNTL` */
export const MMU_CNTL = 0x44;
/** `MMU_FAULT_AD` */
export const MMU_FAULT_AD = 0x48;
/** `MMU_TTB`: the L1 table's physical address. */
export const MMU_TTB = 0x4c;
/** `MMU_LOCK`: TLB lock base / victim. */
export const MMU_LOCK = 0x50;
/** `MMU_LD_TLB` */
export const MMU_LD_TLB = 0x54;
/** `MMU_CAM` */
export const MMU_CAM = 0x58;
/** `MMU_RAM` */
export const MMU_RAM = 0x5c;
/** `MMU_GFLUSH` */
export const MMU_GFLUSH = 0x60;
/** `MMU_FLUSH_ENTRY` */
export const MMU_FLUSH_ENTRY = 0x64;
/** `MMU_READ_CAM` */
export const MMU_READ_CAM = 0x68;
/** `MMU_READ_RAM` */
export const MMU_READ_RAM = 0x6c;
/** `MMU_GP_REG` */
export const MMU_GP_REG = 0x88;

/** `MMU_CNTL_MMU_EN` */
export const MMU_CNTL_MMU_EN = 1 << 1;
/** `MMU_CNTL_TWL_EN` */
export const MMU_CNTL_TWL_EN = 1 << 2;
/** `MMU_CNTL_MASK` */
export const MMU_CNTL_MASK = 7 << 1;
/** `MMU_IRQ_TWL_MASK`: the interrupts enabled with table walking on. */
export const MMU_IRQ_TWL_MASK = 0x1e;
/** `MMU_CAM_V`: a TLB entry is valid. */
export const MMU_CAM_V = 1 << 2;
/** `MMU_GP_REG_BUS_ERR_BACK_EN` */
export const MMU_GP_REG_BUS_ERR_BACK_EN = 0x1;
/** `MMU_LOCK_BASE_SHIFT` */
export const MMU_LOCK_BASE_SHIFT = 10;
/** `MMU_LOCK_VICT_SHIFT` */
export const MMU_LOCK_VICT_SHIFT = 4;
/** `DSP_SYS_MMU_CONFIG`: syscon register of the DRA7 DSP MMUs. */
export const DSP_SYS_MMU_CONFIG = 0x18;
/** `DSP_SYS_MMU_CONFIG_EN_SHIFT`: enable bit of MMU k is bit 4k. */
export const DSP_SYS_MMU_CONFIG_EN_SHIFT = 4;

/** `MMU_CAM_PGSZ_1M`: a page size as `bytes_to_iopgsz()` returns it. */
export const MMU_CAM_PGSZ_1M = 0;
/** `MMU_CAM_PGSZ_64K` */
export const MMU_CAM_PGSZ_64K = 1;
/** `MMU_CAM_PGSZ_4K` */
export const MMU_CAM_PGSZ_4K = 2;
/** `MMU_CAM_PGSZ_16M` */
export const MMU_CAM_PGSZ_16M = 3;

/** `bytes_to_iopgsz()`: the MMU_CAM page size of a byte count, or -1 for any other size. */
export function bytesToIopgsz(bytes: number): number {
  switch (bytes) {
    case IOSUPER_SIZE:
      return MMU_CAM_PGSZ_16M;
    case IOSECTION_SIZE:
      return MMU_CAM_PGSZ_1M;
    case IOLARGE_SIZE:
      return MMU_CAM_PGSZ_64K;
    case IOPTE_SIZE:
      return MMU_CAM_PGSZ_4K;
    default:
      return -1;
  }
}
