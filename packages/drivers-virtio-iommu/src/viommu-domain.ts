// drivers/iommu/virtio-iommu.c, the domain side: `struct viommu_domain` and its
// `iommu_domain_ops` — map_pages inserts one interval and queues one MAP, unmap_pages removes
// whole intervals and queues one UNMAP, iova_to_phys_length (the series' form of
// `viommu_iova_to_phys`; the legacy op is gone) answers from the interval tree (the device is
// never asked). The lookups allocate nothing: the tree is typed arrays and the
// answer goes into the caller's PhysLength.

import {
  type Addr,
  IOMMU_MMIO,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type IotlbGather,
  modPow2,
  offOf,
  type PhysLength,
  POW2,
  pfnOf,
  type SizeOut,
  toNumber,
  U64_LIMIT,
} from "@iommu/core";
import { IntervalTree } from "./interval-tree.js";
import { viommuIovaToPhysRuns } from "./viommu-runs.js";
import type { VirtioIommu } from "./virtio-iommu.js";
import {
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
} from "./virtio-iommu-uapi.js";

const EINVAL = -22;

/** `struct viommu_domain` */
export class ViommuDomain implements IommuDomain {
  type: number;
  ops: IommuDomainOps | null = viommuDomainOps;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  counters: IommuCounters;
  /** `vdomain->id`: the device domain id. */
  readonly id: number;
  readonly viommu: VirtioIommu;
  /** `vdomain->mappings`: one interval per map_pages call. */
  readonly mappings = new IntervalTree();
  /** `vdomain->map_flags` */
  readonly mapFlags: number;
  /** `vdomain->nr_endpoints` */
  nrEndpoints = 0;
  /** `vdomain->bypass`: the static identity domain (VIRTIO_IOMMU_F_BYPASS_CONFIG). */
  readonly bypass: boolean;
  /** The aperture as half-open numbers, for the hole lengths. */
  readonly apLo: number;
  readonly apHi: number;
  freed = false;

  constructor(viommu: VirtioIommu, id: number, type: number, counters: IommuCounters, bypass = false) {
    this.viommu = viommu;
    this.id = id;
    this.type = type;
    this.counters = counters;
    this.bypass = bypass;
    this.pgsizeBitmap = viommu.pgsizeBitmap;
    this.geometry = { ...viommu.geometry };
    this.mapFlags = viommu.mapFlags;
    this.apLo = Number(viommu.geometry.apertureStart);
    this.apHi = Number(BigInt(viommu.geometry.apertureEnd) + 1n);
  }
}

/** `viommu_add_mapping()`: one interval [iova, end) → paddr into the domain's tree. */
export function viommuAddMapping(
  d: ViommuDomain,
  iova: number,
  end: number,
  paddr: number,
  flags: number,
): number {
  d.mappings.insert(iova, end, paddr, flags);
  d.counters.pteWrites++;
  return 0;
}

/**
 * `viommu_del_mappings()`: remove every interval overlapping [iova, end) in start order,
 * whole (never split), stopping at one that starts before `iova`. Returns the bytes removed:
 * each interval's full length, so possibly more than the range.
 */
export function viommuDelMappings(d: ViommuDomain, iova: number, end: number): number {
  const t = d.mappings;
  let unmapped = 0;
  for (;;) {
    const n = t.first(iova, end);
    if (n === -1) break;
    const s = t.startOf(n);
    if (s < iova) break; // would split a mapping
    unmapped += t.endOf(n) - s;
    t.remove(n);
    d.counters.pteWrites++;
  }
  return unmapped;
}

/** `viommu_map_pages()` */
export function viommuMapPages(
  d: ViommuDomain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  const size = pgsize * pgcount;
  const flags =
    (prot & IOMMU_READ ? VIRTIO_IOMMU_MAP_F_READ : 0) |
    (prot & IOMMU_WRITE ? VIRTIO_IOMMU_MAP_F_WRITE : 0) |
    (prot & IOMMU_MMIO ? VIRTIO_IOMMU_MAP_F_MMIO : 0);
  if (flags & ~d.mapFlags) return EINVAL;
  const start = toNumber(iova);
  const pa = toNumber(paddr);
  const end = start + size;
  const ret = viommuAddMapping(d, start, end, pa, flags);
  if (ret) return ret;
  if (d.nrEndpoints) {
    const r = d.viommu.queueMap(d.id, start, end, pa, flags, false);
    if (r) {
      viommuDelMappings(d, start, end);
      return r;
    }
  }
  mapped.value += size;
  return 0;
}

/** `viommu_unmap_pages()`: 0 when less than asked was removed (the removed intervals stay removed). */
export function viommuUnmapPages(
  d: ViommuDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  _gather: IotlbGather | null,
): number {
  const size = pgsize * pgcount;
  const start = toNumber(iova);
  const unmapped = viommuDelMappings(d, start, start + size);
  if (unmapped < size) return 0;
  // The device dropped every mapping when its last endpoint left.
  if (!d.nrEndpoints) return unmapped;
  return d.viommu.queueUnmap(d.id, start, start + unmapped) ? 0 : unmapped;
}

/**
 * Largest naturally aligned power-of-two block containing `x` inside [lo, hi) (x in it): the
 * property is monotone in the block size, so a binary search over the 65 sizes decides it.
 */
