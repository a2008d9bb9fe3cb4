// drivers/iommu/iommu.c entry points (iommu_map, iommu_unmap, iommu_unmap_fast, iommu_iotlb_sync,
// iommu_iova_to_phys, iommu_iova_to_phys_length) as a caller (VFIO type1, iommufd) makes them,
// counted at the caller.
import type { Addr } from "./addr.js";
import type { IommuDomain } from "./domain.js";
import { IommuError } from "./errno.js";
import type { IotlbGather } from "./gather.js";
import {
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  iommuUnmapFast,
} from "./iommu.js";
import type { PhysLength } from "./phys-length.js";
import { iommuIovaToPhysRuns, type PhysRunVisitor } from "./runs.js";

/**
 * Model-only: the counter fields a caller of the IOMMU core keeps for the calls it makes (the
 * kernel has no such counters; the walk-count model compares them). Domains come and go with
 * attach/detach, so the caller counts rather than the domains' IommuCounters.
 */
export interface IommuCallCounterFields {
  /** iommu_iova_to_phys(), iommu_iova_to_phys_length() or range-lookup calls. */
  iovaToPhys: number;
  /** iommu_unmap() + iommu_unmap_fast() calls. */
  unmapCalls: number;
  /** iommu_map() calls. */
  mapCalls: number;
  /** iommu_iotlb_sync() executions: the caller's own plus the one inside every iommu_unmap(). */
  iotlbSync: number;
  /** ops->map_pages / ops->unmap_pages calls made by the core loops. */
  ptMapPages: number;
  ptUnmapPages: number;
}

/** Model-only: options of {@link CountedIommuCalls}. */
export interface CountedIommuCallsOptions {
  /**
   * Count the unroll `iommu_unmap()` inside a failing `iommu_map()` in `unmapCalls` (VFIO's
   * counters do, iommufd's count only the unmaps iommufd itself makes). Default false.
   */
  countMapUnroll?: boolean;
}

/**
 * Model-only: the IOMMU core calls a caller makes, counted into its counters. The core bumps
 * the domain's own IommuCounters; the per-call difference is added here, so the result is right
 * whether or not domains share one IommuCounters object. Lookups are counted one per call.
 * Nothing is allocated per call.
 */
export class CountedIommuCalls<C extends IommuCallCounterFields = IommuCallCounterFields> {
  private readonly countMapUnroll: boolean;

  constructor(
    readonly counters: C,
    options: CountedIommuCallsOptions = {},
  ) {
    this.countMapUnroll = options.countMapUnroll ?? false;
  }

  /** `iommu_map()`: 0 or -errno (the core has already rolled a failure back). */
  map(domain: IommuDomain, iova: Addr, paddr: Addr, size: Addr, prot: number): number {
    const c = domain.counters;
    const mp = c.mapPagesCalls;
    const up = c.unmapPagesCalls;
    const uc = c.unmapCalls;
    const sy = c.syncs;
    this.counters.mapCalls++;
    let ret = 0;
    try {
      iommuMap(domain, iova, paddr, size, prot);
    } catch (e) {
      if (!(e instanceof IommuError)) throw e;
      ret = -e.errno;
    }
    this.counters.ptMapPages += c.mapPagesCalls - mp;
    this.counters.ptUnmapPages += c.unmapPagesCalls - up;
    if (this.countMapUnroll) this.counters.unmapCalls += c.unmapCalls - uc;
    this.counters.iotlbSync += c.syncs - sy;
    return ret;
  }

  /** `iommu_unmap()`: bytes unmapped. */
  unmap(domain: IommuDomain, iova: Addr, size: Addr): number {
    const c = domain.counters;
    const up = c.unmapPagesCalls;
    const sy = c.syncs;
    this.counters.unmapCalls++;
    const n = iommuUnmap(domain, iova, size);
    this.counters.ptUnmapPages += c.unmapPagesCalls - up;
    this.counters.iotlbSync += c.syncs - sy;
    return n;
  }

  /** `iommu_unmap_fast()`: bytes unmapped into `gather`; the caller syncs. */
  unmapFast(domain: IommuDomain, iova: Addr, size: Addr, gather: IotlbGather): number {
    const c = domain.counters;
    const up = c.unmapPagesCalls;
    const sy = c.syncs;
    this.counters.unmapCalls++;
    const n = iommuUnmapFast(domain, iova, size, gather);
    this.counters.ptUnmapPages += c.unmapPagesCalls - up;
    this.counters.iotlbSync += c.syncs - sy;
    return n;
  }

  /** `iommu_iotlb_sync()` */
  sync(domain: IommuDomain, gather: IotlbGather): void {
    this.counters.iotlbSync++;
    iommuIotlbSync(domain, gather);
  }

  /** `iommu_iova_to_phys()`: the physical address, 0 when unmapped (a double: exact below 2^53). */
  iovaToPhys(domain: IommuDomain, iova: Addr): number {
    this.counters.iovaToPhys++;
    const p = iommuIovaToPhys(domain, iova);
    return typeof p === "number" ? p : Number(p);
  }

  /** `iommu_iova_to_phys_length()` into a reused record. */
  iovaToPhysLength(domain: IommuDomain, iova: Addr, out: PhysLength): PhysLength {
    this.counters.iovaToPhys++;
    return iommuIovaToPhysLength(domain, iova, out);
  }

  /** Model-only (issue 17): one range lookup, runs of [iova, iova + size) to `visit`; counts one lookup. */
  iovaToPhysRuns(domain: IommuDomain, iova: Addr, size: Addr, visit: PhysRunVisitor): number {
    this.counters.iovaToPhys++;
    return iommuIovaToPhysRuns(domain, iova, size, visit);
  }
}
