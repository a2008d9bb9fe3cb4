/**
 * drivers/iommu/sprd-iommu.c (torvalds/linux 4bbdb725): `struct sprd_iommu_domain` and its
 * ops — `sprd_iommu_map`/`_unmap` (`pgcount` 4 KiB entries whatever the page size), the
 * series' `iova_to_phys_length` (its last step removed `iova_to_phys`), and the TLB clears of `iotlb_sync_map` /
 * `iotlb_sync` — on the flat table in simulated physical memory.
 *
 * Hot paths (map, unmap, lookup) allocate nothing and use no BigInt per PTE: entries are
 * 32-bit numbers read and written through the table's `Uint32Array` words.
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
  type PageTableInspector,
  type PhysLength,
  releaseUncounted,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import { low32, modAddr } from "./bits.js";
import {
  SPRD_APERTURE_END,
  SPRD_EX_REGS,
  SPRD_IOMMU_PAGE_SIZE,
  SPRD_PGT_ENTRIES,
  SPRD_VAU_REGS,
  type SprdIommuVersion,
  sprdMkEntry,
} from "./defs.js";
import { createSprdInspector } from "./inspect.js";
import { SprdQuirkError } from "./quirks.js";
import { sprdIommuIovaToPhysRuns } from "./runs.js";
import type { SprdTlbLog } from "./tlb-log.js";

const EINVAL = -22;
const EEXIST = -17;
const TWO32 = 2 ** 32;
const U64 = 1n << 64n;

/**
 * `struct sprd_iommu_domain`: the flat table (`pgt_va`/`pgt_pa`, allocated when the domain is
 * first attached) over the aperture 0..256 MiB − 1.
 */
export class SprdDomain implements IommuDomain {
  type: number;
  ops: IommuDomainOps | null;
  /** The core fills it in from `sprd_iommu_ops.pgsize_bitmap`. */
  pgsizeBitmap = SPRD_IOMMU_PAGE_SIZE;
  geometry: IommuDomainGeometry = { apertureStart: 0, apertureEnd: SPRD_APERTURE_END, forceAperture: true };
  readonly counters: IommuCounters;
  readonly allocator: TableAllocator;
  /** The IOMMU's version (`sdev->ver`): which register layout the syncs write. */
  readonly version: SprdIommuVersion;
  /** `pgt_pa`: PA of the flat table; -1 before attach and once freed (`dom->sdev` NULL). */
  pgt: number;
  /**
   * Report kernel quirks instead of reproducing them (README "Known kernel quirks"): typed
   * {@link SprdQuirkError}s, -EEXIST for an overlap, -EINVAL for unaligned PAs and wrapping
   * ranges, unmaps that stop at the first empty entry.
   */
  strict: boolean;
  /** The table's words and the index of entry 0 in them (hot-path view). */
  pgtWords: Uint32Array = new Uint32Array(0);
  pgtOff = 0;
  /**
   * Model-only: the TLB-clear writes this domain's syncs make on its IOMMU, kept once an IOTLB
   * feed turned the log on (null: not kept).
   */
  tlbLog: SprdTlbLog | null = null;

  constructor(init: {
    type: number;
    ops: IommuDomainOps;
    allocator: TableAllocator;
    counters: IommuCounters;
    version: SprdIommuVersion;
    strict: boolean;
  }) {
    this.type = init.type;
    this.ops = init.ops;
    this.allocator = init.allocator;
    this.counters = init.counters;
    this.version = init.version;
    this.strict = init.strict;
    this.pgt = -1;
  }

  /** Point the hot-path view at the table at `pgt` (attach). */
  setTable(pgt: number): void {
    this.pgt = pgt;
    const c = this.allocator.mem.chunk(pgt)!;
    this.pgtWords = c.words;
    this.pgtOff = (pgt - c.pa) >>> 2;
  }
}

/**
 * The aperture check of `sprd_iommu_map`/`_unmap`: `iova < start || iova + size > end + 1`
 * with `size = pgcount · 4 KiB`, all in u64 arithmetic (the sum wraps). Returns the first
 * entry index, or -1 when the range is refused; -2 - index when it passed by wrapping.
 */
function apertureIndex(iova: Addr, pgcount: number): number {
  if (typeof iova === "number") {
    const end = iova + pgcount * SPRD_IOMMU_PAGE_SIZE;
    if (end <= Number.MAX_SAFE_INTEGER)
      return end > SPRD_APERTURE_END + 1 ? -1 : Math.floor(iova / SPRD_IOMMU_PAGE_SIZE);
  }
  const v = BigInt(iova);
  const sum = v + BigInt(Math.floor(pgcount)) * BigInt(SPRD_IOMMU_PAGE_SIZE);
  if (sum % U64 > BigInt(SPRD_APERTURE_END + 1)) return -1;
  const idx = Number(v >> 12n);
  return sum >= U64 ? -2 - idx : idx;
}

