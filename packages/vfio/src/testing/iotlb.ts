/**
 * packages/core/docs/iotlb-model.md (the checker), drivers/vfio/vfio_iommu_type1.c (the
 * caller): an IOMMU driver wrapper that puts every domain it hands to type1 under the core's
 * IOTLB checker. Type1 calls the core itself (`iommu_map`, `iommu_unmap_fast` into its own
 * gather, `iommu_iotlb_sync` every VFIO_IOMMU_TLB_SYNC_MAX regions, `iommu_unmap` on the
 * other domains), so the checker watches the domain's ops: each `map_pages` / `unmap_pages`
 * marks what it changed stale; each `iotlb_sync` (and `iotlb_sync_map`) checks every range
 * changed since the previous one; `flush_iotlb_all` checks everything.
 */
import {
  type IommuDomain,
  type IommuDomainOps,
  type IommuDriver,
  IotlbChecker,
  type IotlbCommandFeed,
  type IotlbGather,
  type IotlbModel,
  type SizeOut,
} from "@iommu/core";

/** What the checked driver builds for each new domain (model and feed of the real driver). */
export type IotlbKit<D extends IommuDomain> = (d: D) => { model: IotlbModel; feed: IotlbCommandFeed };

/** Fault injection for the broken variants. */
export interface IotlbCheckedFaults {
  /** Drop the driver's `iotlb_sync` (the caller's `iommu_iotlb_sync` never reaches it). */
  skipSync?: boolean;
}

/** One checked domain: the checker, and the ranges changed since its last sync. */
export interface CheckedDomain<D extends IommuDomain = IommuDomain> {
  readonly domain: D;
  readonly checker: IotlbChecker;
  /** [iova, size] pairs changed since the last `iotlb_sync`. */
  readonly dirty: [number, number][];
}

/** A driver whose domains are all checked, and the checked domains in allocation order. */
export interface IotlbCheckedDriver<D extends IommuDomain> {
  readonly driver: IommuDriver<D>;
  readonly domains: CheckedDomain<D>[];
  readonly faults: IotlbCheckedFaults;
  /** The checked domain of `d`. */
  of(d: IommuDomain): CheckedDomain<D> | undefined;
}

function num(a: number | bigint): number {
  return typeof a === "number" ? a : Number(a);
}

/**
 * Wrap `driver`: each domain it allocates gets an IOTLB model and feed from `kit` and a
 * checker, and its ops table is replaced by a checking one (one per original table, so
 * domains that shared an ops table still share one and type1's domain reuse is unchanged).
 */
export function iotlbCheckedDriver<D extends IommuDomain>(
  driver: IommuDriver<D>,
  kit: IotlbKit<D>,
  faults: IotlbCheckedFaults = {},
): IotlbCheckedDriver<D> {
  const byDomain = new Map<IommuDomain, CheckedDomain<D>>();
  const wrapped = new WeakMap<IommuDomainOps, IommuDomainOps>();
  const domains: CheckedDomain<D>[] = [];
  /** Depth of unmap_pages calls in progress (a format may sync from inside one). */
  let inUnmap = 0;

  const checkDirty = (cd: CheckedDomain<D>, op: string) => {
    if (cd.dirty.length === 0) cd.checker.observe(op, 0, 0, true);
    for (const [iova, size] of cd.dirty) cd.checker.observe(op, iova, size, true);
    cd.dirty.length = 0;
  };

  const wrap = (ops: IommuDomainOps): IommuDomainOps => {
    const have = wrapped.get(ops);
    if (have) return have;
    const w: IommuDomainOps = Object.create(ops);
    w.mapPages = function (d, iova, paddr, pgsize, pgcount, prot, gfp, mapped: SizeOut) {
      const before = mapped.value;
      const ret = ops.mapPages.call(this, d, iova, paddr, pgsize, pgcount, prot, gfp, mapped);
      const cd = byDomain.get(d);
      const n = mapped.value - before;
      if (cd && n > 0) {
        cd.checker.observe("map_pages", iova, n, false);
        cd.dirty.push([num(iova), n]);
      }
      return ret;
    };
    w.unmapPages = function (d, iova, pgsize, pgcount, gather: IotlbGather | null) {
      // A format may sync the gather from inside unmap_pages (iommu_iotlb_gather_add_page when
      // the page size changes): that sync covers the gather's earlier range only, so the check
      // waits for this call to return (see iotlbSync below).
      inUnmap++;
      let n: number;
      try {
        n = ops.unmapPages.call(this, d, iova, pgsize, pgcount, gather);
      } finally {
        inUnmap--;
      }
      const cd = byDomain.get(d);
      if (cd) {
        const size = n > 0 ? n : pgsize * pgcount;
        cd.checker.observe("unmap_pages", iova, size, false, Math.max(n, 0));
        cd.dirty.push([num(iova), size]);
      }
      return n;
    };
    if (ops.iotlbSync)
      w.iotlbSync = function (d, gather) {
        if (!faults.skipSync) ops.iotlbSync!.call(this, d, gather);
        const cd = byDomain.get(d);
        // Inside an unmap_pages: the page being unmapped is not this sync's to cover yet.
        if (cd && !faults.skipSync && inUnmap === 0) checkDirty(cd, "iotlb_sync");
      };
    if (ops.iotlbSyncMap)
      w.iotlbSyncMap = function (d, iova, size) {
        const ret = ops.iotlbSyncMap!.call(this, d, iova, size);
        const cd = byDomain.get(d);
        if (cd) checkDirty(cd, "iotlb_sync_map");
        return ret;
      };
    if (ops.flushIotlbAll)
      w.flushIotlbAll = function (d) {
        ops.flushIotlbAll!.call(this, d);
        const cd = byDomain.get(d);
        if (cd) {
          cd.dirty.length = 0;
          cd.checker.observeAll("flush_iotlb_all");
        }
      };
    wrapped.set(ops, w);
    return w;
  };

  const checked: IommuDriver<D> = {
    name: driver.name,
    pgsizeBitmap: driver.pgsizeBitmap,
    capable: (cap) => driver.capable(cap),
    domainAllocPagingFlags(flags, options) {
      const d = driver.domainAllocPagingFlags(flags, options);
      if (typeof d === "number") return d;
      const { model, feed } = kit(d);
      const cd: CheckedDomain<D> = { domain: d, checker: new IotlbChecker(d, model, feed), dirty: [] };
      byDomain.set(d, cd);
      domains.push(cd);
      if (d.ops) d.ops = wrap(d.ops);
      return d;
    },
  };
  return { driver: checked, domains, faults, of: (d) => byDomain.get(d) };
}
