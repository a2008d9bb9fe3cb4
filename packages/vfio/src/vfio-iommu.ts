/**
 * The VFIO type1 container a user process gets from VFIO_SET_IOMMU
 * (drivers/vfio/vfio_iommu_type1.c, `vfio_iommu_driver_ops_type1`): its ioctls, group
 * attach/detach, the mdev pinning interface and release.
 *
 * Calling convention follows the kernel: operations return 0 or -errno (bad input is a
 * result, not an exception) and never leave half-done state behind. The work is done by
 * one module per ioctl over the shared {@link VfioIommuState}.
 */
import { type IommuCounters, type IommuDomain, IommuError, negErrno } from "@iommu/core";
import {
  findGroup,
  vfioIommuType1AttachGroup,
  vfioIommuType1DetachGroup,
  vfioIommuType1Release,
} from "./attach.js";
import type { UnmapMode, VfioDomain } from "./context.js";
import type { VfioCounters } from "./counters.js";
import { vfioIommuType1DirtyPages } from "./dirty.js";
import { vfioIommuType1DmaRw, vfioIommuType1PinPages, vfioIommuType1UnpinPages } from "./external-pins.js";
import { copyWindows, type IovaWindow } from "./iova-list.js";
import { vfioDmaDoMap } from "./map-dma.js";
import type { UserMm } from "./mm.js";
import {
  type VfioAttachOptions,
  type VfioEmulatedDevice,
  type VfioIommuOptions,
  VfioIommuState,
} from "./state.js";
import {
  __VFIO_RESERVED_TYPE1_NESTING_IOMMU,
  DIRTY_BITMAP_SIZE_MAX,
  VFIO_DMA_CC_IOMMU,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_MINSZ,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
  type VfioDirtyBitmap,
  type VfioDmaMap,
  type VfioDmaUnmap,
  type VfioIommuInfo,
} from "./uapi.js";
import { vfioIommuType1UnmapDma } from "./unmap-dma.js";

export {
  DEFAULT_DMA_ENTRY_LIMIT,
  PAGE_MASK_BITMAP,
  type VfioAttachOptions,
  type VfioEmulatedDevice,
  type VfioIommuOptions,
} from "./state.js";

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

function validType(type: number): boolean {
  return (
    type === VFIO_TYPE1_IOMMU || type === VFIO_TYPE1v2_IOMMU || type === __VFIO_RESERVED_TYPE1_NESTING_IOMMU
  );
}

/**
 * A VFIO type1 container. Create it with {@link VfioIommu.open} (the kernel's `open`, which
 * returns -EINVAL for an unknown type) or the constructor (which throws).
 */
export class VfioIommu {
  private readonly st: VfioIommuState;

  constructor(opts: VfioIommuOptions) {
    const type = opts.type ?? VFIO_TYPE1v2_IOMMU;
    if (!validType(type)) throw new IommuError("EINVAL", "vfio_iommu_type1_open", { type });
    this.st = new VfioIommuState(opts, type !== VFIO_TYPE1_IOMMU);
  }

  /** `vfio_iommu_type1_open(arg)`: the container, or -EINVAL for an unknown type. */
  static open(type: number, opts: Omit<VfioIommuOptions, "type">): VfioIommu | number {
    if (!validType(type)) return negErrno("EINVAL");
    return new VfioIommu({ ...opts, type });
  }

  // ----------------------------------------------------------------------- state

  /** VFIO_TYPE1v2_IOMMU semantics (else v1). */
  get v2(): boolean {
    return this.st.v2;
  }

  get mm(): UserMm {
    return this.st.mm;
  }

  get unmapMode(): UnmapMode {
    return this.st.unmapMode;
  }

  /** Calls into the IOMMU core, counted (see {@link VfioCounters}). */
  get vfioCounters(): VfioCounters {
    return this.st.vfioCounters;
  }

  /** Where kernel WARNs (and BUGs) are counted. */
  get counters(): IommuCounters {
    return this.st.counters;
  }

  /** `domain_list`: the head is the "first domain" unmap and replay read back from. */
  get domainList(): readonly VfioDomain[] {
    return this.st.domainList;
  }

  /** `dma_avail`: mappings still allowed by `dma_entry_limit`. */
  get dmaAvail(): number {
    return this.st.dmaAvail;
  }

  /** `vaddr_invalid_count`: mappings whose vaddr was invalidated (UNMAP_DMA with FLAG_VADDR). */
  get vaddrInvalidCount(): number {
    return this.st.vaddrInvalidCount;
  }

  /** `pgsize_bitmap`: PAGE_MASK until a domain is attached, then the AND over domains. */
  get pgsizeBitmap(): number {
    return this.st.pgsizeBitmap;
  }

  /** Smallest IOMMU page size type1 accepts (`1 << __ffs(pgsize_bitmap)`). */
  get minPageSize(): number {
    return this.st.minPageSize;
  }

  /** `dirty_page_tracking` */
  get dirtyPageTracking(): boolean {
    return this.st.dirtyPageTracking;
  }

  /** `num_non_pinned_groups`: IOMMU-backed groups that may dirty any page. */
  get numNonPinnedGroups(): number {
    return this.st.numNonPinnedGroups;
  }

  // ---------------------------------------------------------------------- ioctls

