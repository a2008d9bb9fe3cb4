/** `IOMMU_*` prot flags (include/linux/iommu.h). */
export const IOMMU_READ = 1 << 0;
export const IOMMU_WRITE = 1 << 1;
export const IOMMU_CACHE = 1 << 2;
export const IOMMU_NOEXEC = 1 << 3;
export const IOMMU_MMIO = 1 << 4;
export const IOMMU_PRIV = 1 << 5;

/** `IOMMU_DIRTY_NO_CLEAR`: read_and_clear_dirty reports without clearing. */
export const IOMMU_DIRTY_NO_CLEAR = 1 << 0;

/**
 * gfp_t as far as the IOMMU core looks at it: iommu_map() refuses compound, DMA-zone and
 * highmem allocations for page tables.
 */
export const GFP_KERNEL = 0;
export const GFP_ATOMIC = 1 << 0;
export const __GFP_COMP = 1 << 1;
export const __GFP_DMA = 1 << 2;
export const __GFP_DMA32 = 1 << 3;
export const __GFP_HIGHMEM = 1 << 4;
export const GFP_BAD_FOR_IOMMU_MAP = __GFP_COMP | __GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM;