/** Write one entry that may lie past the table (a kernel overrun); throws EFAULT where no memory is. */
function wildWrite(d: SprdDomain, idx: number, v: number): void {
  d.counters.pteWrites++;
  d.allocator.mem.write32(d.pgt + 4 * idx, v);
}

/**
 * `sprd_iommu_map()`: -EINVAL when not attached or outside the aperture; otherwise `pgcount`
 * entries `pabase >> 12` from the IOVA's (pabase a u32 that wraps), overwriting whatever was
 * there, and `mapped += pgcount · 4 KiB`.
 */
export function sprdIommuMap(
  d: SprdDomain,
  iova: Addr,
  paddr: Addr,
  pgcount: number,
  mapped: SizeOut,
): number {
  if (d.pgt < 0) return EINVAL; // pr_err: no sprd_iommu_device attached
  let idx = apertureIndex(iova, pgcount);
  if (idx === -1) return EINVAL; // dev_err: not in the range
  if (idx < -1) idx = -2 - idx;
  let pabase = low32(paddr);
  if (idx + pgcount <= SPRD_PGT_ENTRIES) {
    const words = d.pgtWords;
    const w = d.pgtOff + idx;
    for (let i = 0; i < pgcount; i++) {
      words[w + i] = sprdMkEntry(pabase);
      pabase = (pabase + SPRD_IOMMU_PAGE_SIZE) >>> 0;
    }
    d.counters.pteWrites += pgcount;
  } else {
    for (let i = 0; i < pgcount; i++) {
      wildWrite(d, idx + i, sprdMkEntry(pabase));
      pabase = (pabase + SPRD_IOMMU_PAGE_SIZE) >>> 0;
    }
  }
  mapped.value += pgcount * SPRD_IOMMU_PAGE_SIZE;
  return 0;
}

/** `sprd_iommu_unmap()`: 0 outside the aperture, else `pgcount` entries cleared and their size returned. */
export function sprdIommuUnmap(d: SprdDomain, iova: Addr, pgcount: number): number {
  if (d.pgt < 0) return 0; // the kernel would clear through a NULL table
  let idx = apertureIndex(iova, pgcount);
  if (idx === -1) return 0;
  if (idx < -1) idx = -2 - idx;
  if (idx + pgcount <= SPRD_PGT_ENTRIES) {
    const w = d.pgtOff + idx;
    d.pgtWords.fill(0, w, w + pgcount);
    d.counters.pteWrites += pgcount;
  } else {
    for (let i = 0; i < pgcount; i++) wildWrite(d, idx + i, 0);
  }
  return pgcount * SPRD_IOMMU_PAGE_SIZE;
}

/** Whether `iova` is outside 0..SPRD_APERTURE_END. */
function outsideAperture(iova: Addr): boolean {
  return typeof iova === "number" ? iova > SPRD_APERTURE_END : iova > BigInt(SPRD_APERTURE_END);
}

/** Model-only: the aperture `[0, SPRD_APERTURE_END]`, what the table reaches (for `holeSpanOutside`). */
const APERTURE_RANGES: readonly IovaRange[] = [[0n, BigInt(SPRD_APERTURE_END)]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it), keeping the pre-series op's aperture WARN: an
 * entry ≠ 0 is a mapped 4 KiB page, `(entry << 12)` plus the page offset; entry 0 — never
 * written, unmapped, or a page at PA 0 — reads as a 4 KiB hole (the pre-series
 * `sprd_iommu_iova_to_phys()` answered the page offset there). Beyond the aperture: a WARN,
 * and unmapped, the largest naturally aligned block around the IOVA above it.
 */
export function sprdIommuIovaToPhysLength(d: SprdDomain, iova: Addr, out: PhysLength): void {
  if (outsideAperture(iova)) {
    d.counters.warn("sprd: iova_to_phys outside the aperture");
    out.setUnmapped(holeSpanOutside(iova, APERTURE_RANGES));
    return;
  }
  if (d.pgt < 0) {
    out.setUnmapped(SPRD_IOMMU_PAGE_SIZE);
    return;
  }
  const i = Number(iova);
  const ent = d.pgtWords[d.pgtOff + Math.floor(i / SPRD_IOMMU_PAGE_SIZE)]!;
  d.counters.pteReads++;
  if (ent === 0) out.setUnmapped(SPRD_IOMMU_PAGE_SIZE);
  else out.setMapped(ent, i & 0xfff, SPRD_IOMMU_PAGE_SIZE);
}

