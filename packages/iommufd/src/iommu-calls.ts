// drivers/iommu/iommu.c entry points as iommufd (pages.c) calls them, counted per context.
import {
  type IommuDomain,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  type PhysLength,
} from "@iommu/core";
import type { IommufdCounters } from "./counters.js";

/**
 * The IOMMU core calls pages.c makes, counted into {@link IommufdCounters}. The core bumps the
 * domain's own counters; the per-call difference is added here, so the result is right
 * whether or not domains share one IommuCounters object.
 */
export class IommuCalls {
  constructor(readonly counters: IommufdCounters) {}

  /** `iommu_map(..., GFP_KERNEL_ACCOUNT)`: 0 or -errno (the core has rolled a failure back). */
  map(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
    const c = domain.counters;
    const mp = c.mapPagesCalls;
    const up = c.unmapPagesCalls;
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
    this.counters.iotlbSync += c.syncs - sy;
    return ret;
  }

  /** `iommu_unmap()`: bytes unmapped. */
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
}
