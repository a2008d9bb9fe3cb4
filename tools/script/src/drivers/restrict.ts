/**
 * A driver instance seen through a narrower hardware description: the domains of `inner`,
 * with an input address size and a page-size mask applied to each finished domain (its
 * aperture and the page sizes the core may use), as a platform that wires fewer IOVA bits or
 * page sizes than the IOMMU supports would. The domains keep `inner`'s ops table, so every
 * restricted view of one instance is the same driver to VFIO type1.
 */
import {
  and64,
  type IommuCap,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDriver,
  negErrno,
} from "@iommu/core";

export interface DriverRestriction {
  /** Input address bits: the aperture becomes [start, 2^min(ias, maxIas) − 1]. */
  readonly ias?: number;
  /** The largest ias the driver's tables translate (default 48). */
  readonly maxIas?: number;
  /** Page sizes the domains may use: ANDed with each domain's; -ENOMEM when no PAGE_SIZE leaf is left. */
  readonly pgsizes?: number;
  /** Where the domains' kernel WARNs go (set as their counters' `onWarn`). */
  readonly warn?: (message: string) => void;
}

export function restrictDriver<D extends IommuDomain>(
  inner: IommuDriver<D>,
  r: DriverRestriction,
): IommuDriver<D> {
  return {
    name: inner.name,
    get pgsizeBitmap() {
      return r.pgsizes === undefined ? inner.pgsizeBitmap : and64(inner.pgsizeBitmap, r.pgsizes);
    },
    capable: (cap: IommuCap) => inner.capable(cap),
    domainAllocPagingFlags(flags: number, options?: IommuDomainAllocOptions): D | number {
      const domain = inner.domainAllocPagingFlags(flags, options);
      if (typeof domain === "number") return domain;
      const warn = r.warn;
      if (warn) domain.counters.onWarn = (message) => warn(message);
      if (r.pgsizes !== undefined) {
        const bitmap = and64(domain.pgsizeBitmap, r.pgsizes);
        // Without a 4 KiB page (the CPU's PAGE_SIZE) the domain is useless to the core.
        if (bitmap % 0x2000 !== 0x1000) {
          domain.ops?.free?.(domain);
          return negErrno("ENOMEM");
        }
        domain.pgsizeBitmap = bitmap;
      }
      if (r.ias !== undefined) domain.geometry.apertureEnd = 2 ** Math.min(r.ias, r.maxIas ?? 48) - 1;
      return domain;
    },
  };
}
