/**
 * drivers/iommu/exynos-iommu.c: `lv2table_kmem_cache`, created at probe as
 * ("exynos-iommu-lv2table", LV2TABLE_SIZE, align LV2TABLE_SIZE): 1 KiB level-2 tables, four
 * to a slab page, over @iommu/core's {@link KmemCache}. The cache counts objects only; the
 * driver counts each table in the counters of the domain it belongs to.
 */
import { KmemCache, type TableAllocator } from "@iommu/core";
import { LV2TABLE_SIZE } from "./defs.js";

/** `kmem_cache_create("exynos-iommu-lv2table", LV2TABLE_SIZE, LV2TABLE_SIZE, 0, NULL)` over `allocator`. */
export function createLv2TableCache(allocator: TableAllocator): KmemCache {
  return new KmemCache(allocator, {
    name: "exynos-iommu-lv2table",
    size: LV2TABLE_SIZE,
    align: LV2TABLE_SIZE,
  });
}
