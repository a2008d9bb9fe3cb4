/**
 * drivers/iommu/iommu-pages.c (`iommu_alloc_pages_sz`/`iommu_free_pages`), and `kzalloc`,
 * `dma_alloc_coherent` and slab pages, as the drivers that count their own tables use them
 * (exynos, sun50i, rockchip, sprd, tegra-smmu, mtk_iommu_v1, omap, s390): a {@link TableAllocator} block taken
 * or given back without bumping the allocator's counters, because the driver counts each
 * table — whatever block holds it — in the counters of the domain (or driver) it belongs to.
 */
import type { TableAllocator } from "./table-allocator.js";

/** `allocator.alloc(bytes)` with its counters detached: the block's PA, or -1 (the kernel's NULL). */
export function allocUncounted(allocator: TableAllocator, bytes: number): number {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    return allocator.alloc(bytes);
  } finally {
    allocator.counters = counters;
  }
}

/** `allocator.release(pa)` with its counters detached (see {@link allocUncounted}). */
export function releaseUncounted(allocator: TableAllocator, pa: number): void {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    allocator.release(pa);
  } finally {
    allocator.counters = counters;
  }
}
