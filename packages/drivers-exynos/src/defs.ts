/**
 * drivers/iommu/exynos-iommu.c: the SysMMU page-table format — sizes, entry types, the
 * PG_ENT_SHIFT encodings of v1–v3 (32-bit PA) and v5+ (PA >> 4, 36-bit) and the prot tables.
 * Entries are 32-bit (`sysmmu_pte_t`), stored little-endian.
 */

/** `SECT_ORDER`: a level-1 entry maps 1 MiB. */
export const SECT_ORDER = 20;
/** `LPAGE_ORDER`: a large page is 64 KiB (16 identical level-2 entries). */
export const LPAGE_ORDER = 16;
/** `SPAGE_ORDER`: a small page is 4 KiB. */
export const SPAGE_ORDER = 12;
/** `SECT_SIZE` */
export const SECT_SIZE = 1 << SECT_ORDER;
/** `LPAGE_SIZE` */
export const LPAGE_SIZE = 1 << LPAGE_ORDER;
/** `SPAGE_SIZE` */
export const SPAGE_SIZE = 1 << SPAGE_ORDER;
/** `NUM_LV1ENTRIES`: 4096 level-1 entries, one per MiB of the 32-bit IOVA space. */
export const NUM_LV1ENTRIES = 4096;
/** `NUM_LV2ENTRIES`: 256 level-2 entries per level-2 table. */
export const NUM_LV2ENTRIES = SECT_SIZE / SPAGE_SIZE;
/** `LV1TABLE_SIZE`: 16 KiB (`__get_free_pages(order 2)`). */
export const LV1TABLE_SIZE = NUM_LV1ENTRIES * 4;
/** `LV2TABLE_SIZE`: 1 KiB objects of the `exynos-iommu-lv2table` kmem_cache. */
export const LV2TABLE_SIZE = NUM_LV2ENTRIES * 4;
/** `SPAGES_PER_LPAGE`: the 16 replicas of a large page. */
export const SPAGES_PER_LPAGE = LPAGE_SIZE / SPAGE_SIZE;
/** `lv2entcnt`'s size: one `short` per level-1 entry (`__get_free_pages(order 1)`, 8 KiB). */
export const LV2ENTCNT_SIZE = 0x2000;

/** `SYSMMU_PG_ENT_SHIFT`: v1–v3 entries hold PA bits 31:0 as is. */
export const SYSMMU_PG_ENT_SHIFT = 0;
/** `SYSMMU_V5_PG_ENT_SHIFT`: v5+ entries hold PA >> 4 (36-bit physical addresses). */
export const SYSMMU_V5_PG_ENT_SHIFT = 4;

/** `SYSMMU_LV1_PROT[prot & (R|W)]` (v1–v3): none, R-only (bit 15 | bit 10), W→RW, RW (bit 10). */
export const SYSMMU_LV1_PROT: readonly number[] = [0, (1 << 15) | (1 << 10), 1 << 10, 1 << 10];
/** `SYSMMU_V5_LV1_PROT[prot & (R|W)]`: the index itself in bits 5:4. */
export const SYSMMU_V5_LV1_PROT: readonly number[] = [0, 1 << 4, 2 << 4, 3 << 4];
/** `SYSMMU_LV2_PROT[prot & (R|W)]` (v1–v3): none, R-only (bit 9 | bit 4), W→RW, RW (bit 4). */
export const SYSMMU_LV2_PROT: readonly number[] = [0, (1 << 9) | (1 << 4), 1 << 4, 1 << 4];
/** `SYSMMU_V5_LV2_PROT[prot & (R|W)]`: the index itself in bits 3:2. */
export const SYSMMU_V5_LV2_PROT: readonly number[] = [0, 1 << 2, 2 << 2, 3 << 2];

/** `exynos_iommu_ops.pgsize_bitmap` = SECT_SIZE | LPAGE_SIZE | SPAGE_SIZE (no 16 MiB supersections). */
export const EXYNOS_PGSIZE_BITMAP = SECT_SIZE | LPAGE_SIZE | SPAGE_SIZE;

/** `MAKE_MMU_VER(maj, min)`: the driver's packed version (major in bits 10:7, minor in 6:0). */
export function makeMmuVer(major: number, minor: number): number {
  return ((major & 0xf) << 7) | (minor & 0x7f);
}

/** `MMU_MAJ_VER(val)` */
export function mmuMajVer(version: number): number {
  return version >>> 7;
}

/** `MMU_MIN_VER(val)` */
export function mmuMinVer(version: number): number {
  return version & 0x7f;
}

/** `lv1ent_section(sent)`: bits 1:0 = 2. */
export function lv1entSection(ent: number): boolean {
  return (ent & 3) === 2;
}

/** `lv1ent_fault(sent)`: the shared zero link, or bits 1:0 = 0 or 3. */
export function lv1entFault(ent: number, zeroLv2Link: number): boolean {
  const t = ent & 3;
  return ent === zeroLv2Link || t === 0 || t === 3;
}

/** `lv1ent_page(sent)`: a link to a level-2 table other than the shared zero table. */
export function lv1entPage(ent: number, zeroLv2Link: number): boolean {
  return ent !== zeroLv2Link && (ent & 3) === 1;
}

/** `lv2ent_fault(pent)`: bits 1:0 = 0. */
export function lv2entFault(ent: number): boolean {
  return (ent & 3) === 0;
}

/** `lv2ent_small(pent)`: bit 1 set (so bits 1:0 = 3 is a small page too). */
export function lv2entSmall(ent: number): boolean {
  return (ent & 2) === 2;
}

/** `lv2ent_large(pent)`: bits 1:0 = 1. */
export function lv2entLarge(ent: number): boolean {
  return (ent & 3) === 1;
}

/** `lv2table_base(sent)`: the level-2 table PA, `(ent & 0xffffffc0) << PG_ENT_SHIFT`. */
export function lv2tableBase(ent: number, pgEntShift: number): number {
  return ((ent & 0xffffffc0) >>> 0) * (1 << pgEntShift);
}

/** `sect_to_phys(ent)`: `(phys_addr_t)ent << PG_ENT_SHIFT`. */
export function sectToPhys(ent: number, pgEntShift: number): number {
  return (ent >>> 0) * (1 << pgEntShift);
}
