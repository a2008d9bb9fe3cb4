import {
  type IommuDomain,
  IommuError,
  type IotlbGather,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuIovaToPhysRuns,
  iommuMap,
  iommuUnmap,
  iommuUnmapFast,
  type PhysLength,
  type PhysRunVisitor,
} from "@iommu/core";
import type { VfioCounters } from "./counters.js";

/**
 * The IOMMU core entry points type1 uses, counted into the container's {@link VfioCounters}.
 * The core bumps the domain's own counters; we add the per-call difference, so the result is
 * right whether or not domains share one IommuCounters object. Lookups are counted here.
 */
export class IommuCalls {
  constructor(readonly counters: VfioCounters) {}

  /** `iommu_map()`: 0 or -errno (the core has already rolled a failure back). */
  map(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
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
    this.counters.unmapCalls += c.unmapCalls - uc;
    this.counters.iotlbSync += c.syncs - sy;
    return ret;
  }

  /** `iommu_unmap()`: bytes unmapped (size_t-style number). */
  unmap(domain: IommuDomain, iova: number, size: number): number {
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
  unmapFast(domain: IommuDomain, iova: number, size: number, gather: IotlbGather): number {
    const c = domain.counters;
    const up = c.unmapPagesCalls;
    const sy = c.syncs;
    this.counters.unmapCalls++;
    this.counters.unmapFast++;
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

  /** `iommu_iova_to_phys()`: the physical address, 0 when unmapped. */
  iovaToPhys(domain: IommuDomain, iova: number): number {
    this.counters.iovaToPhys++;
    const p = iommuIovaToPhys(domain, iova);
    return typeof p === "number" ? p : Number(p);
  }

  /** `iommu_iova_to_phys_length()` into a reused record. */
  iovaToPhysLength(domain: IommuDomain, iova: number, out: PhysLength): PhysLength {
    this.counters.iovaToPhys++;
    return iommuIovaToPhysLength(domain, iova, out);
  }

  /** Model-only (issue 17): one range lookup, runs of [iova, iova + size) to `visit`; counts one lookup. */
  iovaToPhysRuns(domain: IommuDomain, iova: number, size: number, visit: PhysRunVisitor): number {
    this.counters.iovaToPhys++;
    return iommuIovaToPhysRuns(domain, iova, size, visit);
  }
}
