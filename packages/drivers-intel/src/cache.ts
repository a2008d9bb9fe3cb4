// drivers/iommu/intel/cache.c: cache tags (one per unit, domain id and PASID a domain is
// attached through) and the IOTLB invalidation built from them: page-selective with an
// address mask rounded to cover the range, domain-selective when the unit has no PSI or the
// mask exceeds CAP.MAMV, and PASID-based invalidation for first-stage domains.
//
// Addresses here are exact 64-bit bigints: this runs once per iotlb_sync, not per PTE.
import type { IommuCounters } from "@iommu/core";
import { type IntelQi, QI_GRAN_DSI, QI_GRAN_PSI } from "./qi.js";
import type { VtdCap } from "./regs.js";

/** `MAX_AGAW_PFN_WIDTH`: 64 − VTD_PAGE_SHIFT. */
export const MAX_AGAW_PFN_WIDTH = 52;
const ULONG_MAX = (1n << 64n) - 1n;

/** The unit a cache tag invalidates on (the part of `struct intel_iommu` cache.c reads). */
export interface CacheTagUnit {
  readonly cap: VtdCap;
  readonly qi: IntelQi;
  /** `rwbf_required()` */
  readonly rwbfRequired: boolean;
}

/** `struct cache_tag` of type CACHE_TAG_IOTLB (device TLBs are not modelled). */
export interface CacheTag {
  readonly unit: CacheTagUnit;
  readonly domainId: number;
  readonly pasid: number;
  /** Devices sharing the tag. */
  users: number;
}

/** What `calculate_psi_aligned_address` returns: the base, page count and address mask. */
export interface PsiRange {
  readonly addr: bigint;
  readonly pages: bigint;
  readonly mask: number;
}

function ffs64(x: bigint): number {
  let n = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}

/**
 * `calculate_psi_aligned_address(start, end)`: the naturally aligned power-of-two block of
 * 4 KiB pages covering [start, end] (inclusive); when the range straddles the alignment of
 * its page count, the mask grows to the first address bit the two ends share above it
 * (MAX_AGAW_PFN_WIDTH when none).
 */
export function calculatePsiAlignedAddress(start: bigint, end: bigint): PsiRange {
  const size = BigInt.asUintN(64, end - start + 1n);
  const pages = BigInt.asUintN(64, ((start & 0xfffn) + size + 0xfffn) >> 12n);
  let aligned = 1n;
  while (aligned < pages) aligned <<= 1n;
  const bitmask = aligned - 1n;
  let mask = aligned.toString(2).length - 1;
  const pfn = start >> 12n;
  if ((bitmask & pfn) !== 0n) {
    const endPfn = pfn + pages - 1n;
    const shared = BigInt.asUintN(64, ~(pfn ^ endPfn)) & ~bitmask & (ULONG_MAX >> 12n);
    mask = shared !== 0n ? ffs64(shared) : MAX_AGAW_PFN_WIDTH;
    aligned = 1n << BigInt(mask);
  }
  const blk = 1n << BigInt(12 + mask);
  return { addr: start - (start % blk), pages: aligned, mask };
}

/** One tag's IOTLB flush (`cache_tag_flush_range`'s CACHE_TAG_IOTLB case). */
function flushTagIotlb(
  tag: CacheTag,
  firstStage: boolean,
  r: PsiRange,
  ih: number,
  counters: IommuCounters,
): void {
  const u = tag.unit;
  if (firstStage) {
    // A mask of the whole address width becomes a PASID-selective invalidation.
    if (r.mask >= MAX_AGAW_PFN_WIDTH) {
      u.qi.addPiotlb(tag.domainId, tag.pasid, 0n, 0, 0, true);
      counters.flushAll++;
    } else {
      u.qi.addPiotlb(tag.domainId, tag.pasid, r.addr, r.mask, ih);
      counters.flushRange++;
    }
  } else if (!u.cap.pgselInv || r.mask > u.cap.maxAmaskVal) {
    u.qi.addIotlb(tag.domainId, 0n, 0, 0, QI_GRAN_DSI);
    counters.flushAll++;
  } else {
    u.qi.addIotlb(tag.domainId, r.addr, ih, r.mask, QI_GRAN_PSI);
    counters.flushRange++;
  }
}

function submitAll(tags: readonly CacheTag[]): void {
  for (const t of tags) t.unit.qi.flushBatch();
}

/**
 * `cache_tag_flush_range(domain, start, end, ih)`: invalidate [start, end] on every tag of the
 * domain — PASID-based PSI for a first-stage domain (PASID-selective when the mask spans the
 * whole address width); PSI with the computed mask for a second stage, or DSI when the unit
 * lacks PSI or the mask exceeds MAMV.
 */
export function cacheTagFlushRange(
  tags: readonly CacheTag[],
  firstStage: boolean,
  start: bigint,
  end: bigint,
  ih: number,
  counters: IommuCounters,
): void {
  if (tags.length === 0) return;
  const r = calculatePsiAlignedAddress(start, end);
  for (const t of tags) flushTagIotlb(t, firstStage, r, ih, counters);
  submitAll(tags);
}

/** `cache_tag_flush_all`: PASID-selective (first stage) or domain-selective invalidation. */
export function cacheTagFlushAll(
  tags: readonly CacheTag[],
  firstStage: boolean,
  counters: IommuCounters,
): void {
  for (const t of tags) {
    if (firstStage) t.unit.qi.addPiotlb(t.domainId, t.pasid, 0n, 0, 0, true);
    else t.unit.qi.addIotlb(t.domainId, 0n, 0, 0, QI_GRAN_DSI);
    counters.flushAll++;
  }
  submitAll(tags);
}

/**
 * `cache_tag_flush_range_np` (iotlb_sync_map): a unit in caching mode gets a second-stage
 * PSI/DSI for the new mappings; any other unit (or a first-stage domain) only a write-buffer
 * flush, which itself only happens when the unit requires it (RWBF).
 */
export function cacheTagFlushRangeNp(
  tags: readonly CacheTag[],
  firstStage: boolean,
  start: bigint,
  end: bigint,
  counters: IommuCounters,
): void {
  if (tags.length === 0) return;
  const r = calculatePsiAlignedAddress(start, end);
  for (const t of tags) {
    const u = t.unit;
    if (!u.cap.cachingMode || firstStage) {
      if (u.rwbfRequired) u.qi.writeBufferFlushes++;
      continue;
    }
    if (!u.cap.pgselInv || r.mask > u.cap.maxAmaskVal) {
      u.qi.addIotlb(t.domainId, 0n, 0, 0, QI_GRAN_DSI);
      counters.flushAll++;
    } else {
      u.qi.addIotlb(t.domainId, r.addr, 0, r.mask, QI_GRAN_PSI);
      counters.flushRange++;
    }
  }
  submitAll(tags);
}