export function alignedBlockIn(x: number, lo: number, hi: number): number {
  let a = 0;
  let b = 64;
  while (a < b) {
    const k = (a + b + 1) >> 1;
    const p = POW2[k]!;
    const base = Math.floor(x / p) * p;
    if (base >= lo && base + p <= hi) a = k;
    else b = k - 1;
  }
  return POW2[a]!;
}

/**
 * `viommu_iova_to_phys()` as the series' iova_to_phys_length, for an interval tree (see the package README, "Lengths"): mapped → the
 * physical address and the largest aligned power-of-two block around `iova` inside its MAP
 * extent (the whole extent for a naturally aligned power-of-two MAP); unmapped → the largest
 * aligned block inside the hole (bounded by the neighbouring intervals and the aperture).
 */
export function viommuIovaToPhysLength(d: ViommuDomain, iova: Addr, out: PhysLength): void {
  d.counters.pteReads++;
  const safe = typeof iova === "number" && iova <= Number.MAX_SAFE_INTEGER;
  // Above 2^53 the frame's address stands for the IOVA (intervals are granule-aligned).
  const x = safe ? (iova as number) : pfnOf(iova) * 4096;
  const sub = safe ? 0 : offOf(iova);
  const t = d.mappings;
  const n = t.lookup(x);
  if (n !== -1) {
    const s = t.startOf(n);
    const lo = Math.max(t.endBefore, s);
    const len = alignedBlockIn(x, lo, t.endOf(n));
    const p = t.paddrOf(n);
    const dlt = x - s;
    const off = modPow2(p, 4096) + modPow2(dlt, 4096) + sub;
    out.setMapped(Math.floor(p / 4096) + Math.floor(dlt / 4096) + (off >= 4096 ? 1 : 0), off % 4096, len);
    return;
  }
  const gapLo = t.maxEndAtOrBefore(x);
  const next = t.startAfter(x);
  const gapHi = Math.min(next, U64_LIMIT);
  let lo: number;
  let hi: number;
  if (x >= d.apLo && x < d.apHi) {
    lo = Math.max(gapLo, d.apLo);
    hi = Math.min(gapHi, d.apHi);
  } else if (x < d.apLo) {
    lo = gapLo;
    hi = Math.min(gapHi, d.apLo);
  } else {
    lo = Math.max(gapLo, d.apHi);
    hi = gapHi;
  }
  out.setUnmapped(alignedBlockIn(x, lo, hi));
}

/**
 * Model-only: the whole MAP extent containing an IOVA, or the whole hole around it, as one
 * lookup finds it (`start`/`end` half-open, numbers; a hole is bounded by the neighbouring
 * intervals only). What {@link viommuIovaToPhysLength} reports as aligned power-of-two units.
 */
export class ViommuExtent {
  mapped = false;
  start = 0;
  end = 0;
  /** Physical address of `start` (mapped only). */
  paddr = 0;
  /** `VIRTIO_IOMMU_MAP_F_*` (mapped only). */
  flags = 0;
}

/** Fill `out` with the extent around `iova` (see {@link ViommuExtent}). */
export function viommuIovaExtent(d: ViommuDomain, iova: Addr, out: ViommuExtent): ViommuExtent {
  const x = typeof iova === "number" ? iova : pfnOf(iova) * 4096;
  const t = d.mappings;
  const n = t.lookup(x);
  if (n !== -1) {
    out.mapped = true;
    out.start = t.startOf(n);
    out.end = t.endOf(n);
    out.paddr = t.paddrOf(n);
    out.flags = t.flagsAt(n);
  } else {
    out.mapped = false;
    out.start = t.maxEndAtOrBefore(x);
    out.end = Math.min(t.startAfter(x), U64_LIMIT);
    out.paddr = 0;
    out.flags = 0;
  }
  return out;
}

/** `viommu_iotlb_sync()`: wait for every queued request. */
export function viommuIotlbSync(d: ViommuDomain, _gather: IotlbGather): void {
  d.viommu.syncReq();
}

/** `viommu_iotlb_sync_map()`: only once the domain has endpoints. */
export function viommuIotlbSyncMap(d: ViommuDomain, _iova: number, _size: number): number {
  if (!d.nrEndpoints) return 0;
  return d.viommu.syncReq();
}

/** `viommu_flush_iotlb_all()` */
export function viommuFlushIotlbAll(d: ViommuDomain): void {
  if (!d.nrEndpoints) return;
  d.viommu.syncReq();
}

/** `viommu_domain_free()`: drop every interval and release the id. */
export function viommuDomainFree(d: ViommuDomain): void {
  viommuDelMappings(d, 0, U64_LIMIT);
  d.viommu.releaseDomainId(d);
  d.freed = true;
}

/** `viommu_ops.default_domain_ops`, with the length-aware lookup and the run lookup. */
export const viommuDomainOps: IommuDomainOps<ViommuDomain> = {
  name: "virtio-iommu",
  mapPages: viommuMapPages,
  unmapPages: viommuUnmapPages,
  iovaToPhysLength: viommuIovaToPhysLength,
  iovaToPhysRuns: viommuIovaToPhysRuns,
  iotlbSync: viommuIotlbSync,
  iotlbSyncMap: viommuIotlbSyncMap,
  flushIotlbAll: viommuFlushIotlbAll,
  free: viommuDomainFree,
  inspect: () => null,
};
