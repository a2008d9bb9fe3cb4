/**
 * `struct vfio_iommu` and the type1 driver ops (drivers/vfio/vfio_iommu_type1.c): the
 * container a user process gets from VFIO_SET_IOMMU, its ioctls and group attach/detach.
 *
 * Calling convention follows the kernel: operations return 0 or -errno (bad input is a
 * result, not an exception) and never leave half-done state behind.
 */
import {
  and64,
  ffs,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  type IommuDomain,
  IommuError,
  negErrno,
  or64,
  PAGE_SIZE,
  toBigInt,
} from "@iommu/core";
import type { Type1Context, UnmapMode, VfioDomain, VfioIommuGroup } from "./context.js";
import { VfioCounters } from "./counters.js";
import { bitmapClear, bitmapSet, dmaBitmapAlloc, dmaPopulateBitmap, updateUserBitmap } from "./dirty.js";
import { DmaList, VfioDma } from "./dma.js";
import { pinPageExternal, unpinPageExternal } from "./external-pins.js";
import { IommuCalls } from "./iommu-calls.js";
import {
  aperConflict,
  aperResize,
  copyWindows,
  type IommuResvRegion,
  type IovaWindow,
  iovaDmaValid,
  resvConflict,
  resvExclude,
} from "./iova-list.js";
import type { UserMm } from "./mm.js";
import { batchUnpin, PfnOut, pinPagesRemote, unpinPagesRemote, VfioBatch, vfioLockAcct } from "./pin.js";
import { vfioIommuReplay } from "./replay.js";
import {
  __VFIO_RESERVED_TYPE1_NESTING_IOMMU,
  DIRTY_BITMAP_SIZE_MAX,
  VFIO_BITMAP_SIZE,
  VFIO_DIRTY_BITMAP_GET_SIZE,
  VFIO_DIRTY_PAGES_MINSZ,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_ARGSZ,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_ARGSZ,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_MINSZ,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
  type VfioBitmap,
  type VfioDirtyBitmap,
  type VfioDmaMap,
  type VfioDmaUnmap,
  type VfioIommuInfo,
} from "./uapi.js";
import { vfioUnmapUnpin } from "./unmap-unpin.js";

/** `PAGE_MASK` as a 64-bit bitmap number (exact: a multiple of 4 KiB). */
export const PAGE_MASK_BITMAP = 2 ** 64 - PAGE_SIZE;
/** The `dma_entry_limit` module parameter's default (U16_MAX). */
export const DEFAULT_DMA_ENTRY_LIMIT = 65535;

const U64_MAX = (1n << 64n) - 1n;

/** What a group attach asks of the domain provider. */
export interface VfioDomainRequest {
  /** The iommu_group being attached. */
  readonly group: number;
  /** Which IOMMU driver sits behind the group's device: the provider's key for an ops table. */
  readonly driver: number | string;
  /** Driver-specific knobs (input address size, page-size restriction...). */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Where domains come from: `iommu_paging_domain_alloc()` for the group's device. The
 * returned domain's `ops` object is its driver identity: type1 puts groups whose new domain
 * has the same ops into one existing domain.
 */
export interface VfioDomainProvider {
  allocDomain(request: VfioDomainRequest): IommuDomain | number;
}

/** Per-attach properties of the group (defaults: a new driver per group, isolated MSI, no reserved regions). */
export interface VfioAttachOptions {
  driver?: number | string;
  options?: Record<string, unknown>;
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
  provider: VfioDomainProvider;
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

/** `verify_bitmap_size`: a nonzero bitmap, within DIRTY_BITMAP_SIZE_MAX, big enough for npages bits. */
function verifyBitmapSize(npages: bigint, bytes: bigint): boolean {
  return (
    npages > 0n &&
    bytes > 0n &&
    bytes <= BigInt(DIRTY_BITMAP_SIZE_MAX) &&
    bytes >= ((npages + 63n) / 64n) * 8n
  );
}

/** The user's u64 words as 32-bit words (the same memory on a little-endian machine). */
function userBitmap(bm: VfioBitmap): Uint32Array {
  const data = bm.data ?? new BigUint64Array(0);
  return new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
}

function isAligned(x: bigint, pgsize: bigint): boolean {
  return (x & (pgsize - 1n)) === 0n;
}

/**
 * A VFIO type1 container. Create it with {@link VfioIommu.open} (the kernel's `open`, which
 * validates the type) or the constructor.
 */
export class VfioIommu implements Type1Context {
  readonly mm: UserMm;
  readonly v2: boolean;
  readonly counters: IommuCounters;
  readonly vfioCounters: VfioCounters;
  readonly calls: IommuCalls;
  readonly unmapMode: UnmapMode;
  readonly disableHugepages: boolean;
  readonly allowUnsafeInterrupts: boolean;
  private readonly provider: VfioDomainProvider;

