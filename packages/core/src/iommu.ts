import {
  type Addr,
  checkAddr,
  ffs,
  fromPfn,
  modPow2,
  offOf,
  POW2,
  pfnOf,
  toNumber,
  U64_LIMIT,
  u64Less,
} from "./addr.js";
import { IommuCounters } from "./counters.js";
import {
  __IOMMU_DOMAIN_PAGING,
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_IDENTITY,
  type IommuDomain,
  type IommuDomainGeometry,
  SizeOut,
} from "./domain.js";
import { IommuError } from "./errno.js";
import { IotlbGather, iotlbGatherAddRange } from "./gather.js";
import { iommuPgsize, PgsizeResult } from "./pgsize.js";
import { PhysLength, physOrZero } from "./phys-length.js";
import { GFP_BAD_FOR_IOMMU_MAP, GFP_KERNEL } from "./prot.js";

// Scratch records: the core is single-threaded like the model's users, and no core function
// re-enters another while holding one.
const pg = new PgsizeResult();
const mappedOut = new SizeOut();

/** Smallest page size of the domain (`1 << __ffs(pgsize_bitmap)`). */
export function minPageSize(domain: IommuDomain): number {
  const b = domain.pgsizeBitmap;
  // Every bitmap in practice has its lowest bit below 2^31: isolate it with integer ops.
  return b <= 0x7fffffff ? b & -b : POW2[ffs(b)]!;
}

function isAligned(a: Addr, align: number): boolean {
  return typeof a === "number" ? modPow2(a, align) === 0 : a % BigInt(align) === 0n;
}

/** Error details, built only when throwing (a closure per call would cost on the hot path). */
function mapArgs(iova: Addr, paddr: Addr, size: Addr, prot: number): Record<string, unknown> {
  return { iova, paddr, size, prot };
}

/**
 * `iommu_map_nosync()` (generation A, ≈v6.19/7.0): split [iova, iova+size) with
 * iommu_pgsize(), call map_pages until done, and on failure unmap what was mapped so the
 * domain is left as it was. Throws {@link IommuError} with `mapped`/`unrolled` set.
 */
export function iommuMapNosync(
  domain: IommuDomain,
  iova: Addr,
  paddr: Addr,
  size: Addr,
  prot: number,
  gfp: number = GFP_KERNEL,
): void {
  checkAddr(iova);
  checkAddr(paddr);
  checkAddr(size);
  const ops = domain.ops;
  if (!(domain.type & __IOMMU_DOMAIN_PAGING))
    throw new IommuError("EINVAL", "iommu_map", mapArgs(iova, paddr, size, prot), "not a paging domain");
  if (!ops || domain.pgsizeBitmap === 0) {
    domain.counters.warn("iommu_map: no map_pages op or empty pgsize_bitmap");
    throw new IommuError("ENODEV", "iommu_map", mapArgs(iova, paddr, size, prot));
  }
  if (gfp & GFP_BAD_FOR_IOMMU_MAP) {
    domain.counters.warn("iommu_map: bad gfp flags for page tables");
    throw new IommuError("EINVAL", "iommu_map", mapArgs(iova, paddr, size, prot), "gfp");
  }
  const min = minPageSize(domain);
  if (!isAligned(iova, min) || !isAligned(paddr, min) || !isAligned(size, min))
    throw new IommuError(
      "EINVAL",
      "iommu_map",
      mapArgs(iova, paddr, size, prot),
      `unaligned to min page size 0x${min.toString(16)}`,
    );

  // Aligned to ≥ 4 KiB, so exact as numbers from here on.
  const origIova = toNumber(iova);
  let curIova = origIova;
  let curPaddr = toNumber(paddr);
  let remaining = toNumber(size);
  const origSize = remaining;
  let ret = 0;
  let bug = false;
  while (remaining !== 0) {
    iommuPgsize(domain.pgsizeBitmap, curIova, curPaddr, remaining, pg);
    if (pg.pgsize === 0) {
      // The kernel BUG()s; the model stops with -EINVAL as the reference harness does.
      domain.counters.bugs++;
      bug = true;
      ret = -22;
      break;
    }
    mappedOut.value = 0;
    domain.counters.mapPagesCalls++;
    ret = ops.mapPages(domain, curIova, curPaddr, pg.pgsize, pg.count, prot, gfp, mappedOut);
    const m = mappedOut.value;
    remaining -= m;
    if (ret) break;
    curIova += m;
    curPaddr += m;
  }
  if (ret) {
    const mapped = origSize - remaining;
    // Internal values may be 4 KiB-aligned numbers above 2^53: exact, but not "safe".
    const unrolled = unmapAndSync(domain, origIova, mapped);
    const err = IommuError.fromReturn(ret, "iommu_map", mapArgs(iova, paddr, size, prot));
    err.mapped = mapped;
    err.unrolled = unrolled;
    err.bug = bug;
    throw err;
  }
}

