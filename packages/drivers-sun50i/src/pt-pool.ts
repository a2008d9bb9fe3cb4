/**
 * drivers/iommu/sun50i-iommu.c: `iommu->pt_pool`, the kmem_cache created at probe as
 * (dev_name(dev), PT_SIZE, align PT_SIZE, SLAB_HWCACHE_ALIGN): 1 KiB page tables, four to a
 * slab page, over @iommu/core's {@link KmemCache}. The cache counts objects only; the driver
 * counts each table in the counters of the domain it belongs to.
 */
import { KmemCache, type TableAllocator } from "@iommu/core";
import { PT_SIZE } from "./defs.js";

/** `kmem_cache_create(dev_name(dev), PT_SIZE, PT_SIZE, SLAB_HWCACHE_ALIGN, NULL)` over `allocator`. */
export function createPtPool(name: string, allocator: TableAllocator): KmemCache {
  return new KmemCache(allocator, { name, size: PT_SIZE, align: PT_SIZE });
}
