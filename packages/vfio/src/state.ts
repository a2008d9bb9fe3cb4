/**
 * `struct vfio_iommu`: the state of one type1 container, shared by the ioctl modules
 * (map-dma, unmap-dma, attach, dirty, external-pins). Users go through {@link VfioIommu}.
 */
import { ffs, type IommuCounters, type IommuDomain, type IommuDriver, PAGE_SIZE } from "@iommu/core";
import type { Type1Context, UnmapMode, VfioDomain, VfioIommuGroup } from "./context.js";
import { VfioCounters } from "./counters.js";
import { DmaList, type VfioDma } from "./dma.js";
import { IommuCalls } from "./iommu-calls.js";
import type { IommuResvRegion, IovaWindow } from "./iova-list.js";
import type { UserMm } from "./mm.js";
import { vfioUnmapUnpin } from "./unmap-unpin.js";

/** `PAGE_MASK` as a 64-bit bitmap number (exact: a multiple of 4 KiB). */
export const PAGE_MASK_BITMAP = 2 ** 64 - PAGE_SIZE;
/** The `dma_entry_limit` module parameter's default (U16_MAX). */
export const DEFAULT_DMA_ENTRY_LIMIT = 65535;
/** ULONG_MAX / the largest u64. */
export const U64_MAX = (1n << 64n) - 1n;

/**
 * Per-attach properties of the group (defaults: isolated MSI, no reserved regions).
 *
 * `driver` is the IOMMU driver instance behind the group's devices (`dev->iommu->iommu_dev`):
 * type1 asks it for a paging domain (`iommu_paging_domain_alloc(dev)`, flags 0). The new
 * domain's `ops` table is its driver identity: a group whose new domain has the same ops as
 * an existing domain joins that domain (no replay).
 */
export interface VfioAttachOptions {
  /** The driver behind the group's device; required unless `emulated` (-ENODEV without one). */
  driver?: IommuDriver;
  /** `iommu_group_has_isolated_msi()`; default true. */
  isolatedMsi?: boolean;
  /** `iommu_get_group_resv_regions()`; default none. */
  resvRegions?: readonly IommuResvRegion[];
  /** A VFIO_EMULATED_IOMMU group (mdev): no domain, memory reached through pinPages. */
  emulated?: boolean;
}

/** An emulated-IOMMU (mdev) device registered with the container (`struct vfio_device` with `dma_unmap`). */
export interface VfioEmulatedDevice {
  /** `ops->dma_unmap`: invalidate [iova, iova + size); must unpin what it pinned there. */
  dmaUnmap(iova: number, size: number): void;
}

export interface VfioIommuOptions {
  /** The process whose memory is mapped (mm, RLIMIT_MEMLOCK, CAP_IPC_LOCK). */
  mm: UserMm;
  /** VFIO_TYPE1_IOMMU (v1) or VFIO_TYPE1v2_IOMMU (default). */
  type?: number;
  /** `dma_entry_limit` module parameter (default 65535). */
  dmaEntryLimit?: number;
  /** `disable_hugepages` module parameter: pin (and map) one page at a time. */
  disableHugepages?: boolean;
  /** `allow_unsafe_interrupts` module parameter. */
  allowUnsafeInterrupts?: boolean;
  /** How mappings are read back on unmap and replay (default legacy = today's kernel). */
  unmapMode?: UnmapMode;
  /** Call counters; pass one object to accumulate over several containers. */
  counters?: VfioCounters;
  /** WARN sink (default: the mm's). */
  warnCounters?: IommuCounters;
}

/** A read-only view of one mapping, for listings and invariant checks. */
export interface VfioDmaInfo {
  iova: number;
  size: number;
  vaddr: number;
  prot: number;
  lockedVm: number;
  iommuMapped: boolean;
  vaddrInvalid: boolean;
}

/** The container's state; every field is the kernel's `struct vfio_iommu` member of that name. */
export class VfioIommuState implements Type1Context {
  readonly mm: UserMm;
  readonly v2: boolean;
  readonly counters: IommuCounters;
  readonly vfioCounters: VfioCounters;
  readonly calls: IommuCalls;
  readonly unmapMode: UnmapMode;
  readonly disableHugepages: boolean;
  readonly allowUnsafeInterrupts: boolean;
  /** `domain_list`: the head is the "first domain" unmap and replay read back from. */
  readonly domainList: VfioDomain[] = [];
  /** `iova_list` */
  iovaList: IovaWindow[] = [];
  /** `dma_list` */
  readonly dmas = new DmaList();
  dmaAvail: number;
  vaddrInvalidCount = 0;
  /** PAGE_MASK until a domain is attached, then the AND over domains. */
  pgsizeBitmap = PAGE_MASK_BITMAP;
  numNonPinnedGroups = 0;
  /** `emulated_iommu_groups` (mdev: no IOMMU domain of their own). */
  readonly emulatedGroups: VfioIommuGroup[] = [];
  /** `device_list`: emulated-IOMMU devices that must drop their pins on unmap. */
  readonly devices: VfioEmulatedDevice[] = [];
  dirtyPageTracking = false;
  released = false;

  constructor(opts: VfioIommuOptions, v2: boolean) {
    this.v2 = v2;
    this.mm = opts.mm;
    this.dmaAvail = opts.dmaEntryLimit ?? DEFAULT_DMA_ENTRY_LIMIT;
    this.disableHugepages = opts.disableHugepages ?? false;
    this.allowUnsafeInterrupts = opts.allowUnsafeInterrupts ?? false;
    this.unmapMode = opts.unmapMode ?? "legacy";
    this.vfioCounters = opts.counters ?? new VfioCounters();
    this.counters = opts.warnCounters ?? opts.mm.counters;
    this.calls = new IommuCalls(this.vfioCounters);
  }

  /** Smallest IOMMU page size type1 accepts (`1 << __ffs(pgsize_bitmap)`). */
  get minPageSize(): number {
    // Domains with disjoint page sizes leave an empty bitmap (the kernel's __ffs(0) is
    // undefined); the model falls back to PAGE_SIZE.
    return this.pgsizeBitmap === 0 ? PAGE_SIZE : 2 ** ffs(this.pgsizeBitmap);
  }

  /** `rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT` */
  get memlockLimit(): number {
    return this.mm.memlockLimitPages;
  }

  /** `vfio_remove_dma` */
  removeDma(dma: VfioDma): void {
    if (dma.pfnList.size) this.counters.warn("vfio_remove_dma: pages still pinned by a device");
    vfioUnmapUnpin(this, dma, true);
    this.dmas.unlink(dma);
    dma.bitmap = null;
    if (dma.vaddrInvalid) this.vaddrInvalidCount--;
    this.dmaAvail++;
  }

  /** `vfio_iommu_unmap_unpin_all` */
  unmapUnpinAll(): void {
    while (this.dmas.length) this.removeDma(this.dmas.items[0]!);
  }
}

/** `iommu_domain_free` */
export function iommuDomainFree(domain: IommuDomain): void {
  domain.ops?.free?.(domain);
}