/** `iommu_sync_map()`: the driver's iotlb_sync_map, 0 when it has none. */
export function iommuSyncMap(domain: IommuDomain, iova: number, size: number): number {
  const op = domain.ops?.iotlbSyncMap;
  if (!op) return 0;
  domain.counters.syncMaps++;
  return op.call(domain.ops, domain, iova, size);
}

/**
 * `iommu_map()`: map and sync. On any failure nothing stays mapped; throws
 * {@link IommuError} carrying the kernel errno.
 */
export function iommuMap(
  domain: IommuDomain,
  iova: Addr,
  paddr: Addr,
  size: Addr,
  prot: number,
  gfp: number = GFP_KERNEL,
): void {
  domain.counters.mapCalls++;
  iommuMapNosync(domain, iova, paddr, size, prot, gfp);
  const ret = iommuSyncMap(domain, toNumber(iova), toNumber(size));
  if (ret) {
    const unrolled = iommuUnmap(domain, iova, size);
    const err = IommuError.fromReturn(ret, "iommu_map", { iova, paddr, size, prot });
    err.mapped = toNumber(size);
    err.unrolled = unrolled;
    throw err;
  }
}

/**
 * `__iommu_unmap()` (generation A): unmap in iommu_pgsize() steps until done or the driver
 * returns 0. Returns bytes unmapped as the kernel does — possibly more than asked (a larger
 * leaf went), and a driver's errno-as-size_t shows up as a negative number (see toU64).
 */
export function __iommuUnmap(domain: IommuDomain, iova: Addr, size: Addr, gather: IotlbGather): number {
  checkAddr(iova);
  checkAddr(size);
  return unmapLoop(domain, iova, size, gather);
}

/** The body of __iommu_unmap on already validated (exact) values. */
function unmapLoop(domain: IommuDomain, iova: Addr, size: Addr, gather: IotlbGather): number {
  const ops = domain.ops;
  if (!(domain.type & __IOMMU_DOMAIN_PAGING)) return 0;
  if (!ops || domain.pgsizeBitmap === 0) {
    domain.counters.warn("iommu_unmap: no unmap_pages op or empty pgsize_bitmap");
    return 0;
  }
  const min = minPageSize(domain);
  if (!isAligned(iova, min) || !isAligned(size, min)) return 0; // pr_err("unaligned...")
  let cur = toNumber(iova);
  const total = toNumber(size);
  let unmapped = 0;
  while (u64Less(unmapped, total)) {
    iommuPgsize(domain.pgsizeBitmap, cur, cur, total - unmapped, pg);
    if (pg.pgsize === 0) {
      domain.counters.bugs++;
      break;
    }
    domain.counters.unmapPagesCalls++;
    const u = ops.unmapPages(domain, cur, pg.pgsize, pg.count, gather);
    if (u === 0) break;
    // A driver that does not use the gather still gets an iotlb_sync for the whole range.
    if (!gather.hasRange) iotlbGatherAddRange(gather, cur, total);
    unmapped = wrapAdd(unmapped, u);
    if (modPow2(u, min) !== 0) {
      // An errno returned through size_t (io-pgtable-arm's -ENOENT): iova += u leaves it off
      // the minimum page, where no page size fits, so the kernel's next iommu_pgsize() is the
      // BUG case. Stopping here keeps that exact even above 2^53, where cur + u would round.
      if (u64Less(unmapped, total)) domain.counters.bugs++;
      break;
    }
    cur = wrapAdd(cur, u);
  }
  return unmapped;
}

/** u64 addition on size_t-style numbers (negative = 2^64 + v), for the kernel's wrapping sums. */
function wrapAdd(a: number, b: number): number {
  const s = a + b;
  return s >= U64_LIMIT ? s - U64_LIMIT : s;
}

/**
 * `iommu_iotlb_sync()`: call the driver's iotlb_sync only when the gather holds a range,
 * then always re-initialise the gather.
 */
export function iommuIotlbSync(domain: IommuDomain, gather: IotlbGather): void {
  domain.counters.syncs++;
  const op = domain.ops?.iotlbSync;
  if (op && gather.hasRange) op.call(domain.ops, domain, gather);
  gather.init();
}

const unmapGather = new IotlbGather();

