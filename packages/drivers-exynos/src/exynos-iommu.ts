/**
 * drivers/iommu/exynos-iommu.c (torvalds/linux e80b5003, the ~6.3 driver): the SysMMU's own
 * two-level page table in simulated physical memory and the domain ops of that era — legacy
 * one-page `.map`/`.unmap` — with the series' `iova_to_phys_length` as the only lookup (the
 * series' last step removed `.iova_to_phys`).
 *
 * Hot paths (map, unmap, lookup) allocate nothing and use no BigInt per PTE: entries are
 * 32-bit numbers read and written through the tables' `Uint32Array` words.
 */
import {
  type Addr,
  holeSpanOutside,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type IotlbGather,
  type IovaRange,
  type KmemCache,
  type MemChunk,
  type PageTableInspector,
  type PhysLength,
  releaseUncounted,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import { atOrAbove, low32, modAddr, shiftedLow32 } from "./bits.js";
import {
  LPAGE_ORDER,
  LPAGE_SIZE,
  lv1entFault,
  lv1entPage,
  lv1entSection,
  lv2entFault,
  lv2entLarge,
  lv2entSmall,
  lv2tableBase,
  makeMmuVer,
  NUM_LV1ENTRIES,
  NUM_LV2ENTRIES,
  SECT_ORDER,
  SECT_SIZE,
  SPAGE_ORDER,
  SPAGE_SIZE,
  SPAGES_PER_LPAGE,
} from "./defs.js";
import { createExynosInspector } from "./inspect.js";
import { ExynosQuirkError } from "./quirks.js";
import { exynosIommuIovaToPhysRuns } from "./runs.js";
import type { ExynosTlbLog } from "./tlb-log.js";

const EADDRINUSE = -98;
const ENOMEM = -12;
const EINVAL = -22;
const ENODEV = -19;
const TWO32 = 2 ** 32;
const NO_WORDS = new Uint32Array(0);

/** `struct sysmmu_drvdata`, the part a domain needs: version and encodings (implemented by {@link ExynosSysmmu}). */
export interface ExynosSysmmuHw {
  /** `data->version`: `MAKE_MMU_VER(major, minor)`. */
  readonly version: number;
  readonly major: number;
  /** `PG_ENT_SHIFT`: 0 for v1–v3, 4 for v5+. */
  readonly pgEntShift: number;
  /** `LV1_PROT[]` of the version. */
  readonly lv1Prot: readonly number[];
  /** `LV2_PROT[]` of the version. */
  readonly lv2Prot: readonly number[];
  /** `ZERO_LV2LINK`: the level-1 value of an empty slot. */
  readonly zeroLv2Link: number;
}

/**
 * `struct exynos_iommu_domain`: the 16 KiB level-1 table (`pgtable`), the per-section count of
 * free level-2 slots (`lv2entcnt`, 4096 `short`s in an 8 KiB block) and the level-2 tables,
 * 1 KiB objects of the driver's `lv2table_kmem_cache`.
 */
export class ExynosDomain implements IommuDomain {
  type: number;
  ops: IommuDomainOps | null;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  readonly counters: IommuCounters;
  /** The SysMMU the domain was allocated by (its version decides the encodings). */
  readonly hw: ExynosSysmmuHw;
  /** Where the level-1 table, the counters and the level-2 tables live. */
  readonly allocator: TableAllocator;
  /** `lv2table_kmem_cache` for {@link allocator}. */
  readonly lv2Cache: KmemCache;
  /** `domain->pgtable`: PA of the level-1 table; -1 once freed. */
  pgtable: number;
  /** PA of `domain->lv2entcnt`; -1 once freed. */
  lv2entcntPa: number;
  /** Where the `lv2entcnt` block lives (the table allocator unless the domain was given another). */
  readonly lv2entcntAllocator: TableAllocator;
  /**
   * Report kernel quirks instead of reproducing them (README "Known kernel quirks"): typed
   * {@link ExynosQuirkError}s, -EINVAL for sizes and alignments the driver does not check,
   * 0 for unmaps of holes, "unmapped" for lookups above 4 GiB.
   */
  strict: boolean;
  /** The level-1 table's words and the index of entry 0 in them (hot-path view). */
  l1: Uint32Array;
  l1Off: number;
  /** `lv2entcnt[]` as a view of its 8 KiB block (signed 16-bit, wrapping like the kernel's `short`). */
  lv2entcnt: Int16Array;
  /**
   * Model-only (the kernel resolves `phys_to_virt` for free): the last level-2 table a walk
   * resolved — its PA (-1: none), its chunk's words and the word index of slot 0 — so a run
   * of walks in one section skips the chunk lookup. Only tables whose 256 slots all lie in
   * one chunk are cached; dropped whenever a level-2 table is released ({@link dropLv2View}).
   */
  l2Pa = -1;
  l2Words: Uint32Array = NO_WORDS;
  l2Base = 0;
  /**
   * Model-only: the register writes of the TLB maintenance this domain's unmaps and maps make
   * on its SysMMU, kept once an IOTLB feed turned the log on (null: not kept).
   */
  tlbLog: ExynosTlbLog | null = null;

  constructor(init: {
    type: number;
    ops: IommuDomainOps;
    hw: ExynosSysmmuHw;
    allocator: TableAllocator;
    lv2Cache: KmemCache;
    counters: IommuCounters;
    pgtable: number;
    lv2entcntPa: number;
    lv2entcntAllocator: TableAllocator;
    strict: boolean;
  }) {
    this.type = init.type;
    this.ops = init.ops;
    this.hw = init.hw;
    this.allocator = init.allocator;
    this.lv2Cache = init.lv2Cache;
    this.counters = init.counters;
    this.pgtable = init.pgtable;
    this.lv2entcntPa = init.lv2entcntPa;
    this.lv2entcntAllocator = init.lv2entcntAllocator;
    this.strict = init.strict;
    this.pgsizeBitmap = 0; // the core fills it in from the ops (see ExynosSysmmu)
    this.geometry = { apertureStart: 0, apertureEnd: (1n << 64n) - 1n, forceAperture: true };
    const c1 = init.allocator.mem.chunk(init.pgtable)!;
    this.l1 = c1.words;
    this.l1Off = (init.pgtable - c1.pa) >>> 2;
    const c2 = init.lv2entcntAllocator.mem.chunk(init.lv2entcntPa)!;
    this.lv2entcnt = new Int16Array(
      c2.words.buffer,
      c2.words.byteOffset + (init.lv2entcntPa - c2.pa),
      NUM_LV1ENTRIES,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// entries

/** `mk_lv1ent_sect(pa, prot)`: `(pa >> PG_ENT_SHIFT) | LV1_PROT[prot] | 2`, as a u32. */
export function mkLv1entSect(hw: ExynosSysmmuHw, pa: Addr, prot: number): number {
  return (shiftedLow32(pa, hw.pgEntShift) | hw.lv1Prot[prot & 3]! | 2) >>> 0;
}

/** `mk_lv1ent_page(pa)`: a link to the level-2 table at `pa`. */
export function mkLv1entPage(hw: Pick<ExynosSysmmuHw, "pgEntShift">, pa: number): number {
  return (shiftedLow32(pa, hw.pgEntShift) | 1) >>> 0;
}

/** `mk_lv2ent_lpage(pa, prot)`: one replica of a 64 KiB page. */
export function mkLv2entLpage(hw: ExynosSysmmuHw, pa: Addr, prot: number): number {
  return (shiftedLow32(pa, hw.pgEntShift) | hw.lv2Prot[prot & 3]! | 1) >>> 0;
}

/** `mk_lv2ent_spage(pa, prot)`: a 4 KiB page. */
export function mkLv2entSpage(hw: ExynosSysmmuHw, pa: Addr, prot: number): number {
  return (shiftedLow32(pa, hw.pgEntShift) | hw.lv2Prot[prot & 3]! | 2) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// TLB maintenance (one client: the SysMMU the domain is attached to)

/**
 * `exynos_iommu_tlb_invalidate_entry()` → `sysmmu_tlb_invalidate_entry()`: one invalidation
 * by VA (v2.x: min(size / 4K, 64) of them, set-associative TLB); v5+ issue a range
 * invalidation only when more than one is needed, which never happens. `iova` is the unmap's
 * 32-bit IOVA; the writes go to the domain's {@link ExynosDomain.tlbLog} when it is on.
 */
function tlbInvalidateEntry(d: ExynosDomain, iova: number, size: number): void {
  let numInv = 1;
  if (d.hw.major === 2) numInv = Math.min(Math.floor(size / SPAGE_SIZE), 64);
  const byEntry = d.hw.major < 5 || numInv === 1;
  if (byEntry) d.counters.flushPage += numInv;
  else d.counters.flushRange++;
  const log = d.tlbLog;
  if (log === null) return;
  // __sysmmu_tlb_invalidate_entry(): (iova & SPAGE_MASK) | 1 per page, or START / END / RANGE.
  const va = (iova & ~(SPAGE_SIZE - 1)) >>> 0;
  if (byEntry) for (let i = 0; i < numInv; i++) log.record("flush_entry", ((va + i * SPAGE_SIZE) | 1) >>> 0);
  else {
    log.record("flush_start", va);
    log.record("flush_end", (va + (numInv - 1) * SPAGE_SIZE) >>> 0);
    log.record("flush_range", 1);
  }
}

/**
 * `sysmmu_tlb_invalidate_flpdcache()`: after a level-2 table replaces the zero link, SysMMU
 * ≥ 3.3 drops the FLPD cache (v5+: the whole TLB, v3.3: the entry by VA, which the driver notes
 * also drops the FLPD cache entry of that VA).
 */
function flpdCacheInvalidate(d: ExynosDomain, iova: number): void {
  if (d.hw.version < makeMmuVer(3, 3)) return;
  const v5 = d.hw.version >= makeMmuVer(5, 0);
  if (v5) d.counters.flushAll++;
  else d.counters.flushPage++;
  const log = d.tlbLog;
  if (log === null) return;
  if (v5) log.record("flush_all", 1);
  else log.record("flush_entry", ((iova & ~(SPAGE_SIZE - 1)) | 1) >>> 0);
}

// ---------------------------------------------------------------------------------------------
// map / unmap / lookup

/** The chunk and word index of a level-2 table (memory not present: undefined). */
function lv2Chunk(d: ExynosDomain, tablePa: number): MemChunk | undefined {
  return d.allocator.mem.chunk(tablePa);
}

/**
 * The level-2 table at `tablePa` through the domain's one-table view cache: the word index of
 * slot 0 in `d.l2Words`, or -1 when no single chunk holds all 256 slots (callers then take
 * the chunk path, which handles tables that run past their memory).
 */
function lv2View(d: ExynosDomain, tablePa: number): number {
  if (tablePa === d.l2Pa) return d.l2Base;
  const c = d.allocator.mem.chunk(tablePa);
  if (c === undefined) return -1;
  const base = (tablePa - c.pa) >>> 2;
  if (base + NUM_LV2ENTRIES > c.words.length) return -1;
  d.l2Pa = tablePa;
  d.l2Words = c.words;
  d.l2Base = base;
  return base;
}

/** Drop the level-2 view cache (a level-2 table was released or the domain freed). */
export function dropLv2View(d: ExynosDomain): void {
  d.l2Pa = -1;
  d.l2Words = NO_WORDS;
  d.l2Base = 0;
}

/** Read a level-2 slot that may lie past its table (a kernel overrun): 0 where no memory is. */
function wildRead(d: ExynosDomain, pa: number): number {
  d.counters.pteReads++;
  return d.allocator.mem.read32(pa);
}

/** Write a level-2 slot that may lie past its table; throws EFAULT where no memory is. */
function wildWrite(d: ExynosDomain, pa: number, v: number): void {
  d.counters.pteWrites++;
  d.allocator.mem.write32(pa, v);
}

/**
 * `alloc_lv2entry()`: the level-2 table of the section at `idx`, allocating one when the slot
 * is a fault (zero link, or type 0/3). Returns its PA, or -errno.
 */
function allocLv2entry(d: ExynosDomain, idx: number, iova: number): number {
  const hw = d.hw;
  const w = d.l1Off + idx;
  const sent = d.l1[w]!;
  d.counters.pteReads++;
  if (lv1entSection(sent)) {
    d.counters.warn(`exynos: mapping a page at 0x${iova.toString(16)} inside a 1 MiB section`);
    return EADDRINUSE;
  }
  if (!lv1entFault(sent, hw.zeroLv2Link)) return lv2tableBase(sent, hw.pgEntShift);
  const needFlushFlpdCache = sent === hw.zeroLv2Link;
  const pent = d.lv2Cache.alloc();
  if (pent < 0) return ENOMEM;
  d.counters.tablesAllocated++;
  d.l1[w] = mkLv1entPage(hw, pent);
  d.counters.pteWrites++;
  d.lv2entcnt[idx] = NUM_LV2ENTRIES;
  if (needFlushFlpdCache) flpdCacheInvalidate(d, iova);
  return pent;
}

/** `lv1set_section()`: a 1 MiB section, replacing an empty level-2 table (which is freed). */
function lv1setSection(d: ExynosDomain, idx: number, iova: number, paddr: Addr, prot: number): number {
  const hw = d.hw;
  const w = d.l1Off + idx;
  const sent = d.l1[w]!;
  d.counters.pteReads++;
  if (lv1entSection(sent)) {
    d.counters.warn(`exynos: mapping 1 MiB at 0x${iova.toString(16)} over a section`);
    return EADDRINUSE;
  }
  if (lv1entPage(sent, hw.zeroLv2Link)) {
    if (d.lv2entcnt[idx] !== NUM_LV2ENTRIES) {
      d.counters.warn(`exynos: mapping 1 MiB at 0x${iova.toString(16)} over a used level-2 table`);
      return EADDRINUSE;
    }
    dropLv2View(d);
    if (d.lv2Cache.free(lv2tableBase(sent, hw.pgEntShift))) d.counters.tablesFreed++;
    d.lv2entcnt[idx] = 0;
  }
  d.l1[w] = mkLv1entSect(hw, paddr, prot);
  d.counters.pteWrites++;
  // The kernel then flushes the FLPD cache if the new entry is a page link (bits 1:0 = 1):
  // a section entry always has bit 1 set, so it never does.
  return 0;
}

/**
 * `lv2set_page()`: a small page, or — for any other size — the 16 replicas of a large page
 * from the slot `j` on (clearing what it wrote when a slot is in use).
 */
function lv2setPage(
  d: ExynosDomain,
  idx: number,
  tablePa: number,
  j: number,
  paddr: Addr,
  size: number,
  prot: number,
): number {
  const hw = d.hw;
  let words: Uint32Array;
  let w: number;
  const base = lv2View(d, tablePa);
  if (base >= 0) {
    words = d.l2Words;
    w = base + j;
  } else {
    const c = lv2Chunk(d, tablePa);
    if (!c) return lv2setPageWild(d, idx, tablePa, j, paddr, size, prot);
    words = c.words;
    w = ((tablePa - c.pa) >>> 2) + j;
  }
  if (size === SPAGE_SIZE) {
    d.counters.pteReads++;
    if (!lv2entFault(words[w]!)) {
      d.counters.warn("exynos: mapping a 4 KiB page over a used level-2 slot");
      return EADDRINUSE;
    }
    words[w] = mkLv2entSpage(hw, paddr, prot);
    d.counters.pteWrites++;
    d.lv2entcnt[idx]! -= 1;
    return 0;
  }
  if (w + SPAGES_PER_LPAGE > words.length) return lv2setPageWild(d, idx, tablePa, j, paddr, size, prot);
  const ent = mkLv2entLpage(hw, paddr, prot);
  for (let i = 0; i < SPAGES_PER_LPAGE; i++) {
    d.counters.pteReads++;
    if (!lv2entFault(words[w + i]!)) {
      d.counters.warn("exynos: mapping a 64 KiB page over a used level-2 slot");
      words.fill(0, w, w + i);
      d.counters.pteWrites += i;
      return EADDRINUSE;
    }
    words[w + i] = ent;
    d.counters.pteWrites++;
  }
  d.lv2entcnt[idx]! -= SPAGES_PER_LPAGE;
  return 0;
}

/** {@link lv2setPage} when the replicas run past the memory of the table's chunk (slot > 240). */
function lv2setPageWild(
  d: ExynosDomain,
  idx: number,
  tablePa: number,
  j: number,
  paddr: Addr,
  size: number,
  prot: number,
): number {
  const hw = d.hw;
  const base = tablePa + 4 * j;
  if (size === SPAGE_SIZE) {
    if (!lv2entFault(wildRead(d, base))) {
      d.counters.warn("exynos: mapping a 4 KiB page over a used level-2 slot");
      return EADDRINUSE;
    }
    wildWrite(d, base, mkLv2entSpage(hw, paddr, prot));
    d.lv2entcnt[idx]! -= 1;
    return 0;
  }
  const ent = mkLv2entLpage(hw, paddr, prot);
  for (let i = 0; i < SPAGES_PER_LPAGE; i++) {
    if (!lv2entFault(wildRead(d, base + 4 * i))) {
      d.counters.warn("exynos: mapping a 64 KiB page over a used level-2 slot");
      for (let k = 0; k < i; k++) wildWrite(d, base + 4 * k, 0);
      return EADDRINUSE;
    }
    wildWrite(d, base + 4 * i, ent);
  }
  d.lv2entcnt[idx]! -= SPAGES_PER_LPAGE;
  return 0;
}

/**
 * `exynos_iommu_map()` on the truncated IOVA: one page of `size` (1 MiB → section, 4 KiB →
 * small page, anything else → a 64 KiB large page). Returns 0 or -errno.
 */
export function exynosIommuMap(
  d: ExynosDomain,
  iova: number,
  paddr: Addr,
  size: number,
  prot: number,
): number {
  prot &= IOMMU_READ | IOMMU_WRITE;
  const idx = iova >>> 20;
  if (size === SECT_SIZE) return lv1setSection(d, idx, iova, paddr, prot);
  const pent = allocLv2entry(d, idx, iova);
  if (pent < 0) return pent;
  return lv2setPage(d, idx, pent, (iova >>> 12) & 0xff, paddr, size, prot);
}

/**
 * `exynos_iommu_unmap()` on the truncated IOVA: returns the size unmapped — the page's, a
 * hole's (min(size, 1 MiB) for an empty section, 4 KiB for an empty slot) — or 0 with a WARN
 * when `size` is smaller than the section or large page there.
 */
export function exynosIommuUnmap(d: ExynosDomain, iova: number, size: number): number {
  const hw = d.hw;
  const idx = iova >>> 20;
  const w1 = d.l1Off + idx;
  const sent = d.l1[w1]!;
  d.counters.pteReads++;
  if (lv1entSection(sent)) {
    if (size < SECT_SIZE) {
      d.counters.warn(`exynos: unmapping 0x${size.toString(16)} bytes of a 1 MiB section`);
      return 0;
    }
    d.l1[w1] = hw.zeroLv2Link;
    d.counters.pteWrites++;
    size = SECT_SIZE;
  } else if (lv1entFault(sent, hw.zeroLv2Link)) {
    if (size > SECT_SIZE) size = SECT_SIZE;
  } else {
    const tablePa = lv2tableBase(sent, hw.pgEntShift);
    const j = (iova >>> 12) & 0xff;
    const base = lv2View(d, tablePa);
    let words: Uint32Array | undefined;
    let w = -1;
    if (base >= 0) {
      words = d.l2Words;
      w = base + j;
    } else {
      const c = lv2Chunk(d, tablePa);
      if (c) {
        words = c.words;
        w = ((tablePa - c.pa) >>> 2) + j;
      }
    }
    const pent = words ? words[w]! : 0;
    d.counters.pteReads++;
    if (lv2entFault(pent)) {
      size = SPAGE_SIZE;
    } else if (lv2entSmall(pent)) {
      words![w] = 0;
      d.counters.pteWrites++;
      size = SPAGE_SIZE;
      d.lv2entcnt[idx]! += 1;
    } else {
      if (size < LPAGE_SIZE) {
        d.counters.warn(`exynos: unmapping 0x${size.toString(16)} bytes of a 64 KiB page`);
        return 0;
      }
      if (w + SPAGES_PER_LPAGE <= words!.length) {
        words!.fill(0, w, w + SPAGES_PER_LPAGE);
        d.counters.pteWrites += SPAGES_PER_LPAGE;
      } else {
        for (let i = 0; i < SPAGES_PER_LPAGE; i++) wildWrite(d, tablePa + 4 * (j + i), 0);
      }
      size = LPAGE_SIZE;
      d.lv2entcnt[idx]! += SPAGES_PER_LPAGE;
    }
  }
  tlbInvalidateEntry(d, iova, size);
  return size;
}

/** The level-2 entry for `iova` under the link `sent` (0 where no memory is). */
function readLv2(d: ExynosDomain, sent: number, iova: number): number {
  const tablePa = lv2tableBase(sent, d.hw.pgEntShift);
  const base = lv2View(d, tablePa);
  d.counters.pteReads++;
  if (base >= 0) return d.l2Words[base + ((iova >>> 12) & 0xff)]!;
  const c = lv2Chunk(d, tablePa);
  if (!c) return 0;
  return c.words[((tablePa - c.pa) >>> 2) + ((iova >>> 12) & 0xff)] ?? 0;
}

/** {@link readLv2} without counting: the strict checks' look-ahead, not part of the kernel's walk. */
function peekLv2(d: ExynosDomain, sent: number, iova: number): number {
  const tablePa = lv2tableBase(sent, d.hw.pgEntShift);
  const c = lv2Chunk(d, tablePa);
  return c ? (c.words[((tablePa - c.pa) >>> 2) + ((iova >>> 12) & 0xff)] ?? 0) : 0;
}

/** Model-only: what a strict domain's table reaches, IOVA bits 31:0 (for `holeSpanOutside`). */
const STRICT_RANGES: readonly IovaRange[] = [[0n, 0xffff_ffffn]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it): one walk, reporting the IOVA's physical address
 * (page offset kept) and the leaf's size — 1 MiB section, 64 KiB for any of a large page's 16
 * replicas, 4 KiB small page — or, unmapped, the empty span: 1 MiB at a faulting level-1 slot,
 * 4 KiB at an empty level-2 slot. A strict domain does not alias IOVAs ≥ 4 GiB: unmapped, the
 * largest naturally aligned block around the IOVA above 4 GiB.
 */
export function exynosIommuIovaToPhysLength(d: ExynosDomain, iova: Addr, out: PhysLength): void {
  if (d.pgtable < 0) {
    out.setUnmapped(SPAGE_SIZE);
    return;
  }
  if (d.strict && atOrAbove(iova, TWO32)) {
    out.setUnmapped(holeSpanOutside(iova, STRICT_RANGES));
    return;
  }
  const i32 = low32(iova);
  const counters = d.counters;
  const hw = d.hw;
  const shift = hw.pgEntShift;
  const sent = d.l1[d.l1Off + (i32 >>> 20)]!;
  counters.pteReads++;
  let order: number;
  let ent: number;
  if ((sent & 3) === 2) {
    order = SECT_ORDER;
    ent = sent;
  } else if ((sent & 3) === 1 && sent !== hw.zeroLv2Link) {
    const tablePa = lv2tableBase(sent, shift);
    const j = (i32 >>> 12) & 0xff;
    if (tablePa === d.l2Pa) {
      ent = d.l2Words[d.l2Base + j]!;
      counters.pteReads++;
    } else {
      ent = readLv2(d, sent, i32);
    }
    const t = ent & 3;
    if (t === 1) order = LPAGE_ORDER;
    else if (t >= 2) order = SPAGE_ORDER;
    else {
      out.setUnmapped(SPAGE_SIZE);
      return;
    }
  } else {
    out.setUnmapped(SECT_SIZE);
    return;
  }
  // sect_to_phys(ent) & ~(size - 1) as a frame number: (ent << shift) >> order << (order - 12).
  const basePfn = (ent >>> (order - shift)) * (1 << (order - SPAGE_ORDER));
  const inLeaf = (i32 & ((1 << order) - 1)) >>> SPAGE_ORDER;
  out.setMapped(basePfn + inLeaf, i32 & 0xfff, 1 << order);
}

// ---------------------------------------------------------------------------------------------
// strict mode

/** Throw a quirk report; the args record is built only here, off the hot path. */
function quirk(
  q: ExynosQuirkError["quirk"],
  op: string,
  iova: Addr,
  paddr: Addr | undefined,
  size: number,
  detail: string,
): never {
  throw new ExynosQuirkError(q, op, paddr === undefined ? { iova, size } : { iova, paddr, size }, detail);
}

/** A strict domain's checks before `.map`: -EINVAL, a thrown quirk, or 0 to go on. */
function strictMapCheck(d: ExynosDomain, iova: Addr, paddr: Addr, size: number, prot: number): number {
  if (atOrAbove(iova, TWO32))
    quirk("iova-truncated", "exynos_iommu_map", iova, paddr, size, "the driver keeps IOVA bits 31:0 only");
  if (size !== SPAGE_SIZE && size !== LPAGE_SIZE && size !== SECT_SIZE) return EINVAL; // pgsize-unsupported
  if (modAddr(iova, size) !== 0 || modAddr(paddr, size) !== 0) return EINVAL; // iova-/pa-unaligned
  if (atOrAbove(paddr, 2 ** (32 + d.hw.pgEntShift)))
    quirk("pa-truncated", "exynos_iommu_map", iova, paddr, size, `PA beyond ${32 + d.hw.pgEntShift} bits`);
  if (d.hw.major < 5 && (prot & (IOMMU_READ | IOMMU_WRITE)) === IOMMU_WRITE)
    quirk(
      "write-only-promoted",
      "exynos_iommu_map",
      iova,
      paddr,
      size,
      "SysMMU v1-v3 map write-only as read/write",
    );
  return 0;
}

/** A strict domain's `.unmap`: the kernel's, except holes (0) and large-page replicas (thrown). */
function strictUnmap(d: ExynosDomain, iova: Addr, size: number): number {
  if (atOrAbove(iova, TWO32))
    quirk(
      "iova-truncated",
      "exynos_iommu_unmap",
      iova,
      undefined,
      size,
      "the driver keeps IOVA bits 31:0 only",
    );
  const i32 = low32(iova);
  const hw = d.hw;
  const sent = d.l1[d.l1Off + (i32 >>> 20)]!;
  if (lv1entFault(sent, hw.zeroLv2Link)) return 0; // hole-unmap
  if (lv1entPage(sent, hw.zeroLv2Link)) {
    const pent = peekLv2(d, sent, i32);
    if (lv2entFault(pent)) return 0; // hole-unmap
    if (lv2entLarge(pent) && size >= LPAGE_SIZE && ((i32 >>> 12) & 0xf) !== 0)
      quirk(
        "lpage-unmap-replica",
        "exynos_iommu_unmap",
        iova,
        undefined,
        size,
        "the 16 slots cleared would start at a replica other than the first",
      );
  }
  return exynosIommuUnmap(d, i32, size);
}

// ---------------------------------------------------------------------------------------------
// the ops table

/**
 * `exynos_iommu_ops.default_domain_ops` as an {@link IommuDomainOps}: the era's legacy `.map`
 * and `.unmap` take one page (the core of that era called them once per page and took
 * `mapped = pgsize`), so `mapPages` maps one page of `pgsize` whatever `pgcount` is and
 * `unmapPages` unmaps one. `free` is `exynos_iommu_domain_free`. Model-only addition
 * (issue 17): `iovaToPhysRuns` (runs.ts). Each {@link ExynosSysmmu} owns one table.
 */
export function createExynosDomainOps(name: string): IommuDomainOps<ExynosDomain> {
  return {
    name,
    mapPages(d, iova, paddr, pgsize, _pgcount, prot, _gfp, mapped: SizeOut) {
      if (d.pgtable < 0) return ENODEV;
      if (d.strict) {
        const r = strictMapCheck(d, iova, paddr, pgsize, prot);
        if (r) return r;
      }
      const ret = exynosIommuMap(d, low32(iova), paddr, pgsize, prot);
      if (ret === 0) mapped.value += pgsize;
      return ret;
    },
    unmapPages(d, iova, pgsize, _pgcount, _gather: IotlbGather | null) {
      if (d.pgtable < 0) return 0;
      if (d.strict) return strictUnmap(d, iova, pgsize);
      return exynosIommuUnmap(d, low32(iova), pgsize);
    },
    iovaToPhysLength: exynosIommuIovaToPhysLength,
    iovaToPhysRuns: exynosIommuIovaToPhysRuns,
    free: exynosIommuDomainFree,
    inspect(d): PageTableInspector | null {
      if (d.pgtable < 0) return null;
      return createExynosInspector({
        mem: d.allocator.mem,
        pgtable: d.pgtable,
        pgEntShift: d.hw.pgEntShift,
        zeroLv2Link: d.hw.zeroLv2Link,
        lv2entcnt: d.lv2entcntPa,
        lv2entcntMem: d.lv2entcntAllocator.mem,
      });
    },
  };
}

/**
 * `exynos_iommu_domain_free()`: every level-2 table linked from the level-1 table goes back to
 * the cache, then the level-1 table and the counters are freed.
 */
export function exynosIommuDomainFree(d: ExynosDomain): void {
  if (d.pgtable < 0) return;
  dropLv2View(d);
  const hw = d.hw;
  for (let i = 0; i < NUM_LV1ENTRIES; i++) {
    const sent = d.l1[d.l1Off + i]!;
    if (lv1entPage(sent, hw.zeroLv2Link) && d.lv2Cache.free(lv2tableBase(sent, hw.pgEntShift)))
      d.counters.tablesFreed++;
  }
  if (d.allocator.sizeOf(d.pgtable)) {
    releaseUncounted(d.allocator, d.pgtable);
    d.counters.tablesFreed++;
  }
  if (d.lv2entcntAllocator.sizeOf(d.lv2entcntPa)) releaseUncounted(d.lv2entcntAllocator, d.lv2entcntPa);
  d.pgtable = -1;
  d.lv2entcntPa = -1;
}
