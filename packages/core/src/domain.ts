import type { Addr } from "./addr.js";
import type { IommuCounters } from "./counters.js";
import type { IotlbGather } from "./gather.js";
import type { PageTableInspector } from "./inspector.js";
import type { PhysLength } from "./phys-length.js";
import type { PhysRunCollector } from "./runs.js";

/** `__IOMMU_DOMAIN_*` bits. */
export const __IOMMU_DOMAIN_PAGING = 1 << 0;
export const __IOMMU_DOMAIN_DMA_API = 1 << 1;
export const __IOMMU_DOMAIN_PT = 1 << 2;
export const __IOMMU_DOMAIN_DMA_FQ = 1 << 3;
export const __IOMMU_DOMAIN_SVA = 1 << 4;
export const __IOMMU_DOMAIN_PLATFORM = 1 << 5;
export const __IOMMU_DOMAIN_NESTED = 1 << 6;

/** `IOMMU_DOMAIN_*` types. */
export const IOMMU_DOMAIN_BLOCKED = 0;
export const IOMMU_DOMAIN_IDENTITY = __IOMMU_DOMAIN_PT;
export const IOMMU_DOMAIN_UNMANAGED = __IOMMU_DOMAIN_PAGING;
export const IOMMU_DOMAIN_DMA = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API;
export const IOMMU_DOMAIN_DMA_FQ = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API | __IOMMU_DOMAIN_DMA_FQ;
export const IOMMU_DOMAIN_SVA = __IOMMU_DOMAIN_SVA;
export const IOMMU_DOMAIN_PLATFORM = __IOMMU_DOMAIN_PLATFORM;
export const IOMMU_DOMAIN_NESTED = __IOMMU_DOMAIN_NESTED;

/** `struct iommu_domain_geometry`; `apertureEnd` is the inclusive last IOVA. */
export interface IommuDomainGeometry {
  apertureStart: Addr;
  apertureEnd: Addr;
  forceAperture: boolean;
}

/** Receives dirty ranges: `struct iommu_dirty_bitmap` (the bitmap itself is the caller's). */
export interface IommuDirtyBitmap {
  /** `iommu_dirty_bitmap_record` */
  record(iova: number, length: number): void;
  gather?: IotlbGather;
}

/**
 * `struct iommu_domain_ops`, the paging members: the contract every driver implements.
 *
 * Kernel calling convention: ops take the domain first, return 0 or `-errno` (never throw
 * for a kernel error), and report sizes in bytes. Ops tables are shared by all domains of a
 * driver, so their identity names the driver (VFIO reuses a domain when ops match).
 *
 * Addresses arrive as {@link Addr}: the core passes numbers that are exact (safe integers, or
 * 4 KiB multiples up to 2^64), raw callers may pass bigints.
 *
 * Versioning: this interface is `@iommu/core`'s public contract; any change to it is a
 * major release of core.
 */
export interface IommuDomainOps<D extends IommuDomain = IommuDomain> {
  /** Driver name, for tables and messages. */
  readonly name: string;
  /**
   * `map_pages`: map `pgcount` pages of `pgsize` at iova → paddr. May map fewer than asked
   * (the core loops); **adds** the bytes mapped to `mapped.value`. Returns 0 or -errno.
   */
  mapPages(
    domain: D,
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    gfp: number,
    mapped: SizeOut,
  ): number;
  /**
   * `unmap_pages`: returns bytes unmapped (0 = stop). A kernel that returns an errno through
   * `size_t` is modelled by a negative number (2^64 + v as unsigned).
   */
  unmapPages(domain: D, iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number;
  /**
   * `iova_to_phys_length`: one walk fills `out` (see PhysLength). Required: the series removed
   * the legacy `iova_to_phys` op, and `iommuIovaToPhys` answers from this one
   * (docs/migrating-from-iova-to-phys.md).
   */
  iovaToPhysLength(domain: D, iova: Addr, out: PhysLength): void;
  /**
   * Model-only (issue 17): report the leaves and empty slots of the collector's range to it in
   * ascending order, in one descent of the table (each entry read at most once, no restart from
   * the top per leaf). Optional: the core falls back to iovaToPhysLength steps. See
   * docs/iova-to-phys-runs.md.
   */
  iovaToPhysRuns?(domain: D, runs: PhysRunCollector): void;
  /** `iotlb_sync_map`: returns 0 or -errno. */
  iotlbSyncMap?(domain: D, iova: number, size: number): number;
  /** `iotlb_sync`: flush what the gather collected (and free its page-table pages). */
  iotlbSync?(domain: D, gather: IotlbGather): void;
  /** `flush_iotlb_all` */
  flushIotlbAll?(domain: D): void;
  /** `free`: release the domain and its page table. */
  free?(domain: D): void;
  /**
   * Model-only (no kernel op; the nearest is io-pgtable's `pgtable_walk`): an inspector of the
   * domain's current page table, or null when it has none. Tools reach it through
   * `iommuDomainInspector()`.
   */
  inspect?(domain: D): PageTableInspector | null;
}

/** `struct iommu_dirty_ops` */
export interface IommuDirtyOps<D extends IommuDomain = IommuDomain> {
  setDirtyTracking(domain: D, enabled: boolean): number;
  readAndClearDirty(domain: D, iova: number, size: number, flags: number, dirty: IommuDirtyBitmap): number;
}

/** `struct iommu_domain`, the paging-relevant part. Drivers extend it with their own state. */
export interface IommuDomain {
  type: number;
  /**
   * The driver's ops table. Its members are methods, so TypeScript checks their domain
   * parameter bivariantly: a driver's `IommuDomainOps<ArmSmmuDomain>` is assignable here.
   */
  ops: IommuDomainOps | null;
  dirtyOps?: IommuDirtyOps | null;
  /** Page sizes the domain can map, one bit per size (bit n = 2^n bytes). */
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  /** True for generic_pt domains (v7.1 `is_iommupt`). */
  isIommupt?: boolean;
  counters: IommuCounters;
}

/** A `size_t *` out-parameter. */
export class SizeOut {
  value = 0;

  constructor() {
    // Byte counts pass 2^31 (a 2 GiB map): the field holds a double from the start, so the
    // object's hidden class never changes under optimised code.
    this.value = 0.5;
    this.value = 0;
  }
}