/** `iommu_unmap()`: unmap and sync. Returns bytes unmapped (the kernel's size_t). */
export function iommuUnmap(domain: IommuDomain, iova: Addr, size: Addr): number {
  checkAddr(iova);
  checkAddr(size);
  return unmapAndSync(domain, iova, size);
}

function unmapAndSync(domain: IommuDomain, iova: Addr, size: Addr): number {
  domain.counters.unmapCalls++;
  // Re-entrancy: a driver's iotlb_sync never calls back into iommu_unmap.
  const g = unmapGather.init();
  const n = unmapLoop(domain, iova, size, g);
  iommuIotlbSync(domain, g);
  return n;
}

/** `iommu_unmap_fast()`: unmap into the caller's gather; the caller syncs. */
export function iommuUnmapFast(domain: IommuDomain, iova: Addr, size: Addr, gather: IotlbGather): number {
  domain.counters.unmapCalls++;
  domain.counters.unmapFastCalls++;
  return __iommuUnmap(domain, iova, size, gather);
}

/** `iommu_flush_iotlb_all()` */
export function iommuFlushIotlbAll(domain: IommuDomain): void {
  domain.ops?.flushIotlbAll?.(domain);
}

const lookup = new PhysLength();

/**
 * `iommu_iova_to_phys()`: since the series, a thin wrapper over the driver's
 * `iova_to_phys_length` (one walk): identity → iova, blocked → 0, otherwise the address the
 * lookup answers, 0 when unmapped (so a mapping of physical 0 is indistinguishable — use
 * {@link iommuIovaToPhysLength}). See docs/migrating-from-iova-to-phys.md.
 */
export function iommuIovaToPhys(domain: IommuDomain, iova: Addr): Addr {
  domain.counters.walks++;
  if (domain.type === IOMMU_DOMAIN_IDENTITY) return iova;
  if (domain.type === IOMMU_DOMAIN_BLOCKED || !domain.ops) return 0;
  domain.ops.iovaToPhysLength(domain, iova, lookup);
  return physOrZero(lookup);
}

/**
 * Largest naturally aligned power-of-two block containing `iova` that lies inside the
 * aperture [start, end]: how far an identity domain translates linearly. For an aperture
 * of the form [0, 2^n − 1] this is the whole aperture, so a caller crosses it in one step.
 */
export function identityUnitLength(geometry: IommuDomainGeometry, iova: Addr): number {
  const start =
    typeof geometry.apertureStart === "bigint" ? geometry.apertureStart : BigInt(geometry.apertureStart);
  const end = typeof geometry.apertureEnd === "bigint" ? geometry.apertureEnd : BigInt(geometry.apertureEnd);
  const a = typeof iova === "bigint" ? iova : BigInt(iova);
  for (let bits = 64n; bits >= 0n; bits--) {
    const size = 1n << bits;
    const base = a & ~(size - 1n);
    if (base >= start && base + size - 1n <= end) return 2 ** Number(bits);
  }
  return 1;
}

/**
 * `iommu_iova_to_phys_length()`: one walk answers the physical address and the size of the
 * leaf that maps it, or the size of the hole. Reuse `out` on hot paths.
 */
export function iommuIovaToPhysLength(
  domain: IommuDomain,
  iova: Addr,
  out: PhysLength = new PhysLength(),
): PhysLength {
  domain.counters.walks++;
  if (domain.type === IOMMU_DOMAIN_IDENTITY) {
    out.setMapped(pfnOf(iova), offOf(iova), identityUnitLength(domain.geometry, iova));
    return out;
  }
  const ops = domain.ops;
  if (domain.type === IOMMU_DOMAIN_BLOCKED || !ops) {
    out.setUnmapped(U64_LIMIT);
    return out;
  }
  ops.iovaToPhysLength(domain, iova, out);
  return out;
}

/** Re-exported so callers can name the result of {@link fromPfn} without importing addr. */
export { fromPfn };

/** A domain with no translation: every access faults. */
export function createBlockedDomain(): IommuDomain {
  return {
    type: IOMMU_DOMAIN_BLOCKED,
    ops: null,
    pgsizeBitmap: 0,
    geometry: { apertureStart: 0, apertureEnd: 0, forceAperture: false },
    counters: new IommuCounters(),
  };
}

/** An identity (passthrough) domain: iova = phys over the aperture (default the whole 64-bit space). */
export function createIdentityDomain(apertureEnd: Addr = (1n << 64n) - 1n): IommuDomain {
  return {
    type: IOMMU_DOMAIN_IDENTITY,
    ops: null,
    pgsizeBitmap: 0,
    geometry: { apertureStart: 0, apertureEnd, forceAperture: false },
    counters: new IommuCounters(),
  };
}
