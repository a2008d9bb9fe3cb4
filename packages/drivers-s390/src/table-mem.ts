/**
 * drivers/iommu/s390-iommu.c: page-table memory as the driver allocates it. The driver counts its tables
 * itself (`tablesAllocated`/`tablesFreed` of the domain's counters, per table, whatever block
 * holds it), so the allocator's own counters are detached around each call.
 */
import type { TableAllocator } from "@iommu/core";

/** `kmem_cache_alloc() (16 KiB region tables) / a slab page` on a TableAllocator without bumping its counters: the PA, or -1. */
export function allocTableMem(allocator: TableAllocator, bytes: number): number {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    return allocator.alloc(bytes);
  } finally {
    allocator.counters = counters;
  }
}

/** `kmem_cache_free()` on a TableAllocator without bumping its counters. */
export function releaseTableMem(allocator: TableAllocator, pa: number): void {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    allocator.release(pa);
  } finally {
    allocator.counters = counters;
  }
}
