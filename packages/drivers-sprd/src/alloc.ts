/**
 * drivers/iommu/sprd-iommu.c: `dma_alloc_coherent()` of the fault page and the flat table, as blocks of the
 * model's {@link TableAllocator}, counted per table by the driver in the counters of the
 * domain (or driver instance) the table belongs to.
 */
import type { TableAllocator } from "@iommu/core";

/**
 * `allocator.alloc(bytes)` with its counters detached: the driver counts its tables itself, per
 * object, in the counters of the domain (or driver) they belong to.
 */
export function allocDetached(allocator: TableAllocator, bytes: number): number {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    return allocator.alloc(bytes);
  } finally {
    allocator.counters = counters;
  }
}

/** `allocator.release(pa)` with its counters detached (see {@link allocDetached}). */
export function releaseDetached(allocator: TableAllocator, pa: number): void {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    allocator.release(pa);
  } finally {
    allocator.counters = counters;
  }
}
