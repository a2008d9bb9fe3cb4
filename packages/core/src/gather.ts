import { U64_LIMIT } from "./addr.js";

/**
 * `struct iommu_iotlb_gather`: the range of IOVA whose TLB entries an unmap invalidated,
 * collected so the driver can flush once.
 *
 * The kernel keeps an inclusive `end`; this model keeps the exclusive `endExcl = end + 1`
 * (0 for an empty gather, as the kernel's `end == 0`), so that page-aligned ranges above
 * 2^53 stay exact as numbers.
 */
export class IotlbGather {
  /** First IOVA; 2^64 (the kernel's ULONG_MAX sentinel) when empty. */
  start = U64_LIMIT;
  /** One past the last IOVA; 0 when empty. Kernel `end` = `endExcl - 1`. */
  endExcl = 0;
  /** Page size of the pages added with add_page (0 = none yet). */
  pgsize = 0;
  /** Newest kernels: bitmaps of the levels whose leaves / tables changed (PT_FEAT_DETAILED_GATHER). */
  leafLevelsBitmap = 0;
  tableLevelsBitmap = 0;
  /** Page-table pages (their PAs) to free once the IOTLB is synced. */
  readonly freelist: number[] = [];
  /** Flush queue in use: the driver may defer the flush. */
  queued = false;

  constructor() {
    // Give the numeric fields V8's double representation from the start: they soon hold
    // addresses above 2^31, and a field that changes representation later deoptimises every
    // function that had inlined the small-integer form.
    this.endExcl = 0.5;
    this.pgsize = 0.5;
    this.init();
  }

  /** `iommu_iotlb_gather_init` */
  init(): this {
    this.start = U64_LIMIT;
    this.endExcl = 0;
    this.pgsize = 0;
    this.leafLevelsBitmap = 0;
    this.tableLevelsBitmap = 0;
    if (this.freelist.length !== 0) this.freelist.length = 0;
    this.queued = false;
    return this;
  }

  /** Kernel `start < end`: the gather holds more than a single byte, so a sync has work. */
  get hasRange(): boolean {
    return this.start < this.endExcl - 1;
  }
}

/**
 * `iommu_iotlb_gather_is_disjoint`: a fresh gather is never disjoint, an adjacent range is
 * not disjoint either.
 */
export function iotlbGatherIsDisjoint(g: IotlbGather, iova: number, size: number): boolean {
  const endExcl = iova + size;
  return g.endExcl !== 0 && (endExcl < g.start || iova > g.endExcl);
}

/** `iommu_iotlb_gather_add_range`: widen the gather to cover [iova, iova + size). */
export function iotlbGatherAddRange(g: IotlbGather, iova: number, size: number): void {
  const endExcl = iova + size;
  if (iova < g.start) g.start = iova;
  if (endExcl > g.endExcl) g.endExcl = endExcl;
}

/**
 * `iommu_iotlb_gather_add_page`: add one page, first syncing (through `sync`, the domain's
 * iommu_iotlb_sync) when the page size changes or the range would become disjoint.
 */
export function iotlbGatherAddPage(
  g: IotlbGather,
  iova: number,
  size: number,
  sync: (g: IotlbGather) => void,
): void {
  if ((g.pgsize !== 0 && g.pgsize !== size) || iotlbGatherIsDisjoint(g, iova, size)) sync(g);
  g.pgsize = size;
  iotlbGatherAddRange(g, iova, size);
}

/** `iommu_iotlb_gather_queued` */
export function iotlbGatherQueued(g: IotlbGather | null | undefined): boolean {
  return !!g && g.queued;
}
