/**
 * A small stand-in for an io-pgtable ARM LPAE 4K-granule domain, for this package's tests
 * (the package may not depend on @iommu/io-pgtable). It keeps leaves in maps instead of
 * simulated memory but follows the format where VFIO can see it: 4K/2M/1G leaves, one
 * map_pages/unmap_pages call stops at the end of a 512-entry table, tables are not freed
 * when their last leaf goes, a leaf-size unmap over a table removes the table, an empty
 * entry unmaps as -ENOENT, and iova_to_phys_length reports the empty slot it stopped at.
 */
import {
  type Addr,
  IOMMU_DOMAIN_UNMANAGED,
  IommuCounters,
  type IommuDomain,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  iotlbGatherAddRange,
  negErrno,
  PAGE_SIZE,
  type PhysLength,
  type PhysRunCollector,
  type SizeOut,
} from "@iommu/core";

const L3 = 1; // pages per 4K leaf
const L2 = 512; // pages per 2M block
const L1 = 512 * 512; // pages per 1G block
const L0 = 512 * 512 * 512; // pages per 512G slot

export interface LpaeLikeDomain extends IommuDomain {
  /** leaf base iova pfn → phys pfn, per leaf size in pages. */
  readonly leaves: Map<number, Map<number, number>>;
  /** Blocks (by their first iova pfn, per block size) that hold a next-level table. */
  readonly tables: Map<number, Set<number>>;
  readonly iasPages: number;
  freed: boolean;
}

function num(a: Addr): number {
  return typeof a === "number" ? a : Number(a);
}

function leafSizeOfPgsize(pgsize: number): number {
  return pgsize / PAGE_SIZE;
}

/** Block sizes (in pages) of the levels above a leaf of `pages`. */
function parentsOf(pages: number): number[] {
  return pages === L3 ? [L2, L1, L0] : pages === L2 ? [L1, L0] : [L0];
}

function clearBelow(d: LpaeLikeDomain, base: number, pages: number): void {
  // Remove every leaf and table strictly inside [base, base + pages).
  for (const [size, m] of d.leaves) {
    if (size >= pages) continue;
    for (const k of [...m.keys()]) if (k >= base && k < base + pages) m.delete(k);
  }
  for (const [size, s] of d.tables) {
    if (size >= pages) continue;
    for (const k of [...s]) if (k >= base && k < base + pages) s.delete(k);
  }
  d.tables.get(pages)!.delete(base);
}

function ops(name: string): IommuDomainOps<LpaeLikeDomain> {
  return {
    name,
    mapPages(d, iova, paddr, pgsize, pgcount, _prot, _gfp, mapped: SizeOut) {
      const pages = leafSizeOfPgsize(pgsize);
      let ipfn = num(iova) / PAGE_SIZE;
      let ppfn = num(paddr) / PAGE_SIZE;
      if (![L3, L2, L1].includes(pages)) return negErrno("EINVAL");
      const idx = Math.floor(ipfn / pages) % 512;
      const n = Math.min(pgcount, 512 - idx);
      for (let i = 0; i < n; i++, ipfn += pages, ppfn += pages) {
        if (ipfn + pages > d.iasPages) return negErrno("ERANGE");
        if (leafCovering(d, ipfn) !== undefined) {
          d.counters.warn("map over an existing leaf");
          return negErrno("EEXIST");
        }
        if (d.tables.get(pages)?.has(ipfn)) clearBelow(d, ipfn, pages);
        d.leaves.get(pages)!.set(ipfn, ppfn);
        for (const p of parentsOf(pages)) d.tables.get(p)!.add(ipfn - (ipfn % p));
        mapped.value += pgsize;
      }
      return 0;
    },
    unmapPages(d, iova, pgsize, pgcount, gather: IotlbGather | null) {
      const pages = leafSizeOfPgsize(pgsize);
      let ipfn = num(iova) / PAGE_SIZE;
      // Walk down: a leaf above the requested size is a partial unmap; an empty entry is -ENOENT.
      for (const p of [L0, L1, L2, L3]) {
        if (p <= pages) break;
        const base = ipfn - (ipfn % p);
        if (d.leaves.get(p)?.has(base)) {
          d.counters.warn("Unmap of a partial large IOPTE is not allowed");
          return 0;
        }
        if (!d.tables.get(p)!.has(base)) {
          d.counters.warn("unmap of an empty entry");
          return negErrno("ENOENT");
        }
      }
      const idx = Math.floor(ipfn / pages) % 512;
      const n = Math.min(pgcount, 512 - idx);
      let i = 0;
      for (; i < n; i++, ipfn += pages) {
        const leaf = d.leaves.get(pages)!;
        if (leaf.has(ipfn)) leaf.delete(ipfn);
        else if (d.tables.get(pages)?.has(ipfn)) clearBelow(d, ipfn, pages);
        else {
          d.counters.warn("unmap of an empty entry");
          break;
        }
      }
      if (i && gather) iotlbGatherAddRange(gather, num(iova), i * pgsize);
      return i * pgsize;
    },
    iovaToPhysLength(d, iova, out: PhysLength) {
      const a = num(iova);
      const ipfn = Math.floor(a / PAGE_SIZE);
      if (ipfn >= d.iasPages) {
        out.setUnmapped(PAGE_SIZE);
        return;
      }
      for (const p of [L0, L1, L2, L3]) {
        const base = ipfn - (ipfn % p);
        const ppfn = d.leaves.get(p)?.get(base);
        if (ppfn !== undefined) {
          out.setMapped(ppfn + (ipfn - base), a % PAGE_SIZE, p * PAGE_SIZE);
          return;
        }
        if (p !== L3 && !d.tables.get(p)!.has(base)) {
          out.setUnmapped(p * PAGE_SIZE);
          return;
        }
      }
      out.setUnmapped(PAGE_SIZE);
    },
    // Model of a one-descent range walk: leaf by leaf through the same maps.
    iovaToPhysRuns(d, runs: PhysRunCollector) {
      for (let ipfn = runs.startPfn; ; ) {
        let more = true;
        let step = 1;
        let found = false;
        if (ipfn >= d.iasPages) {
          more = runs.hole(ipfn, 2 ** 52 - ipfn, PAGE_SIZE);
          found = true;
          step = 2 ** 52 - ipfn;
        }
        for (const p of [L0, L1, L2, L3]) {
          if (found) break;
          const base = ipfn - (ipfn % p);
          const ppfn = d.leaves.get(p)?.get(base);
          if (ppfn !== undefined) {
            more = runs.leaf(base, p, ppfn, 3, p * PAGE_SIZE);
            step = base + p - ipfn;
            found = true;
          } else if (p !== L3 && !d.tables.get(p)!.has(base)) {
            more = runs.hole(base, p, p * PAGE_SIZE);
            step = base + p - ipfn;
            found = true;
          }
        }
        if (!found) more = runs.hole(ipfn, 1, PAGE_SIZE);
        if (!more) return;
        ipfn += step;
      }
    },
    iotlbSync() {},
    free(d) {
      d.freed = true;
    },
  };
}