  private readonly domainsList: VfioDomain[] = [];
  private iovaList: IovaWindow[] = [];
  private readonly dmas = new DmaList();
  private avail: number;
  private invalidVaddrs = 0;
  private bitmap = PAGE_MASK_BITMAP;
  private nonPinnedGroups = 0;
  /** `emulated_iommu_groups` (mdev: no IOMMU domain of their own). */
  private readonly emulatedGroups: VfioIommuGroup[] = [];
  /** `device_list`: emulated-IOMMU devices that must drop their pins on unmap. */
  private readonly devices: VfioEmulatedDevice[] = [];
  /** `dirty_page_tracking` (VFIO_IOMMU_DIRTY_PAGES START/STOP). */
  private tracking = false;
  private released = false;

  constructor(opts: VfioIommuOptions) {
    const type = opts.type ?? VFIO_TYPE1v2_IOMMU;
    if (
      type !== VFIO_TYPE1_IOMMU &&
      type !== VFIO_TYPE1v2_IOMMU &&
      type !== __VFIO_RESERVED_TYPE1_NESTING_IOMMU
    )
      throw new IommuError("EINVAL", "vfio_iommu_type1_open", { type });
    this.v2 = type !== VFIO_TYPE1_IOMMU;
    this.mm = opts.mm;
    this.provider = opts.provider;
    this.avail = opts.dmaEntryLimit ?? DEFAULT_DMA_ENTRY_LIMIT;
    this.disableHugepages = opts.disableHugepages ?? false;
    this.allowUnsafeInterrupts = opts.allowUnsafeInterrupts ?? false;
    this.unmapMode = opts.unmapMode ?? "legacy";
    this.vfioCounters = opts.counters ?? new VfioCounters();
    this.counters = opts.warnCounters ?? opts.mm.counters;
    this.calls = new IommuCalls(this.vfioCounters);
  }

  /** `vfio_iommu_type1_open(arg)`: the container, or -EINVAL for an unknown type. */
  static open(type: number, opts: Omit<VfioIommuOptions, "type">): VfioIommu | number {
    if (
      type !== VFIO_TYPE1_IOMMU &&
      type !== VFIO_TYPE1v2_IOMMU &&
      type !== __VFIO_RESERVED_TYPE1_NESTING_IOMMU
    )
      return negErrno("EINVAL");
    return new VfioIommu({ ...opts, type });
  }

  /** `domain_list`: the head is the "first domain" unmap and replay read back from. */
  get domainList(): readonly VfioDomain[] {
    return this.domainsList;
  }

  /** `dma_avail`: mappings still allowed by `dma_entry_limit`. */
  get dmaAvail(): number {
    return this.avail;
  }

  /** `vaddr_invalid_count`: mappings whose vaddr was invalidated (UNMAP_DMA with FLAG_VADDR). */
  get vaddrInvalidCount(): number {
    return this.invalidVaddrs;
  }

  /** `pgsize_bitmap`: PAGE_MASK until a domain is attached, then the AND over domains. */
  get pgsizeBitmap(): number {
    return this.bitmap;
  }

  /** `dirty_page_tracking` */
  get dirtyPageTracking(): boolean {
    return this.tracking;
  }

  /** `num_non_pinned_groups`: IOMMU-backed groups that may dirty any page. */
  get numNonPinnedGroups(): number {
    return this.nonPinnedGroups;
  }

  /** Smallest IOMMU page size type1 accepts (`1 << __ffs(pgsize_bitmap)`). */
  get minPageSize(): number {
    // Domains with disjoint page sizes leave an empty bitmap (the kernel's __ffs(0) is
    // undefined); the model falls back to PAGE_SIZE.
    return this.bitmap === 0 ? PAGE_SIZE : 2 ** ffs(this.bitmap);
  }

  private get memlockLimit(): number {
    return this.mm.memlockLimitPages;
  }

  // ---------------------------------------------------------------- VFIO_IOMMU_MAP_DMA

