/**
 * `struct vfio_dma`: one user mapping, and the container's `dma_list`, kept as an array sorted
 * by iova (the kernel's rb-tree; mappings never overlap, so order by start is total).
 *
 * Addresses are numbers: every iova/vaddr/size that gets this far has passed the page-size
 * alignment check, and 4 KiB multiples are exact doubles up to 2^64.
 */
/** `struct vfio_pfn`: a page pinned for an emulated-IOMMU (mdev) device through vfio_pin_pages. */
export interface VfioPfn {
  readonly iova: number;
  readonly pfn: number;
  refCount: number;
}

export class VfioDma {
  /** Grows from 0 as chunks are pinned and mapped ("insert zero-sized, then grow"). */
  size = 0;
  iommuMapped = false;
  vaddrInvalid = false;
  /** At least one reserved/invalid pfn was pinned (never in this model: no VM_PFNMAP). */
  hasRsvd = false;
  /** Pages this dma charged to `mm->locked_vm`. */
  lockedVm = 0;
  /** Dirty bitmap at the smallest IOMMU page size while dirty tracking is on. */
  bitmap: Uint32Array | null = null;
  /** `pfn_list`: externally pinned pages by iova. */
  readonly pfnList = new Map<number, VfioPfn>();

  constructor(
    readonly iova: number,
    public vaddr: number,
    readonly prot: number,
    /** `capable(CAP_IPC_LOCK)` when the mapping was made. */
    public lockCap: boolean,
  ) {}

  /**
   * `vpfn_pages`: externally pinned pages in [iova, iova + npages pages) — those are already
   * charged to locked_vm.
   */
  vpfnPages(iova: number, npages: number): number {
    if (this.pfnList.size === 0) return 0;
    const end = iova + npages * 4096;
    let n = 0;
    for (const k of this.pfnList.keys()) if (k >= iova && k < end) n++;
    return n;
  }

  /** One past the last iova. */
  get end(): number {
    return this.iova + this.size;
  }
}

export class DmaList {
  readonly items: VfioDma[] = [];

  get length(): number {
    return this.items.length;
  }

  /** Index of the first dma whose last byte is at or above `start`. */
  lowerBound(start: number): number {
    const a = this.items;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const d = a[mid]!;
      if (d.iova + d.size > start) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** `vfio_find_dma(start, size)`: a dma overlapping [start, start + size), if any. */
  find(start: number, size: number): VfioDma | undefined {
    const d = this.items[this.lowerBound(start)];
    return d && d.iova < start + size ? d : undefined;
  }

  /**
   * `vfio_find_dma_first_node(start, end)`: index of the first dma (in iova order) ending at
   * or after `start`, or -1 when it starts beyond `endExcl - 1`.
   */
  firstNode(start: number, endExcl: number): number {
    const i = this.lowerBound(start);
    const d = this.items[i];
    return d && d.iova < endExcl ? i : -1;
  }

  /** `vfio_link_dma` (the new dma has size 0 and goes before any dma at the same iova). */
  link(dma: VfioDma): void {
    const a = this.items;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (dma.iova <= a[mid]!.iova) hi = mid;
      else lo = mid + 1;
    }
    a.splice(lo, 0, dma);
  }

  /** `vfio_unlink_dma` */
  unlink(dma: VfioDma): void {
    let from = this.lowerBound(dma.iova);
    while (from > 0 && this.items[from - 1]!.iova >= dma.iova) from--;
    const i = this.items.indexOf(dma, from);
    if (i >= 0) this.items.splice(i, 1);
  }
}