function leafCovering(d: LpaeLikeDomain, ipfn: number): [number, number, number] | undefined {
  for (const p of [L1, L2, L3]) {
    const base = ipfn - (ipfn % p);
    const ppfn = d.leaves.get(p)!.get(base);
    if (ppfn !== undefined) return [p, base, ppfn];
  }
  return undefined;
}

const opsByDriver = new Map<number | string, IommuDomainOps<LpaeLikeDomain>>();

/** The ops table of driver `driver` (one identity per driver, as VFIO compares them). */
export function lpaeLikeOps(driver: number | string): IommuDomainOps<LpaeLikeDomain> {
  let o = opsByDriver.get(driver);
  if (!o) {
    o = ops(`lpae-like-${driver}`);
    opsByDriver.set(driver, o);
  }
  return o;
}

export interface LpaeLikeOptions {
  ias?: number;
  pgsizeBitmap?: number;
  counters?: IommuCounters;
}

export function createLpaeLikeDomain(driver: number | string, opts: LpaeLikeOptions = {}): LpaeLikeDomain {
  const ias = Math.min(opts.ias ?? 48, 48);
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops: lpaeLikeOps(driver),
    pgsizeBitmap: opts.pgsizeBitmap ?? 0x40201000,
    geometry: { apertureStart: 0, apertureEnd: 2 ** ias - 1, forceAperture: true },
    counters: opts.counters ?? new IommuCounters(),
    leaves: new Map([
      [L3, new Map()],
      [L2, new Map()],
      [L1, new Map()],
    ]),
    tables: new Map([
      [L3, new Set()],
      [L2, new Set()],
      [L1, new Set()],
      [L0, new Set()],
    ]),
    iasPages: 2 ** (ias - 12),
    freed: false,
  };
}

/**
 * The IOMMU driver instance of unit `driver` with this hardware (input address bits, page
 * sizes): its paging domains are LPAE-like domains sharing the unit's ops table, so VFIO puts
 * groups of one unit into one domain. Flags other than 0 are -EOPNOTSUPP.
 */
export function createLpaeLikeDriver(
  driver: number | string,
  hw: LpaeLikeOptions = {},
): IommuDriver<LpaeLikeDomain> {
  return {
    name: `lpae-like-${driver}`,
    pgsizeBitmap: hw.pgsizeBitmap ?? 0x40201000,
    capable: () => false,
    domainAllocPagingFlags(flags, options) {
      if (flags !== 0) return negErrno("EOPNOTSUPP");
      const d = createLpaeLikeDomain(driver, { ...hw, counters: options?.counters ?? hw.counters });
      if (options?.type !== undefined) d.type = options.type;
      return d;
    },
  };
}

/** Every leaf as [iova, phys, bytes], sorted by iova (for invariants). */
export function leavesOf(d: LpaeLikeDomain): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const [pages, m] of d.leaves)
    for (const [i, p] of m) out.push([i * PAGE_SIZE, p * PAGE_SIZE, pages * PAGE_SIZE]);
  return out.sort((a, b) => a[0] - b[0]);
}