  /** `VFIO_IOMMU_MAP_DMA` (`vfio_iommu_type1_map_dma` → `vfio_dma_do_map`): 0 or -errno. */
  mapDma(map: VfioDmaMap): number {
    const argsz = map.argsz ?? VFIO_DMA_MAP_ARGSZ;
    const mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR;
    if (argsz < VFIO_DMA_MAP_ARGSZ || map.flags & ~mask) return negErrno("EINVAL");
    const setVaddr = (map.flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0;
    const iova = toBigInt(map.iova);
    const vaddr = toBigInt(map.vaddr);
    const size = toBigInt(map.size);
    if (iova < 0n || vaddr < 0n || size < 0n || iova > U64_MAX || vaddr > U64_MAX || size > U64_MAX)
      return negErrno("EOVERFLOW");
    if (size === 0n) return negErrno("EINVAL");
    if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX) return negErrno("EOVERFLOW");
    let prot = 0;
    if (map.flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
    if (map.flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
    if ((prot && setVaddr) || (!prot && !setVaddr)) return negErrno("EINVAL");
    const pgsize = BigInt(this.minPageSize);
    if (!isAligned(size | iova | vaddr, pgsize)) return negErrno("EINVAL");

    // Page aligned from here on: exact as numbers.
    const iovaN = Number(iova);
    const sizeN = Number(size);
    const vaddrN = Number(vaddr);
    const found = this.dmas.find(iovaN, sizeN);
    if (setVaddr) {
      if (!found) return negErrno("ENOENT");
      if (!found.vaddrInvalid || found.iova !== iovaN || found.size !== sizeN) return negErrno("EINVAL");
      // vfio_change_dma_owner: same mm in this single-process model, nothing to move.
      found.vaddr = vaddrN;
      found.vaddrInvalid = false;
      this.invalidVaddrs--;
      return 0;
    }
    if (found) return negErrno("EEXIST");
    if (!this.avail) return negErrno("ENOSPC");
    if (!iovaDmaValid(this.iovaList, iova, iova + size - 1n)) return negErrno("EINVAL");

    this.avail--;
    const dma = new VfioDma(iovaN, vaddrN, prot, this.mm.capIpcLock);
    this.dmas.link(dma);
    let ret = 0;
    if (this.domainsList.length === 0) dma.size = sizeN;
    else ret = this.pinMapDma(dma, sizeN);
    if (!ret && this.tracking) {
      ret = dmaBitmapAlloc(dma, this.minPageSize);
      if (ret) this.removeDma(dma);
    }
    return ret;
  }

  /** `vfio_pin_map_dma`: pin contiguous chunks and map each into every domain. */
  private pinMapDma(dma: VfioDma, mapSize: number): number {
    const batch = new VfioBatch(this.disableHugepages);
    const pfn = new PfnOut();
    const limit = this.memlockLimit;
    let size = mapSize;
    let ret = 0;
    while (size) {
      const npage = pinPagesRemote(this, dma, dma.vaddr + dma.size, size / PAGE_SIZE, pfn, limit, batch);
      if (npage <= 0) {
        if (npage === 0) this.counters.warn("vfio_pin_map_dma: pinned nothing (WARN_ON(!npage))");
        ret = npage;
        break;
      }
      ret = this.iommuMapAll(dma.iova + dma.size, pfn.value, npage, dma.prot);
      if (ret) {
        unpinPagesRemote(this, dma, dma.iova + dma.size, pfn.value, npage, true);
        batchUnpin(this, batch);
        break;
      }
      size -= npage * PAGE_SIZE;
      dma.size += npage * PAGE_SIZE;
    }
    dma.iommuMapped = true;
    if (ret) this.removeDma(dma);
    return ret;
  }

  /** `vfio_iommu_map`: one iommu_map() per domain; a failure unmaps the domains already done. */
  private iommuMapAll(iova: number, pfn: number, npage: number, prot: number): number {
    const list = this.domainList;
    for (let i = 0; i < list.length; i++) {
      const ret = this.calls.map(
        list[i]!.domain,
        iova,
        pfn * PAGE_SIZE,
        npage * PAGE_SIZE,
        prot | IOMMU_CACHE,
      );
      if (ret) {
        for (let j = i - 1; j >= 0; j--) this.calls.unmap(list[j]!.domain, iova, npage * PAGE_SIZE);
        return ret;
      }
    }
    return 0;
  }

  /** `vfio_remove_dma` */
  private removeDma(dma: VfioDma): void {
    if (dma.pfnList.size) this.counters.warn("vfio_remove_dma: pages still pinned by a device");
    vfioUnmapUnpin(this, dma, true);
    this.dmas.unlink(dma);
    dma.bitmap = null;
    if (dma.vaddrInvalid) this.invalidVaddrs--;
    this.avail++;
  }

  // -------------------------------------------------------------- VFIO_IOMMU_UNMAP_DMA

  /**
   * `VFIO_IOMMU_UNMAP_DMA` (`vfio_iommu_type1_unmap_dma` → `vfio_dma_do_unmap`): 0 or
   * -errno; on success `unmap.size` is set to the bytes unmapped (always whole mappings).
   */
  unmapDma(unmap: VfioDmaUnmap): number {
    const mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
    const getDirty = (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) !== 0;
    const argsz = unmap.argsz ?? VFIO_DMA_UNMAP_ARGSZ + (getDirty ? VFIO_BITMAP_SIZE : 0);
    if (argsz < VFIO_DMA_UNMAP_ARGSZ || unmap.flags & ~mask) return negErrno("EINVAL");
    if (getDirty && unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR))
      return negErrno("EINVAL");
    const iova = toBigInt(unmap.iova);
    const size = toBigInt(unmap.size);
    if (iova < 0n || size < 0n || iova > U64_MAX || size > U64_MAX) return negErrno("EOVERFLOW");
    let bitmapPgsize = 0n;
    if (getDirty) {
      const bm = unmap.bitmap;
      if (argsz < VFIO_DMA_UNMAP_ARGSZ + VFIO_BITMAP_SIZE || !bm) return negErrno("EINVAL");
      bitmapPgsize = toBigInt(bm.pgsize);
      if (bitmapPgsize <= 0n) return negErrno("EINVAL");
      if (!verifyBitmapSize(size >> BigInt(ffs(Number(bitmapPgsize & -bitmapPgsize))), toBigInt(bm.size)))
        return negErrno("EINVAL");
    }
    const r = this.doUnmap(
      unmap.flags,
      iova,
      size,
      getDirty ? userBitmap(unmap.bitmap!) : null,
      bitmapPgsize,
    );
    if (r.ret) return r.ret;
    unmap.size = r.unmapped;
    return 0;
  }

  private doUnmap(
    flags: number,
    iova: bigint,
    size: bigint,
    user: Uint32Array | null,
    bitmapPgsize: bigint,
  ): { ret: number; unmapped: number } {
    const getDirty = user !== null;
    const unmapAll = (flags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0;
    const invalidateVaddr = (flags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0;
    const fail = (ret: number) => ({ ret, unmapped: 0 });
    // mdev devices cannot pin or access memory while a vaddr is being replaced.
    if (invalidateVaddr && this.emulatedGroups.length) return fail(negErrno("EBUSY"));
    const pgsize = BigInt(this.minPageSize);
    if (iova & (pgsize - 1n)) return fail(negErrno("EINVAL"));
    let endExcl: number;
    if (unmapAll) {
      if (iova || size) return fail(negErrno("EINVAL"));
      endExcl = 2 ** 64;
    } else {
      if (!size || size & (pgsize - 1n)) return fail(negErrno("EINVAL"));
      if (iova + size - 1n > U64_MAX) return fail(negErrno("EOVERFLOW"));
      endExcl = Number(iova + size);
    }
    if (getDirty && (!this.tracking || bitmapPgsize !== pgsize)) return fail(negErrno("EINVAL"));
    const start = Number(iova);
    let unmapped = 0;
    let dmaLast: VfioDma | undefined;
    let retries = 0;
    again: for (;;) {
      if (this.v2 && !unmapAll) {
        // v2: the range may not bisect a mapping at either end.
        let dma = this.dmas.find(start, 1);
        if (dma && dma.iova !== start) return fail(negErrno("EINVAL"));
        dma = this.dmas.find(endExcl - PAGE_SIZE, PAGE_SIZE);
        if (dma && dma.end !== endExcl) return fail(negErrno("EINVAL"));
      }
      const first = this.dmas.firstNode(start, endExcl);
      if (first < 0) break;
      let n = first;
      while (n < this.dmas.length) {
        const dma = this.dmas.items[n]!;
        if (dma.iova >= endExcl) break;
        // v1 compatibility: a mapping starting below the request ends the scan.
        if (!this.v2 && start > dma.iova) break;
        if (invalidateVaddr) {
          if (dma.vaddrInvalid) {
            for (let i = first; i < n; i++) {
              this.dmas.items[i]!.vaddrInvalid = false;
              this.invalidVaddrs--;
            }
            return fail(negErrno("EINVAL"));
          }
          dma.vaddrInvalid = true;
          this.invalidVaddrs++;
          unmapped += dma.size;
          n++;
          continue;
        }
        if (dma.pfnList.size) {
          // Devices must drop their pins first; then the whole scan starts over.
          if (dmaLast === dma) {
            if (++retries > 10) {
              // BUG_ON(++retries > 10): the model stops instead of crashing.
              this.counters.bugs++;
              return fail(negErrno("EBUSY"));
            }
          } else {
            dmaLast = dma;
            retries = 0;
          }
          this.notifyDmaUnmap(dma);
          continue again;
        }
        if (user) {
          const ret = updateUserBitmap(user, dma, start, Number(pgsize), this.allDirty(dma));
          if (ret) return { ret, unmapped };
        }
        unmapped += dma.size;
        this.removeDma(dma);
      }
      break;
    }
    return { ret: 0, unmapped };
  }

  /** `vfio_notify_dma_unmap`: every registered emulated device invalidates the range. */
  private notifyDmaUnmap(dma: VfioDma): void {
    for (const dev of [...this.devices]) dev.dmaUnmap(dma.iova, dma.size);
  }

  /** Every page of a mapped dma is dirty while an IOMMU-backed group cannot report dirtying. */
  private allDirty(dma: VfioDma): boolean {
    return this.nonPinnedGroups > 0 && dma.iommuMapped;
  }

  // ------------------------------------------------------------ VFIO_IOMMU_DIRTY_PAGES

  /**
   * `VFIO_IOMMU_DIRTY_PAGES` (`vfio_iommu_type1_dirty_pages`): START / STOP tracking, or
   * GET_BITMAP of [iova, iova + size) into `range.bitmap.data`. 0 or -errno.
   */
  dirtyPages(req: VfioDirtyBitmap): number {
    if (!this.v2) return negErrno("EACCES");
    const mask =
      VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
      VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
      VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
    const flags = req.flags;
    const argsz = req.argsz ?? VFIO_DIRTY_PAGES_MINSZ + (req.range ? VFIO_DIRTY_BITMAP_GET_SIZE : 0);
    if (argsz < VFIO_DIRTY_PAGES_MINSZ || flags & ~mask) return negErrno("EINVAL");
    // Exactly one flag.
    if (flags === 0 || (flags & (flags - 1)) !== 0) return negErrno("EINVAL");
    const pgsize = this.minPageSize;
    if (flags === VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
      if (this.tracking) return 0;
      for (const dma of this.dmas.items) {
        const ret = dmaBitmapAlloc(dma, pgsize);
        if (ret) {
          for (const d of this.dmas.items) d.bitmap = null;
          return ret;
        }
        dmaPopulateBitmap(dma, pgsize);
      }
      this.tracking = true;
      return 0;
    }
    if (flags === VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
      if (this.tracking) {
        this.tracking = false;
        for (const dma of this.dmas.items) dma.bitmap = null;
      }
      return 0;
    }
    const dataSize = argsz - VFIO_DIRTY_PAGES_MINSZ;
    const range = req.range;
    if (!dataSize || dataSize < VFIO_DIRTY_BITMAP_GET_SIZE || !range) return negErrno("EINVAL");
    const iova = toBigInt(range.iova);
    const size = toBigInt(range.size);
    if (iova < 0n || size < 0n || iova > U64_MAX || size > U64_MAX) return negErrno("EOVERFLOW");
    if (!size) return negErrno("EINVAL");
    if (iova + size - 1n > U64_MAX) return negErrno("EOVERFLOW");
    const bmPgsize = toBigInt(range.bitmap.pgsize);
    if (bmPgsize <= 0n) return negErrno("EINVAL");
    if (!verifyBitmapSize(size >> BigInt(ffs(Number(bmPgsize & -bmPgsize))), toBigInt(range.bitmap.size)))
      return negErrno("EINVAL");
    const pg = BigInt(pgsize);
    if (bmPgsize !== pg || iova & (pg - 1n) || size & (pg - 1n)) return negErrno("EINVAL");
    if (!this.tracking) return negErrno("EINVAL");
    return this.iovaDirtyBitmap(userBitmap(range.bitmap), Number(iova), Number(iova + size), pgsize);
  }

  /** `vfio_iova_dirty_bitmap`: whole dmas only; each dma's bitmap restarts from its device pins. */
  private iovaDirtyBitmap(user: Uint32Array, start: number, endExcl: number, pgsize: number): number {
    let dma = this.dmas.find(start, 1);
    if (dma && dma.iova !== start) return negErrno("EINVAL");
    dma = this.dmas.find(endExcl - PAGE_SIZE, PAGE_SIZE);
    if (dma && dma.end !== endExcl) return negErrno("EINVAL");
    for (const d of this.dmas.items) {
      if (d.iova < start) continue;
      if (d.iova >= endExcl) break;
      const ret = updateUserBitmap(user, d, start, pgsize, this.allDirty(d));
      if (ret) return ret;
      bitmapClear(d.bitmap!, 0, Math.floor(d.size / pgsize));
      dmaPopulateBitmap(d, pgsize);
    }
    return 0;
  }

  // ---------------------------------------------------------------- VFIO_IOMMU_GET_INFO

  /** `VFIO_IOMMU_GET_INFO` with its capability chain; -EINVAL when argsz is too small. */
  getInfo(argsz = 0x1000): VfioIommuInfo | number {
    if (argsz < VFIO_IOMMU_INFO_MINSZ) return negErrno("EINVAL");
    const info: VfioIommuInfo = {
      flags: VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
      iovaPgsizes: this.bitmap,
      migration: { flags: 0, pgsizeBitmap: this.minPageSize, maxDirtyBitmapSize: DIRTY_BITMAP_SIZE_MAX },
      dmaAvail: this.avail,
    };
    if (this.iovaList.length) info.iovaRanges = this.iovaList.map((w) => ({ start: w.start, end: w.end }));
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
        return this.emulatedGroups.length ? 0 : 1;
      case VFIO_DMA_CC_IOMMU:
        return this.domainsList.every((d) => d.enforceCacheCoherency) ? 1 : 0;
      default:
        return 0;
    }
  }

  // ------------------------------------------------------ emulated IOMMU (mdev) side

  /** `vfio_iommu_type1_register_device` (devices without dma_unmap are not tracked). */
  registerDevice(device: VfioEmulatedDevice): void {
    this.devices.unshift(device);
  }

  /** `vfio_iommu_type1_unregister_device` */
  unregisterDevice(device: VfioEmulatedDevice): void {
    const i = this.devices.indexOf(device);
    if (i >= 0) this.devices.splice(i, 1);
  }

  /**
   * `vfio_pin_pages` (`vfio_iommu_type1_pin_pages`): pin `npage` pages from `iova` for the
   * emulated device of `groupId`, frames into `pages`. Returns npage or -errno (nothing left
   * pinned). Pages are charged to locked_vm only when no IOMMU domain has charged them.
   */
  pinPages(groupId: number, iova: number, npage: number, prot: number, pages: Float64Array): number {
    if (npage <= 0 || pages.length < npage) return negErrno("EINVAL");
    if (!this.v2) return negErrno("EACCES");
    if (iova + npage * PAGE_SIZE - 1 >= 2 ** 64) return negErrno("EOVERFLOW");
    if (this.invalidVaddrs) {
      this.counters.warn("vfio_pin_pages not allowed with VFIO_UPDATE_VADDR");
      return negErrno("EBUSY");
    }
    if (this.devices.length === 0) return negErrno("EINVAL");
    const group = this.findGroup(groupId)?.group;
    // The kernel dereferences the group unchecked; an unknown group would oops.
    if (!group) return negErrno("EINVAL");
    const doAccounting = this.domainsList.length === 0;
    let i = 0;
    let ret = 0;
    for (; i < npage; i++) {
      const at = iova + PAGE_SIZE * i;
      const dma = this.dmas.find(at, PAGE_SIZE);
      if (!dma) {
        ret = negErrno("EINVAL");
        break;
      }
      if ((dma.prot & prot) !== prot) {
        ret = negErrno("EPERM");
        break;
      }
      const vpfn = dma.pfnList.get(at);
      if (vpfn) {
        vpfn.refCount++;
        pages[i] = vpfn.pfn;
        continue;
      }
      const pfn = pinPageExternal(this, dma, dma.vaddr + (at - dma.iova), doAccounting);
      if (pfn < 0) {
        ret = pfn;
        break;
      }
      dma.pfnList.set(at, { iova: at, pfn, refCount: 1 });
      pages[i] = pfn;
      if (this.tracking) bitmapSet(dma.bitmap!, Math.floor((at - dma.iova) / this.minPageSize), 1);
    }
    if (ret) {
      pages[i] = 0;
      for (let j = 0; j < i; j++) {
        const at = iova + PAGE_SIZE * j;
        const dma = this.dmas.find(at, PAGE_SIZE)!;
        unpinPageExternal(this, dma, at, doAccounting);
        pages[j] = 0;
      }
      return ret;
    }
    if (!group.pinnedPageDirtyScope) {
      group.pinnedPageDirtyScope = true;
      this.nonPinnedGroups--;
    }
    return npage;
  }

  /** `vfio_unpin_pages` (`vfio_iommu_type1_unpin_pages`); misuse is a WARN and does nothing. */
  unpinPages(iova: number, npage: number): void {
    if (!this.v2 || npage <= 0 || iova + npage * PAGE_SIZE - 1 >= 2 ** 64) {
      this.counters.warn("vfio_unpin_pages: bad arguments");
      return;
    }
    const doAccounting = this.domainsList.length === 0;
    let i = 0;
    for (; i < npage; i++) {
      const at = iova + PAGE_SIZE * i;
      const dma = this.dmas.find(at, PAGE_SIZE);
      if (!dma) break;
      unpinPageExternal(this, dma, at, doAccounting);
    }
    if (i !== npage) this.counters.warn("vfio_unpin_pages: range not mapped");
  }

  // ----------------------------------------------------------------- attach / detach

  /** `vfio_iommu_find_iommu_group`: the group in a domain, or among the emulated groups. */
  private findGroup(id: number): { domain: VfioDomain | null; group: VfioIommuGroup } | undefined {
    for (const domain of this.domainsList) {
      const group = domain.groups.find((g) => g.id === id);
      if (group) return { domain, group };
    }
    const group = this.emulatedGroups.find((g) => g.id === id);
    return group ? { domain: null, group } : undefined;
  }

  /** Whether group `id` is attached (IOMMU-backed or emulated). */
  hasGroup(id: number): boolean {
    return this.findGroup(id) !== undefined;
  }

  /**
   * `vfio_iommu_type1_attach_group`: allocate a domain for the group; join an existing
   * domain of the same driver (no replay) or add the new one at the head of the domain list
   * after replaying every mapping into it. 0 or -errno, nothing changed on failure.
   */
  attachGroup(groupId: number, opts: VfioAttachOptions = {}): number {
    if (this.invalidVaddrs) return negErrno("EBUSY");
    if (this.findGroup(groupId)) return negErrno("EINVAL");
    const resvRegions = opts.resvRegions ?? [];
    if (opts.emulated) {
      // An emulated IOMMU group only reaches memory through vfio_pin_pages/dma_rw, so it is
      // dirty-tracking scoped from the start.
      this.emulatedGroups.unshift({ id: groupId, pinnedPageDirtyScope: true, resvRegions: [] });
      return 0;
    }
    const group: VfioIommuGroup = { id: groupId, pinnedPageDirtyScope: false, resvRegions };
    const alloc = this.provider.allocDomain({
      group: groupId,
      driver: opts.driver ?? groupId,
      options: opts.options ?? {},
    });
    if (typeof alloc === "number") return alloc < 0 ? alloc : negErrno("ENOMEM");
    const domain: VfioDomain = { domain: alloc, groups: [], enforceCacheCoherency: false };
    const freeNew = (ret: number) => {
      iommuDomainFree(alloc);
      return ret;
    };
    const geo = alloc.geometry;
    const apStart = toBigInt(geo.apertureStart);
    const apEnd = toBigInt(geo.apertureEnd);
    if (aperConflict(this.iovaList, this.dmas, apStart, apEnd)) return freeNew(negErrno("EINVAL"));
    if (resvConflict(this.dmas, resvRegions)) return freeNew(negErrno("EINVAL"));
    const iovaCopy = copyWindows(this.iovaList);
    aperResize(iovaCopy, apStart, apEnd);
    const ex = resvExclude(iovaCopy, resvRegions);
    if (ex) return freeNew(ex);
    // A SW_MSI region would get iommu_get_msi_cookie(): nothing to model.
    domain.groups.push(group);
    if (!this.allowUnsafeInterrupts && opts.isolatedMsi === false) return freeNew(negErrno("EPERM"));

    const same = this.domainsList.find(
      (d) => d.domain.ops === alloc.ops && d.enforceCacheCoherency === domain.enforceCacheCoherency,
    );
    if (same) {
      same.groups.push(group);
      iommuDomainFree(alloc);
    } else {
      const ret = vfioIommuReplay(this, domain, this.dmas, this.memlockLimit);
      if (ret) return freeNew(ret);
      this.domainsList.unshift(domain);
      this.updatePgsizeBitmap();
    }
    this.iovaList = iovaCopy;
    this.nonPinnedGroups++;
    return 0;
  }

  /**
   * `vfio_iommu_type1_detach_group`. Detaching the last group of the last domain unmaps and
   * unpins every mapping. Returns false when the group is not attached (the kernel does
   * nothing then).
   */
  detachGroup(groupId: number): boolean {
    const found = this.findGroup(groupId);
    if (!found) return false;
    const { domain, group } = found;
    if (!domain) {
      this.emulatedGroups.splice(this.emulatedGroups.indexOf(group), 1);
      if (this.emulatedGroups.length === 0 && this.domainsList.length === 0) {
        if (this.devices.length) this.counters.warn("vfio detach: emulated devices still registered");
        this.unmapUnpinAll();
      }
      return true;
    }
    const iovaCopy = copyWindows(this.iovaList);
    domain.groups.splice(domain.groups.indexOf(group), 1);
    if (domain.groups.length === 0) {
      if (this.domainsList.length === 1) {
        if (this.emulatedGroups.length === 0) {
          if (this.devices.length) this.counters.warn("vfio detach: emulated devices still registered");
          this.unmapUnpinAll();
        } else this.unmapUnpinReaccount();
      }
      iommuDomainFree(domain.domain);
      this.domainsList.splice(this.domainsList.indexOf(domain), 1);
      this.aperExpand(iovaCopy);
      this.updatePgsizeBitmap();
    }
    if (this.resvRefresh(iovaCopy) === 0) this.iovaList = iovaCopy;
    if (!group.pinnedPageDirtyScope) {
      this.nonPinnedGroups--;
      // vfio_iommu_populate_bitmap_full: the group may have dirtied anything until now.
      if (this.tracking)
        for (const dma of this.dmas.items) bitmapSet(dma.bitmap!, 0, Math.floor(dma.size / this.minPageSize));
    }
    return true;
  }

  /** `vfio_iommu_aper_expand`: the removed domain may have been the narrowest. */
  private aperExpand(list: IovaWindow[]): void {
    if (list.length === 0) return;
    let start = 0n;
    let end = U64_MAX;
    for (const d of this.domainList) {
      const s = toBigInt(d.domain.geometry.apertureStart);
      const e = toBigInt(d.domain.geometry.apertureEnd);
      if (s > start) start = s;
      if (e < end) end = e;
    }
    list[0]!.start = start;
    list[list.length - 1]!.end = end;
  }

  /** `vfio_iommu_resv_refresh`: rebuild the windows from the remaining groups' reserved regions. */
  private resvRefresh(list: IovaWindow[]): number {
    if (list.length === 0) return negErrno("EINVAL");
    const regions: IommuResvRegion[] = [];
    for (const d of this.domainList) for (const g of d.groups) regions.push(...g.resvRegions);
    const start = list[0]!.start;
    const end = list[list.length - 1]!.end;
    list.length = 0;
    aperResize(list, start, end);
    return resvExclude(list, regions);
  }

  /** `vfio_update_pgsize_bitmap`: AND over domains, sub-page sizes folded into PAGE_SIZE. */
  private updatePgsizeBitmap(): void {
    // The kernel starts from ULONG_MAX, whose sub-page bits make an empty list PAGE_MASK.
    let bitmap = PAGE_MASK_BITMAP;
    let first = true;
    for (const d of this.domainList) {
      bitmap = first ? d.domain.pgsizeBitmap : and64(bitmap, d.domain.pgsizeBitmap);
      first = false;
    }
    if (!first && bitmap % PAGE_SIZE !== 0) bitmap = or64(bitmap - (bitmap % PAGE_SIZE), PAGE_SIZE);
    this.bitmap = bitmap;
  }

  /** `vfio_iommu_unmap_unpin_all` */
  private unmapUnpinAll(): void {
    while (this.dmas.length) this.removeDma(this.dmas.items[0]!);
  }

  /**
   * `vfio_iommu_unmap_unpin_reaccount`: the last IOMMU domain goes while emulated groups
   * stay. Mappings survive for the mdev devices; only their externally pinned pages stay
   * charged.
   */
  private unmapUnpinReaccount(): void {
    for (const dma of this.dmas.items) {
      const unlocked = vfioUnmapUnpin(this, dma, false);
      vfioLockAcct(this, dma, dma.pfnList.size - unlocked);
    }
  }

  /** `vfio_iommu_type1_release`: unmap and unpin everything, free every domain. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.emulatedGroups.length = 0;
    this.unmapUnpinAll();
    for (const d of this.domainList) {
      d.groups.length = 0;
      iommuDomainFree(d.domain);
    }
    this.domainsList.length = 0;
    this.iovaList = [];
  }

  // ------------------------------------------------------------------------ views

  /** Mappings in iova order. */
  dmaList(): VfioDmaInfo[] {
    return this.dmas.items.map((d) => ({
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
    return copyWindows(this.iovaList);
  }

  /** Domains in `domain_list` order. */
  domains(): IommuDomain[] {
    return this.domainsList.map((d) => d.domain);
  }

  /** Group ids of each domain, in `domain_list` order. */
  groupsOf(): number[][] {
    return this.domainsList.map((d) => d.groups.map((g) => g.id));
  }
}

/** `iommu_domain_free` */
function iommuDomainFree(domain: IommuDomain): void {
  domain.ops?.free?.(domain);
}