  /** `VFIO_IOMMU_MAP_DMA`: 0 or -errno. */
  mapDma(map: VfioDmaMap): number {
    return vfioDmaDoMap(this.st, map);
  }

  /** `VFIO_IOMMU_UNMAP_DMA`: 0 or -errno; on success `unmap.size` = bytes unmapped. */
  unmapDma(unmap: VfioDmaUnmap): number {
    return vfioIommuType1UnmapDma(this.st, unmap);
  }

  /** `VFIO_IOMMU_DIRTY_PAGES`: START / STOP / GET_BITMAP; 0 or -errno. */
  dirtyPages(req: VfioDirtyBitmap): number {
    return vfioIommuType1DirtyPages(this.st, req);
  }

  /** `VFIO_IOMMU_GET_INFO` with its capability chain; -EINVAL when argsz is too small. */
  getInfo(argsz = 0x1000): VfioIommuInfo | number {
    if (argsz < VFIO_IOMMU_INFO_MINSZ) return negErrno("EINVAL");
    const info: VfioIommuInfo = {
      flags: VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
      iovaPgsizes: this.st.pgsizeBitmap,
      migration: { flags: 0, pgsizeBitmap: this.st.minPageSize, maxDirtyBitmapSize: DIRTY_BITMAP_SIZE_MAX },
      dmaAvail: this.st.dmaAvail,
    };
    if (this.st.iovaList.length)
      info.iovaRanges = this.st.iovaList.map((w) => ({ start: w.start, end: w.end }));
    return info;
  }

  /** `VFIO_CHECK_EXTENSION` */
  checkExtension(arg: number): number {
    switch (arg) {
      case VFIO_TYPE1_IOMMU:
      case VFIO_TYPE1v2_IOMMU:
      case VFIO_UNMAP_ALL:
        return 1;
      case VFIO_UPDATE_VADDR:
        // mdev devices cannot pin or access memory safely while vaddrs are being replaced.
        return this.st.emulatedGroups.length ? 0 : 1;
      case VFIO_DMA_CC_IOMMU:
        return this.st.domainList.every((d) => d.enforceCacheCoherency) ? 1 : 0;
      default:
        return 0;
    }
  }

  // ------------------------------------------------------ emulated IOMMU (mdev) side

  /** `vfio_iommu_type1_register_device` (devices without dma_unmap are not tracked). */
  registerDevice(device: VfioEmulatedDevice): void {
    this.st.devices.unshift(device);
  }

  /** `vfio_iommu_type1_unregister_device` */
  unregisterDevice(device: VfioEmulatedDevice): void {
    const i = this.st.devices.indexOf(device);
    if (i >= 0) this.st.devices.splice(i, 1);
  }

  /** `vfio_pin_pages`: frames into `pages`; npage or -errno. */
  pinPages(groupId: number, iova: number, npage: number, prot: number, pages: Float64Array): number {
    return vfioIommuType1PinPages(this.st, groupId, iova, npage, prot, pages);
  }

  /**
   * `vfio_dma_rw`: copy between `data` and the user memory behind [iova, iova + length) —
   * what an emulated device does instead of DMA. 0 or -errno.
   */
  dmaRw(iova: number, data: Uint8Array, write: boolean): number {
    return vfioIommuType1DmaRw(this.st, iova, data, write);
  }

  /** `vfio_unpin_pages` */
  unpinPages(iova: number, npage: number): void {
    vfioIommuType1UnpinPages(this.st, iova, npage);
  }

  // ------------------------------------------------------------- groups, release

  /** Whether group `id` is attached (IOMMU-backed or emulated). */
  hasGroup(id: number): boolean {
    return findGroup(this.st, id) !== undefined;
  }

  /** `vfio_iommu_type1_attach_group`: 0 or -errno, nothing changed on failure. */
  attachGroup(groupId: number, opts: VfioAttachOptions = {}): number {
    return vfioIommuType1AttachGroup(this.st, groupId, opts);
  }

  /** `vfio_iommu_type1_detach_group`; false when the group is not attached (a kernel no-op). */
  detachGroup(groupId: number): boolean {
    return vfioIommuType1DetachGroup(this.st, groupId);
  }

  /** `vfio_iommu_type1_release`: unmap and unpin everything, free every domain. */
  release(): void {
    vfioIommuType1Release(this.st);
  }

  // ------------------------------------------------------------------------ views

  /** Mappings in iova order. */
  dmaList(): VfioDmaInfo[] {
    return this.st.dmas.items.map((d) => ({
      iova: d.iova,
      size: d.size,
      vaddr: d.vaddr,
      prot: d.prot,
      lockedVm: d.lockedVm,
      iommuMapped: d.iommuMapped,
      vaddrInvalid: d.vaddrInvalid,
    }));
  }

  /** The IOVA windows (`iova_list`). */
  iovaRanges(): IovaWindow[] {
    return copyWindows(this.st.iovaList);
  }

  /** Domains in `domain_list` order. */
  domains(): IommuDomain[] {
    return this.st.domainList.map((d) => d.domain);
  }

  /** Group ids of each domain, in `domain_list` order. */
  groupsOf(): number[][] {
    return this.st.domainList.map((d) => d.groups.map((g) => g.id));
  }
}