/** `sprd_iommu_sync_map()` (and `sprd_iommu_sync()`): write all-ones to EX/VAU_UPDATE, clearing the TLB. */
export function sprdIommuSyncMap(d: SprdDomain, _iova: number, _size: number): number {
  d.counters.flushAll++;
  d.tlbLog?.record((d.version === "vau" ? SPRD_VAU_REGS : SPRD_EX_REGS).update, 0xffff_ffff);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// strict mode and the ops table

/** Throw a quirk report; the args record is built only here, off the hot path. */
function quirk(
  q: SprdQuirkError["quirk"],
  iova: Addr,
  paddr: Addr,
  pgcount: number,
  prot: number,
  detail: string,
): never {
  throw new SprdQuirkError(q, "sprd_iommu_map", { iova, paddr, pgcount, prot }, detail);
}

/** A strict domain's checks before `sprd_iommu_map`: -EINVAL / -EEXIST, a thrown quirk, or 0. */
function strictMapCheck(d: SprdDomain, iova: Addr, paddr: Addr, pgcount: number, prot: number): number {
  if ((prot & (IOMMU_READ | IOMMU_WRITE)) !== (IOMMU_READ | IOMMU_WRITE))
    quirk(
      "prot-ignored",
      iova,
      paddr,
      pgcount,
      prot,
      "the table has no permission bits: the page would be read/write",
    );
  const idx = apertureIndex(iova, pgcount);
  if (idx < -1) return EINVAL; // aperture-wrap
  if (idx === -1 || d.pgt < 0) return 0; // the kernel's own -EINVAL
  if (modAddr(paddr, SPRD_IOMMU_PAGE_SIZE) !== 0) return EINVAL; // pa-unaligned
  const end =
    typeof paddr === "number" ? paddr + pgcount * SPRD_IOMMU_PAGE_SIZE : Number(paddr) + pgcount * 4096;
  if (end > TWO32) quirk("pa-truncated", iova, paddr, pgcount, prot, "the entries keep PA bits 31:12 only");
  if (paddr === 0 || paddr === 0n)
    quirk("pa-zero", iova, paddr, pgcount, prot, "a page at PA 0 is entry 0, which reads as unmapped");
  const w = d.pgtOff + idx;
  for (let i = 0; i < pgcount; i++) if (d.pgtWords[w + i] !== 0) return EEXIST; // silent-overwrite
  return 0;
}

/** A strict domain's `sprd_iommu_unmap`: only the mapped run from `iova` (hole-unmap), 0 on wrap. */
function strictUnmap(d: SprdDomain, iova: Addr, pgcount: number): number {
  if (d.pgt < 0) return 0;
  const idx = apertureIndex(iova, pgcount);
  if (idx < 0) return 0; // outside, or aperture-wrap
  const w = d.pgtOff + idx;
  let n = 0;
  while (n < pgcount && d.pgtWords[w + n] !== 0) n++;
  d.counters.pteReads += n + (n < pgcount ? 1 : 0);
  return n === 0 ? 0 : sprdIommuUnmap(d, iova, n);
}

/**
 * `sprd_iommu_ops.default_domain_ops` as an {@link IommuDomainOps}: `map_pages`/`unmap_pages`
 * take `pgcount` 4 KiB entries whatever `pgsize` is, `iotlb_sync_map` and `iotlb_sync` clear
 * the TLB, the series' `iova_to_phys_length` (no `iova_to_phys`: the series removed it), `free` =
 * `sprd_iommu_domain_free`. Model-only addition (issue 17): `iovaToPhysRuns` (runs.ts). Each
 * {@link SprdIommu} owns one table.
 */
export function createSprdDomainOps(name: string): IommuDomainOps<SprdDomain> {
  return {
    name,
    mapPages(d, iova, paddr, _pgsize, pgcount, prot, _gfp, mapped: SizeOut) {
      if (d.strict) {
        const r = strictMapCheck(d, iova, paddr, pgcount, prot);
        if (r) return r;
      }
      return sprdIommuMap(d, iova, paddr, pgcount, mapped);
    },
    unmapPages(d, iova, _pgsize, pgcount, _gather: IotlbGather | null) {
      if (d.strict) return strictUnmap(d, iova, pgcount);
      return sprdIommuUnmap(d, iova, pgcount);
    },
    iotlbSyncMap: sprdIommuSyncMap,
    iotlbSync: (d) => void sprdIommuSyncMap(d, 0, 0),
    iovaToPhysLength: sprdIommuIovaToPhysLength,
    iovaToPhysRuns: sprdIommuIovaToPhysRuns,
    free: sprdIommuDomainFree,
    inspect(d): PageTableInspector | null {
      if (d.pgt < 0) return null;
      return createSprdInspector({ mem: d.allocator.mem, pgt: d.pgt });
    },
  };
}

/** `sprd_iommu_domain_free()` → `sprd_iommu_cleanup()`: the table goes back (if attached). */
export function sprdIommuDomainFree(d: SprdDomain): void {
  if (d.pgt < 0) return;
  releaseUncounted(d.allocator, d.pgt);
  d.counters.tablesFreed++;
  d.pgt = -1;
  d.pgtWords = new Uint32Array(0);
}
