/**
 * A tiny page-table double for core tests: leaves in a sorted map, one "table" allocated
 * from a real TableAllocator per 2 MiB region touched, so allocation failure and rollback
 * behave like a real format's. Not exported from the package.
 */
import { type Addr, offOf, pfnOf, toNumber } from "../addr.js";
import { IommuCounters } from "../counters.js";
import { IOMMU_DOMAIN_UNMANAGED, type IommuDomain, type IommuDomainOps, type SizeOut } from "../domain.js";
import { type IotlbGather, iotlbGatherAddPage } from "../gather.js";
import { iommuIotlbSync } from "../iommu.js";
import type { PhysLength } from "../phys-length.js";
import { TableAllocator } from "../table-allocator.js";

export interface FakeDomain extends IommuDomain {
  leaves: Map<number, { iova: number; pa: number; size: number; prot: number }>;
  tables: Map<number, number>;
  allocator: TableAllocator;
  synced: Array<{ start: number; endExcl: number }>;
}

const REGION = 0x200000;

function leafAt(d: FakeDomain, iova: number) {
  for (const l of d.leaves.values()) if (iova >= l.iova && iova < l.iova + l.size) return l;
  return undefined;
}

export function makeOps(opts: { useGather?: boolean } = {}) {
  const { useGather = true } = opts;
  const ops: IommuDomainOps<FakeDomain> = {
    name: "fake",
    mapPages(d, iova, paddr, pgsize, pgcount, prot, _gfp, mapped: SizeOut) {
      if (!(prot & 3)) return -22;
      let va = toNumber(iova);
      let pa = toNumber(paddr);
      for (let i = 0; i < pgcount; i++) {
        if (leafAt(d, va)) return -17;
        const region = Math.floor(va / REGION);
        if (!d.tables.has(region)) {
          const t = d.allocator.alloc(4096);
          if (t < 0) return -12;
          d.tables.set(region, t);
        }
        d.leaves.set(va, { iova: va, pa, size: pgsize, prot });
        d.counters.pteWrites++;
        mapped.value += pgsize;
        va += pgsize;
        pa += pgsize;
      }
      return 0;
    },
    unmapPages(d, iova, pgsize, pgcount, gather: IotlbGather | null) {
      let va = toNumber(iova);
      let done = 0;
      for (let i = 0; i < pgcount; i++) {
        const l = d.leaves.get(va);
        if (!l) break;
        d.leaves.delete(va);
        d.counters.pteWrites++;
        if (gather && useGather) iotlbGatherAddPage(gather, va, l.size, (g) => iommuIotlbSync(d, g));
        done += l.size;
        va += l.size;
        if (l.size > pgsize) break;
      }
      return done;
    },
    iotlbSync(d, gather) {
      d.synced.push({ start: gather.start, endExcl: gather.endExcl });
    },
    // Lookups take any exact address: split into frame + offset, compute on frames.
    iovaToPhysLength(d, iova: Addr, out: PhysLength) {
      d.counters.pteReads++;
      const pfn = pfnOf(iova);
      const l = leafAt(d, pfn * 4096);
      if (!l) out.setUnmapped(4096);
      else out.setMapped(pfnOf(l.pa) + (pfn - pfnOf(l.iova)), offOf(iova), l.size);
    },
  };
  return ops;
}

export function makeDomain(ops = makeOps(), pgsizeBitmap = 0x40201000): FakeDomain {
  const counters = new IommuCounters();
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops,
    pgsizeBitmap,
    geometry: { apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true },
    counters,
    leaves: new Map(),
    tables: new Map(),
    allocator: new TableAllocator(undefined, { counters }),
    synced: [],
  };
}
