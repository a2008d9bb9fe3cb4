/**
 * The shared generic_pt walker and IOMMU operations (drivers/iommu/generic_pt/iommu_pt.h,
 * pt_iter.h): one implementation of range iteration, page-size selection, map, unmap,
 * iova_to_phys, dirty tracking and dynamic top growth for every format.
 *
 * The kernel writes each walk as a recursive per-level function (PT_MAKE_LEVELS). Here every
 * walk is a loop over an explicit level stack held in preallocated per-level arrays, and the
 * `pt_range` cursor lives in four number fields:
 *
 *   va      = curPfn  · 4096 + curOff     (range->va, moved by pt_index_to_va)
 *   last_va = lastPfn · 4096 + lastOff    (range->last_va)
 *
 * Every item size is ≥ 4 KiB, so all index arithmetic works on frame numbers (< 2^52, exact
 * doubles): no BigInt and no allocation on the map/unmap/lookup paths.
 */
import {
  type Addr,
  ERRNO,
  fromPfn,
  IOMMU_DIRTY_NO_CLEAR,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  type IommuDirtyBitmap,
  IotlbGather,
  iotlbGatherAddRange,
  iotlbGatherIsDisjoint,
  offOf,
  type PhysLength,
  pfnOf,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import { bitmapSizesDesc } from "./best-pgsize.js";
import { cContig, cFieldHi, cFieldLo, cPfn, cType, EntryCodec } from "./entry-codec.js";
import {
  bit,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
} from "./features.js";
import {
  ctz,
  flsIdx,
  P2,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtAttrs,
  type PtCommonInit,
  type PtFormat,
  type PtHwInfoField,
} from "./format.js";

const EINVAL = -ERRNO.EINVAL;
const ERANGE = -ERRNO.ERANGE;
const ENOENT = -ERRNO.ENOENT;
const ENOMEM = -ERRNO.ENOMEM;
const ENXIO = -ERRNO.ENXIO;
const EAGAIN = -ERRNO.EAGAIN;
const EOVERFLOW = -ERRNO.EOVERFLOW;
const EADDRINUSE = -ERRNO.EADDRINUSE;
const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;

const PAGE = 4096;
const PFN_LIMIT = P2[52]!;
const MAX_LEVELS = 6;
const NO_WORDS = new Uint32Array(0);
const INV512 = 1 / 512;
/** `(phys_addr_t)-ERANGE` */
const ERANGE_PHYS = (1n << 64n) + BigInt(ERANGE);

/** One step of {@link PtTable.walkSteps}. */
export interface PtWalkStep {
  level: number;
  index: number;
  kind: "table" | "leaf" | "empty";
  /** The raw 64-bit item. */
  raw: bigint;
  /** Item size (table/empty) or entry size (leaf, contiguous entries whole). */
  sizeLg2: number;
  /** Leaf: the exact output address of the iova. */
  oa: bigint;
}

/** Configuration of `pt_iommu_<fmt>_init` (`struct pt_iommu_<fmt>_cfg`). */
export interface PtIommuConfig {
  /** `common.features` (bit mask of PT_FEAT_*). */
  features: number;
  /** `common.hw_max_vasz_lg2` */
  vaBits: number;
  /** `common.hw_max_oasz_lg2` */
  oaBits: number;
  /** amdv1 `starting_level`, vtdss/x86_64 `top_level`; undefined = the format's default. */
  level?: number;
  /** Whether an `iommu_device` is set (needed by DMA_INCOHERENT). */
  hasIommuDevice?: boolean;
}

/** `pt_iommu_driver_ops` plus the model's hooks. */
export interface PtDriverHooks {
  /** `change_top`: the top table moved (amdv1 dynamic top growth). */
  changeTop?(topPa: number, topLevel: number): void;
  /** Informational kernel messages (pr_err, WARN text). */
  log?(text: string): void;
}

/** Cache-maintenance calls a DMA_INCOHERENT table makes (iommu_pages_*_incoherent). */
export class IncoherentStats {
  start = 0;
  flush = 0;
  flushBytes = 0;
  stop = 0;
}

/**
 * A live generic_pt table (`struct pt_iommu` + `struct pt_common` of one format).
 * Construct with {@link ptIommuInit}.
 */
export class PtTable {
  readonly fmt: PtFormat;
  /** The format's entry layout, decoded inline by the walker. */
  private readonly codec: EntryCodec;
  readonly alloc: TableAllocator;
  readonly counters: IommuCounters;
  readonly hooks: PtDriverHooks;
  /** `common->features` after init (what the kernel kept). */
  features = 0;
  /** `common->max_vasz_lg2` / `max_oasz_lg2` */
  maxVasz = 0;
  maxOasz = 0;
  topLevel = 0;
  topPa = 0;
  /** `pt_iommu_info.pgsize_bitmap`; the domain may narrow its own copy. */
  pgsizeBitmap = 0;
  /** Aperture of the domain (inclusive end), as frame + offset of the end. */
  apertureStart: Addr = 0;
  apertureEnd: Addr = 0;
  /** Times the top grew (driver change_top calls). */
  topChanges = 0;
  /** iommu_iotlb_sync() calls on this table's domain (the harness's `iotlb_sync`). */
  syncCount = 0;
  readonly incoherent = new IncoherentStats();
  /** Bitmap the next map uses (the domain's `pgsize_bitmap`); see {@link setDomainBitmap}. */
  private domainBitmap = 0;
  private sizesDesc: number[] = [];
  /** bestBelow[b] = the largest bitmap size ≤ 2^b (lg2), 0 if none. */
  private readonly bestBelow = new Int32Array(65);

  // Feature predicates resolved once (pt_feature()).
  private fDyn = false;
  private fSign = false;
  private fIncoherent = false;
  private fFlushRange = false;
  private fNoGaps = false;

  // Top range (`_pt_top_range`): its max_vasz_lg2 and derived frame scales.
  private rangeMaxVasz = 0;
  /** Items the top table indexes: 2^(range max_vasz - top item size). */
  private topItems = 512;
  private invTopItems = 1 / 512;
  /** pt_check_range constants for the top range: 2^-(max_vasz-12), 2^-(max_vasz-13), upper prefix. */
  private rangeInv = 0;
  private rangeSignInv = 0;
  private rangeUpper = 0;
  /** A single frame is inside the top range iff pfn < lkLow or pfn ≥ lkHigh. */
  private lkLow = 0.5;
  private lkHigh = 0.5;
  private topWords: Uint32Array = new Uint32Array(0);

  // Level constants.
  private readonly scale = new Float64Array(MAX_LEVELS + 1);
  /** 1 / scale: exact, and a multiply is several times cheaper than a divide. */
  private readonly invScale = new Float64Array(MAX_LEVELS + 1);
  /** Items a table at each level indexes (512; the top: topItems) and the reciprocals. */
  private readonly levelItems = new Float64Array(MAX_LEVELS + 1);
  private readonly invLevelItems = new Float64Array(MAX_LEVELS + 1);
  /** levelItems − 1: item counts are powers of two ≤ 512 (a 4 KiB table at most). */
  private readonly levelMask = new Int32Array(MAX_LEVELS + 1);
  private readonly tableOaScale = new Float64Array(MAX_LEVELS + 1);
  private readonly invTableOaScale = new Float64Array(MAX_LEVELS + 1);

  // The pt_range cursor.
  private curPfn = 0;
  private curOff = 0;
  private lastPfn = 0;
  private lastOff = 0;

  // Per-level walk stack.
  private readonly lvWords: Uint32Array[] = [];
  private readonly lvIdx = new Int32Array(MAX_LEVELS + 1);
  private readonly lvEnd = new Int32Array(MAX_LEVELS + 1);
  private readonly lvStart = new Int32Array(MAX_LEVELS + 1);
  private readonly lvNum = new Float64Array(MAX_LEVELS + 1);
  private readonly lvFully = new Uint8Array(MAX_LEVELS + 1);
  private readonly lvChild = new Float64Array(MAX_LEVELS + 1);
  private readonly cWords: Uint32Array[] = [];
  private readonly cIdx = new Int32Array(MAX_LEVELS + 1);

  /**
   * Walk cache: `wcWords[l]` is the level-l table the last single-address walk ended in, for
   * the VA frames with `floor(pfn / 512^(l+1)) === wcKey[l]` (-1: none). Every entry above it
   * on that path is a table entry, so a walk may start at level l and count the skipped
   * reads, with the same outcome and counters as the full descent. Only unlinking a table
   * changes such an entry: {@link forgetWalks} runs wherever that happens.
   */
  private readonly wcKey = new Float64Array(MAX_LEVELS + 1).fill(-1);
  private readonly wcWords: Uint32Array[] = [];
  private wcHit: Uint32Array = NO_WORDS;

  /** Table memory by (pfn − arena base pfn): resolved once when allocated. */
  private readonly tw: Uint32Array[] = [];
  private readonly basePfn: number;

  // Map state (`struct pt_iommu_map_args`).
  private readonly attrs = new PtAttrs();
  /** prot the attrs were computed for (set_prot is a pure function of prot and features). */
  private attrsProt = -1;
  private readonly mapGather = new IotlbGather();
  private mOaPfn = 0;
  private mLeafLg2 = 0;
  private mLeafLevel = 0;

  // Unmap / collect scratch lists (table PAs).
  private readonly uFree: number[] = [];
  private readonly collect: number[] = [];
  private uUnmapped = 0;
  private readonly scratchGather = new IotlbGather();

  // Lookup result.
  private lPhysPfn = 0;
  private lLenLg2 = 0;
  private lLevel = 0;

  private destroyed = false;
  /** The tables belong to an adopted image: deinit leaves them alone. */
  private adopted = false;

  constructor(fmt: PtFormat, alloc: TableAllocator, counters: IommuCounters, hooks: PtDriverHooks = {}) {
    this.fmt = fmt;
    this.codec = new EntryCodec(fmt.layout);
    this.alloc = alloc;
    this.counters = counters;
    this.hooks = hooks;
    this.basePfn = alloc.base / PAGE;
    for (let l = 0; l <= MAX_LEVELS; l++) {
      this.scale[l] = P2[9 * l]!;
      this.invScale[l] = 2 ** (-9 * l);
      this.lvWords.push(this.topWords);
      this.wcWords.push(NO_WORDS);
      this.cWords.push(this.topWords);
    }
  }

  // ---------------------------------------------------------------- features, geometry

  /** `pt_feature()`: forced → on, unsupported → off, else the features bit. */
  feature(nr: number): boolean {
    const b = bit(nr);
    if (this.fmt.forced & b) return true;
    if (!(this.fmt.supported & b)) return false;
    return (this.features & b) !== 0;
  }

  /** `pt_table_item_lg2sz` */
  itemLg2(level: number): number {
    return 12 + 9 * level;
  }

  /** max_vasz_lg2 of `_pt_top_range` for a top at `level`. */
  topRangeMaxVasz(level: number): number {
    if (this.fDyn && level !== this.fmt.maxTopLevel)
      return Math.min(this.maxVasz, this.fmt.numItemsLg2(level) + this.itemLg2(level));
    return this.maxVasz;
  }

  /** Number of items of the top table the walk can index (dump's `entries=`). */
  get topEntries(): number {
    return P2[this.rangeMaxVasz - this.itemLg2(this.topLevel)]!;
  }

  /** The top range's max_vasz_lg2 (both halves for SIGN_EXTEND). */
  get topRangeBits(): number {
    return this.rangeMaxVasz;
  }

  get signExtend(): boolean {
    return this.fSign;
  }

  /** `pt_iommu_ops.get_info`: the page sizes the table can map. */
  getInfo(): { pgsizeBitmap: number } {
    return { pgsizeBitmap: this.pgsizeBitmap };
  }

  /** `pt_iommu_<fmt>_hw_info` */
  hwInfo(): PtHwInfoField[] {
    return this.fmt.hwInfo(this.topPa, this.topLevel);
  }

  /** Words of the live table at frame `pfn` (hot path: one array load). */
  private wordsOfPfn(pfn: number): Uint32Array {
    const i = pfn - this.basePfn;
    if (i >= 0 && i < this.tw.length) {
      const w = this.tw[i]!;
      if (w.length !== 0) return w;
    }
    return this.tableWords(pfn * PAGE);
  }

  /** `pt_entry_num_contig_lg2` */
  private contigLg2(lo: number, hi: number, level: number): number {
    return cContig(this.codec, lo, hi) ? this.fmt.numContigLg2(lo, hi, level, this.features) : 0;
  }

  /** `pt_entry_oa` >> 12 */
  private oaPfnOf(lo: number, hi: number, level: number): number {
    return cContig(this.codec, lo, hi)
      ? this.fmt.entryOaPfn(lo, hi, level, this.features)
      : cPfn(this.codec, lo, hi);
  }

  /** `pt_install_leaf_entry`: single items inline from the layout, contiguous ones by the format. */
  private putLeaf(words: Uint32Array, w: number, level: number, oaPfn: number, oaLg2: number): number {
    if (oaLg2 !== 12 + 9 * level)
      return this.fmt.writeLeaf(words, w, level, oaPfn, oaLg2, this.attrs, this.features);
    const c = this.codec;
    words[w] = (c.leafSetLo | (level !== 0 ? c.leafPsLo : 0) | this.attrs.lo | cFieldLo(c, oaPfn)) >>> 0;
    words[w + 1] = (this.attrs.hi | cFieldHi(c, oaPfn)) >>> 0;
    return 1;
  }

  /** `pt_install_table` */
  private putTable(words: Uint32Array, w: number, tablePfn: number, level: number): void {
    const c = this.codec;
    words[w] = (c.tableLo | (c.nextLevelField ? level << 9 : 0) | cFieldLo(c, tablePfn)) >>> 0;
    words[w + 1] = (c.tableHi | cFieldHi(c, tablePfn)) >>> 0;
  }

  /** Words of a live table. */
  tableWords(pa: number): Uint32Array {
    const i = (pa / PAGE - this.basePfn) | 0;
    if (i >= 0 && i < this.tw.length) {
      const w = this.tw[i]!;
      if (w.length !== 0) return w;
    }
    const c = this.alloc.mem.chunk(pa);
    if (!c) throw new Error(`generic_pt: no table memory at 0x${pa.toString(16)}`);
    return c.pa === pa ? c.words : c.words.subarray((pa - c.pa) / 4, (pa - c.pa) / 4 + 1024);
  }

  /** The domain's pgsize_bitmap, which map_pages uses (the core may narrow it). */
  setDomainBitmap(bitmap: number): void {
    if (bitmap === this.domainBitmap) return;
    this.domainBitmap = bitmap;
    this.sizesDesc = bitmapSizesDesc(bitmap);
    let best = 0;
    for (let b = 0; b <= 64; b++) {
      if (this.sizesDesc.includes(b)) best = b;
      this.bestBelow[b] = best;
    }
  }

  /** @internal init: apply the outcome of pt_init_common and allocate the top table. */
  _setup(common: PtCommonInit, existingTop?: number): number {
    this.features = common.features;
    this.maxVasz = common.maxVasz;
    this.maxOasz = common.maxOasz;
    this.fDyn = this.feature(PT_FEAT_DYNAMIC_TOP);
    this.fSign = this.feature(PT_FEAT_SIGN_EXTEND);
    this.fIncoherent = this.feature(PT_FEAT_DMA_INCOHERENT);
    this.fFlushRange = this.feature(PT_FEAT_FLUSH_RANGE);
    this.fNoGaps = this.feature(PT_FEAT_FLUSH_RANGE_NO_GAPS);
    this.topLevel = common.topLevel;
    this.computeTopRange();
    // get_info
    let bitmap = 0;
    if (this.fDyn) {
      for (let l = 0; l <= this.fmt.maxTopLevel; l++) {
        if (this.itemLg2(l) >= this.maxVasz) break;
        bitmap = or52(bitmap, this.fmt.possibleSizes(l, this.features));
      }
    } else {
      for (let l = 0; l <= this.topLevel; l++)
        bitmap = or52(bitmap, this.fmt.possibleSizes(l, this.features));
    }
    if (this.maxOasz < 64) bitmap %= P2[this.maxOasz]!;
    this.pgsizeBitmap = bitmap;
    this.setDomainBitmap(bitmap);
    // pt_iommu_init_domain: the aperture, with DYNAMIC_TOP the range at PT_MAX_TOP_LEVEL.
    const apBits = (this.fDyn ? this.maxVasz : this.rangeMaxVasz) - (this.fSign ? 1 : 0);
    this.apertureStart = 0;
    this.apertureEnd = fromPfn(P2[apBits - 12]! - 1, PAGE - 1);
    // table_alloc_top
    if (existingTop !== undefined) {
      // Adopt a table that already lives in memory (a dumped image): nothing to allocate.
      this.adopted = true;
      this.setTop(existingTop, this.topLevel);
      return 0;
    }
    const pa = this.allocTable(this.topMemBytes(this.topLevel), true);
    if (pa < 0) return ENOMEM;
    this.setTop(pa, this.topLevel);
    return 0;
  }

  private computeTopRange(): void {
    this.rangeMaxVasz = this.topRangeMaxVasz(this.topLevel);
    this.topItems = P2[this.rangeMaxVasz - this.itemLg2(this.topLevel)]!;
    this.invTopItems = 1 / this.topItems;
    for (let l = 0; l <= MAX_LEVELS; l++) {
      this.levelItems[l] = l === this.topLevel ? this.topItems : 512;
      this.invLevelItems[l] = 1 / this.levelItems[l]!;
      this.levelMask[l] = this.levelItems[l]! - 1;
    }
    const mv = this.rangeMaxVasz;
    this.rangeInv = mv >= 64 ? 0 : 2 ** -(mv - 12);
    this.rangeSignInv = 2 ** -(mv - 13);
    this.rangeUpper = mv >= 64 ? 0 : Math.floor((PFN_LIMIT - 1) * this.rangeInv);
    // checkTopRange for a single frame, as two bounds: the lower half, and with SIGN_EXTEND
    // the upper one (a sign bit set and every bit above max_vasz set).
    if (mv >= 64) {
      this.lkLow = Infinity;
      this.lkHigh = Infinity;
    } else if (this.fSign) {
      this.lkLow = P2[mv - 13]!;
      this.lkHigh = this.rangeUpper * P2[mv - 12]!;
    } else {
      this.lkLow = P2[mv - 12]!;
      this.lkHigh = Infinity;
    }
    for (let l = 0; l <= MAX_LEVELS; l++) {
      const t = l === this.topLevel ? this.rangeMaxVasz : Math.min(this.maxVasz, this.itemLg2(l) + 9);
      this.tableOaScale[l] = P2[Math.max(0, t - 12)]!;
      this.invTableOaScale[l] = 1 / this.tableOaScale[l]!;
    }
  }

  private setTop(pa: number, level: number): void {
    this.forgetWalks();
    this.topPa = pa;
    this.topLevel = level;
    this.topWords = this.tableWords(pa);
    this.computeTopRange();
  }

  /** `pt_top_memsize_lg2` in bytes. */
  private topMemBytes(level: number): number {
    let n = this.maxVasz - this.itemLg2(level);
    if (level !== this.fmt.maxTopLevel && this.fDyn) n = Math.min(n, this.fmt.numItemsLg2(level));
    return P2[Math.max(12, n + 3)]!;
  }

  private allocTable(bytes: number, coherentNow: boolean): number {
    const pa = this.alloc.alloc(bytes);
    if (pa < 0) return -1;
    const c = this.alloc.mem.chunk(pa)!;
    const i = pa / PAGE - this.basePfn;
    // Keep the array packed (no holes): table indices come from a bump allocator.
    while (this.tw.length <= i) this.tw.push(NO_WORDS);
    this.tw[i] = c.words;
    if (this.fIncoherent && coherentNow) this.incoherent.start++;
    return pa;
  }

  /** Drop the walk cache (a table was unlinked or freed, or the top moved; tests). */
  forgetWalks(): void {
    this.wcKey.fill(-1);
  }

  /**
   * The deepest cached table on the walk to frame `pfn` (levels below `top`): its level, or
   * `top` on a miss. The table is left in `wcHit`.
   */
  private cachedLevel(pfn: number, top: number): number {
    for (let l = 0; l < top; l++) {
      if (this.wcKey[l] === Math.floor(pfn * this.invScale[l + 1]!)) {
        this.wcHit = this.wcWords[l]!;
        return l;
      }
    }
    return top;
  }

  /** Remember that the walk to `pfn` reached the level-`level` table `words`. */
  private rememberWalk(pfn: number, level: number, words: Uint32Array): void {
    this.wcKey[level] = Math.floor(pfn * this.invScale[level + 1]!);
    this.wcWords[level] = words;
  }

  private freeTable(pa: number): void {
    this.forgetWalks();
    const i = pa / PAGE - this.basePfn;
    if (i >= 0 && i < this.tw.length) this.tw[i] = NO_WORDS;
    this.alloc.release(pa);
  }

  // ---------------------------------------------------------------- range helpers

  /** `make_range_no_check` for [va, va + len): 0, -EINVAL or -EOVERFLOW. */
  private makeRange(vaPfn: number, vaOff: number, len: number): number {
    if (len === 0) return EINVAL;
    if (len >= P2[64]!) return EOVERFLOW;
    const lenPfn = Math.floor(len / PAGE);
    let lo = vaOff + (len - lenPfn * PAGE) - 1;
    let lp = vaPfn + lenPfn;
    if (lo < 0) {
      lo += PAGE;
      lp -= 1;
    } else if (lo >= PAGE) {
      lo -= PAGE;
      lp += 1;
    }
    if (lp >= PFN_LIMIT) return EOVERFLOW;
    this.curPfn = vaPfn;
    this.curOff = vaOff;
    this.lastPfn = lp;
    this.lastOff = lo;
    return 0;
  }

  /** `pt_check_range` against the current top range. */
  private checkTopRange(): number {
    if (this.rangeInv === 0) return 0; // FULL_VA: every u64 is inside
    const want = this.fSign && Math.floor(this.curPfn * this.rangeSignInv) !== 0 ? this.rangeUpper : 0;
    if (Math.floor(this.curPfn * this.rangeInv) !== want || Math.floor(this.lastPfn * this.rangeInv) !== want)
      return ERANGE;
    return 0;
  }

  /** `pt_check_range` against a top range of `mv` VA bits. */
  private checkRange(mv: number): number {
    let upper = false;
    if (this.fSign) upper = Math.floor(this.curPfn / P2[mv - 13]!) !== 0;
    if (mv >= 64) return 0; // FULL_VA: every u64 is inside
    const d = P2[mv - 12]!;
    const want = upper ? Math.floor((PFN_LIMIT - 1) / d) : 0;
    if (Math.floor(this.curPfn / d) !== want || Math.floor(this.lastPfn / d) !== want) return ERANGE;
    return 0;
  }

  /** `pt_range_to_index` */
  private idxAt(level: number): number {
    // q mod items: ToInt32 keeps q's low 32 bits exactly (q is an integer below 2^53) and the
    // mask only needs 9 of them. The int32 result keeps callers' index arithmetic in integers.
    return Math.floor(this.curPfn * this.invScale[level]!) & this.levelMask[level]!;
  }

  /** `pt_range_to_end_index` (exclusive) */
  private endIdx(level: number, idx: number): number {
    if (this.curPfn === this.lastPfn && this.curOff === this.lastOff) return idx + 1;
    const inv = this.invScale[level]!;
    const q = Math.floor(this.lastPfn * inv);
    if (level === this.topLevel) return (q - Math.floor(q * this.invTopItems) * this.topItems + 1) | 0;
    const qs = Math.floor(q * INV512);
    if (Math.floor(Math.floor(this.curPfn * inv) * INV512) === qs) return (q - qs * 512 + 1) | 0;
    return 512;
  }

  /** `pt_index_to_va` */
  private indexToVa(level: number, idx: number): void {
    const t = this.tableOaScale[level]!;
    this.curPfn = Math.floor(this.curPfn * this.invTableOaScale[level]!) * t + idx * this.scale[level]!;
    this.curOff = 0;
  }

  /** VA frame of item `idx` at `level` in the table the cursor is in (no cursor change). */
  private itemVaPfn(level: number, idx: number): number {
    const t = this.tableOaScale[level]!;
    return Math.floor(this.curPfn * this.invTableOaScale[level]!) * t + idx * this.scale[level]!;
  }

  /** `pt_entry_fully_covered(pts, oasz_lg2)` for the cursor. */
  private fullyCovered(lg2: number): boolean {
    const s = P2[lg2 - 12]!;
    const inv = P2INV[lg2 - 12]!;
    const q = Math.floor(this.curPfn * inv);
    if (this.curOff !== 0 || this.curPfn !== q * s) return false;
    const ql = Math.floor(this.lastPfn * inv);
    if (q !== ql) return true;
    return this.lastOff === PAGE - 1 && this.lastPfn - ql * s === s - 1;
  }

  /** `log2_mod(range->va, lg2) == 0` */
  private vaAligned(lg2: number): boolean {
    if (this.curOff !== 0) return false;
    const k = lg2 - 12;
    return this.curPfn === Math.floor(this.curPfn * P2INV[k]!) * P2[k]!;
  }

  // ---------------------------------------------------------------- gather, sync

  /** `gather_range_pages`: account the IOVA and hand the freed tables to the gather. */
  private gatherRangePages(g: IotlbGather, iova: number, len: number, list: number[]): void {
    if (this.fIncoherent) this.incoherent.stop += list.length;
    if (this.fNoGaps && iotlbGatherIsDisjoint(g, iova, len)) {
      // The sync frees what the gather already holds; the new pages join afterwards.
      this.iommuIotlbSync(g);
    } else if (this.fFlushRange) {
      iotlbGatherAddRange(g, iova, len);
    }
    if (list.length !== 0) {
      // iommu_pages_list_splice(): the new pages go in front of the gather's list.
      g.freelist.unshift(...list);
      list.length = 0;
    }
  }

  /** `iommu_iotlb_sync()` issued by generic_pt itself: the driver op, then re-init. */
  iommuIotlbSync(g: IotlbGather): void {
    this.counters.syncs++;
    this.iotlbSync(g);
    g.init();
  }

  /**
   * The driver's `iotlb_sync`: invalidate what the gather covers and free the page-table
   * pages collected in it (iommu_put_pages_list order).
   */
  iotlbSync(g: IotlbGather): void {
    this.syncCount++;
    if (g.endExcl !== 0) this.counters.flushRange++;
    for (const pa of g.freelist) this.freeTable(pa);
    g.freelist.length = 0;
  }

  private flushItem(): void {
    this.incoherent.flush++;
    this.incoherent.flushBytes += 8;
  }

  private flushRangeItems(start: number, end: number): void {
    this.incoherent.flush++;
    this.incoherent.flushBytes += (end - start) * 8;
  }

  // ---------------------------------------------------------------- iova_to_phys

  /**
   * One lookup walk (`__iova_to_phys`): 0 with lPhysPfn/lLenLg2 set, -ENOENT with lLenLg2 =
   * the empty item's size, or -ERANGE (outside the table).
   */
  private lookup(vaPfn: number, vaOff: number): number {
    this.curPfn = this.lastPfn = vaPfn;
    this.curOff = this.lastOff = vaOff;
    if (vaPfn >= this.lkLow && vaPfn < this.lkHigh) return ERANGE;
    const codec = this.codec;
    const top = this.topLevel;
    let level = this.cachedLevel(vaPfn, top);
    let words = level === top ? this.topWords : this.wcHit;
    for (;;) {
      const w = 2 * this.idxAt(level);
      const lo = words[w]!;
      const hi = words[w + 1]!;
      const t = cType(codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        words = this.wordsOfPfn(cPfn(codec, lo, hi));
        level--;
        continue;
      }
      // Reads of the whole descent from the top, cached levels included.
      this.counters.pteReads += top - level + 1;
      if (level !== top) this.rememberWalk(vaPfn, level, words);
      this.lLevel = level;
      if (t === PT_ENTRY_EMPTY) {
        this.lLenLg2 = 12 + 9 * level;
        return ENOENT;
      }
      // Contiguous entries out of line: the plain-leaf walk stays small enough for V8 to
      // inline it, with iova_to_phys, into the caller's loop (no boxed double per call).
      if (cContig(codec, lo, hi)) return this.lookupContig(vaPfn, lo, hi, level);
      this.lLenLg2 = 12 + 9 * level;
      // OA of the item plus the iova's frame offset inside it.
      this.lPhysPfn =
        cPfn(codec, lo, hi) +
        (level === 0 ? 0 : vaPfn - Math.floor(vaPfn * this.invScale[level]!) * this.scale[level]!);
      return 0;
    }
  }

  /** {@link lookup}'s result for a contiguous leaf entry. */
  private lookupContig(vaPfn: number, lo: number, hi: number, level: number): number {
    const lg2 = 12 + 9 * level + this.contigLg2(lo, hi, level);
    this.lLenLg2 = lg2;
    this.lPhysPfn =
      this.oaPfnOf(lo, hi, level) +
      (lg2 >= 64 ? vaPfn : vaPfn - Math.floor(vaPfn * P2INV[lg2 - 12]!) * P2[lg2 - 12]!);
    return 0;
  }

  /** `iova_to_phys`: 0 if unmapped, `(phys_addr_t)-ERANGE` (a bigint) outside the table. */
  iovaToPhys(iova: Addr): Addr {
    const pfn = pfnOf(iova);
    const off = offOf(iova);
    const r = this.lookup(pfn, off);
    if (r === 0) return fromPfn(this.lPhysPfn, off);
    if (r === ERANGE) return ERANGE_PHYS;
    return 0;
  }

  /** `iova_to_phys_length`: phys + translation-unit size, or the size of the hole. */
  iovaToPhysLength(iova: Addr, out: PhysLength): void {
    const pfn = pfnOf(iova);
    const off = offOf(iova);
    const r = this.lookup(pfn, off);
    if (r === 0) out.setMapped(this.lPhysPfn, off, P2[this.lLenLg2]!);
    else if (r === ENOENT) out.setUnmapped(P2[this.lLenLg2]!);
    else out.setUnmapped(this.sizesDesc.length ? P2[this.sizesDesc[this.sizesDesc.length - 1]!]! : PAGE);
  }

  /**
   * The lookup walk with every step recorded (tools: the harness's `walk` line). Returns
   * null when the iova is outside the table (-ERANGE).
   */
  walkSteps(iova: Addr): PtWalkStep[] | null {
    const vaPfn = pfnOf(iova);
    const vaOff = offOf(iova);
    this.curPfn = this.lastPfn = vaPfn;
    this.curOff = this.lastOff = vaOff;
    if (this.checkTopRange() !== 0) return null;
    const steps: PtWalkStep[] = [];
    let level = this.topLevel;
    let words = this.topWords;
    for (;;) {
      const index = this.idxAt(level);
      const lo = words[2 * index]!;
      const hi = words[2 * index + 1]!;
      const raw = (BigInt(hi) << 32n) | BigInt(lo);
      const t = cType(this.codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        steps.push({ level, index, kind: "table", raw, sizeLg2: 12 + 9 * level, oa: 0n });
        words = this.wordsOfPfn(cPfn(this.codec, lo, hi));
        level--;
        continue;
      }
      if (t === PT_ENTRY_EMPTY) {
        steps.push({ level, index, kind: "empty", raw, sizeLg2: 12 + 9 * level, oa: 0n });
        return steps;
      }
      const lg2 = 12 + 9 * level + this.contigLg2(lo, hi, level);
      const base = BigInt(this.oaPfnOf(lo, hi, level)) << 12n;
      const va = (BigInt(vaPfn) << 12n) | BigInt(vaOff);
      const oa = base | (va & ((1n << BigInt(lg2)) - 1n));
      steps.push({ level, index, kind: "leaf", raw, sizeLg2: lg2, oa });
      return steps;
    }
  }

  // ---------------------------------------------------------------- map

  /** `pt_compute_best_pgsize` on the cursor range and `oa`; 0 = nothing fits. */
  private bestPgsizeLg2(oaPfn: number, oaOff: number): number {
    if (this.curPfn > this.lastPfn || (this.curPfn === this.lastPfn && this.curOff >= this.lastOff)) return 0;
    if (this.curOff !== 0 || oaOff !== 0) return 0;
    let n = this.lastPfn - this.curPfn;
    if (this.lastOff === PAGE - 1) n += 1;
    if (n === 0) return 0;
    let best = flsIdx(n);
    const a = ctz(this.curPfn);
    if (a < best) best = a;
    const b = ctz(oaPfn);
    if (b < best) best = b;
    return this.bestBelow[best + 12]!;
  }

  /**
   * `map_pages` (c17ee635 semantics): picks one leaf size for the whole range from
   * pgsize × pgcount and the alignment of iova/paddr; adds bytes installed to `mapped`.
   */
  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    if (typeof iova === "number" && typeof paddr === "number") {
      const vp = Math.floor(iova / PAGE);
      const pp = Math.floor(paddr / PAGE);
      return this.mapPagesPfn(vp, iova - vp * PAGE, pp, paddr - pp * PAGE, pgsize, pgcount, prot, mapped);
    }
    return this.mapPagesPfn(
      pfnOf(iova),
      offOf(iova),
      pfnOf(paddr),
      offOf(paddr),
      pgsize,
      pgcount,
      prot,
      mapped,
    );
  }

  mapPagesPfn(
    vaPfn: number,
    vaOff: number,
    paPfn: number,
    paOff: number,
    pgsize: number,
    pgcount: number,
    prot: number,
    mapped: SizeOut,
  ): number {
    const gather = this.mapGather;
    if (gather.endExcl !== 0 || gather.freelist.length !== 0) gather.init();
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) {
      this.counters.warn("generic_pt map_pages: prot without IOMMU_READ/IOMMU_WRITE");
      return EINVAL;
    }
    if (this.maxOasz < 64 && paPfn >= P2[this.maxOasz - 12]!) return ERANGE;
    if (prot !== this.attrsProt) {
      const pr = this.fmt.setProt(prot, this.features, this.attrs, this.hooks.log);
      if (pr) return pr;
      this.attrsProt = prot;
    }
    const len = sizeTimes(pgsize, pgcount);
    let ret = this.makeRange(vaPfn, vaOff, len);
    if (ret) return ret;
    let single = false;
    if (pgsize === PAGE && pgcount === 1) {
      if (vaOff !== 0 || paOff !== 0) return ENXIO;
      this.mLeafLg2 = 12;
      this.mLeafLevel = 0;
      single = true;
    } else {
      const lg2 = this.bestPgsizeLg2(paPfn, paOff);
      if (lg2 === 0) return ENXIO;
      this.mLeafLg2 = lg2;
      this.mLeafLevel = Math.floor((lg2 - 12) / 9);
    }
    ret = this.checkMapRange();
    if (ret) return ret;
    this.mOaPfn = paPfn;
    ret = EAGAIN;
    if (single && !this.fIncoherent) ret = this.mapSingle();
    else if (!this.fIncoherent && this.mLeafLevel !== this.topLevel) ret = this.mapOneItem();
    if (ret === EAGAIN)
      ret = this.mLeafLevel === this.topLevel ? this.mapLeaf(this.topLevel, this.topWords) : this.mapRange();
    // Tables were replaced by leaves: flush walk caches that may still point at them.
    if (gather.freelist.length !== 0) this.iommuIotlbSync(gather);
    mapped.value += (this.mOaPfn - paPfn) * PAGE;
    return ret;
  }

  /** `check_map_range`: range check, growing the top (DYNAMIC_TOP) until it fits. */
  private checkMapRange(): number {
    for (;;) {
      const ret = this.checkTopRange();
      if (!this.fDyn) return ret;
      if (ret === 0 && this.mLeafLevel <= this.topLevel) return 0;
      const r = this.increaseTop();
      if (r !== 0 && r !== EAGAIN) return r;
      if (r === EAGAIN) return ERANGE; // single-threaded: nothing raced, the top cannot grow
    }
  }

  /** `increase_top`: stack new top tables (old top at index 0) until the range fits. */
  private increaseTop(): number {
    const fresh: number[] = [];
    let level = this.topLevel;
    let prev = this.topPa;
    for (;;) {
      if (this.checkRange(this.topRangeMaxVasz(level)) === 0 && this.mLeafLevel <= level) break;
      level++;
      if (level > this.fmt.maxTopLevel || this.itemLg2(level) >= this.maxVasz) {
        for (const pa of fresh) this.freeTable(pa);
        return ERANGE;
      }
      const pa = this.allocTable(this.topMemBytes(level), false);
      if (pa < 0) {
        for (const pa2 of fresh) this.freeTable(pa2);
        return ENOMEM;
      }
      fresh.push(pa);
      this.putTable(this.tableWords(pa), 0, prev / PAGE, level);
      this.counters.pteWrites++;
      prev = pa;
    }
    if (fresh.length === 0) return EAGAIN;
    if (this.fIncoherent) this.incoherent.start += fresh.length;
    this.hooks.changeTop?.(prev, level);
    this.topChanges++;
    this.setTop(prev, level);
    return 0;
  }

  /** `__map_single_page`: 4K into existing tables; -EAGAIN sends it down the full path. */
  private mapSingle(): number {
    const codec = this.codec;
    const top = this.topLevel;
    let level = this.cachedLevel(this.curPfn, top);
    let words = level === top ? this.topWords : this.wcHit;
    for (;;) {
      const w = 2 * this.idxAt(level);
      const lo = words[w]!;
      const hi = words[w + 1]!;
      const t = cType(codec, lo, hi, level);
      if (level === 0) {
        const c = this.counters;
        c.pteReads += top + 1;
        if (top !== 0) this.rememberWalk(this.curPfn, 0, words);
        if (t !== PT_ENTRY_EMPTY) return EADDRINUSE;
        this.putLeaf(words, w, 0, this.mOaPfn, 12);
        c.pteWrites++;
        this.mOaPfn += 1;
        return 0;
      }
      if (t !== PT_ENTRY_TABLE) {
        this.counters.pteReads += top - level + 1;
        return EAGAIN;
      }
      words = this.wordsOfPfn(cPfn(codec, lo, hi));
      level--;
    }
  }

  /**
   * `__map_range` for a range that is exactly one single-item leaf over existing tables and an
   * empty item (a 2M page into a present 2M slot...): the general walk's outcome, reads and
   * writes without its level stack. Anything else returns -EAGAIN having read and changed
   * nothing, for the general walk.
   */
  private mapOneItem(): number {
    const level0 = this.mLeafLevel;
    const lg2 = this.mLeafLg2;
    if (lg2 !== 12 + 9 * level0 || this.lastOff !== PAGE - 1) return EAGAIN;
    if (this.lastPfn - this.curPfn !== P2[lg2 - 12]! - 1) return EAGAIN;
    const codec = this.codec;
    const top = this.topLevel;
    let level = this.cachedLevel(this.curPfn, top);
    if (level < level0) level = top;
    let words = level === top ? this.topWords : this.wcHit;
    for (;;) {
      const w = 2 * this.idxAt(level);
      const lo = words[w]!;
      const hi = words[w + 1]!;
      const t = cType(codec, lo, hi, level);
      if (level === level0) {
        if (t !== PT_ENTRY_EMPTY) return EAGAIN;
        const c = this.counters;
        c.pteReads += top - level + 1;
        this.rememberWalk(this.curPfn, level, words);
        this.putLeaf(words, w, level, this.mOaPfn, lg2);
        c.pteWrites++;
        this.mOaPfn += P2[lg2 - 12]!;
        return 0;
      }
      if (t !== PT_ENTRY_TABLE) return EAGAIN;
      words = this.wordsOfPfn(cPfn(codec, lo, hi));
      level--;
    }
  }

  /** `pt_iommu_new_table`: allocate and link a child table below item `i`. */
  private newTable(level: number, words: Uint32Array, i: number): number {
    if (level === 0) return ENXIO;
    const pa = this.allocTable(PAGE, true);
    if (pa < 0) return ENOMEM;
    const w = 2 * i;
    this.putTable(words, w, pa / PAGE, level);
    this.counters.pteWrites++;
    if (this.fIncoherent) {
      this.flushItem();
      words[w] = (words[w]! | this.fmt.swBit0Lo) >>> 0;
      words[w + 1] = (words[w + 1]! | this.fmt.swBit0Hi) >>> 0;
    }
    this.lvChild[level] = pa;
    return 0;
  }

  /** `__map_range` for every level above the leaf level, as a loop. */
  private mapRange(): number {
    const fmt = this.fmt;
    const c = this.counters;
    const top = this.topLevel;
    const leafLevel = this.mLeafLevel;
    let level = top;
    let words = this.topWords;
    let i = this.idxAt(level);
    let end = this.endIdx(level, i);
    for (;;) {
      const w = 2 * i;
      const lo = words[w]!;
      const hi = words[w + 1]!;
      c.pteReads++;
      const t = cType(this.codec, lo, hi, level);
      let child: Uint32Array;
      if (t !== PT_ENTRY_TABLE) {
        if (t !== PT_ENTRY_EMPTY) return EADDRINUSE;
        const r = this.newTable(level, words, i);
        if (r) return r;
        child = this.tableWords(this.lvChild[level]!);
      } else {
        child = this.wordsOfPfn(cPfn(this.codec, lo, hi));
        if (this.fIncoherent && (lo & fmt.swBit0Lo) === 0 && (hi & fmt.swBit0Hi) === 0) this.flushItem();
      }
      if (level - 1 === leafLevel) {
        const r = this.mapLeaf(leafLevel, child);
        if (r) return r;
        // Advance this level, unwinding finished levels.
        for (;;) {
          i++;
          this.indexToVa(level, i);
          if (i < end) break;
          if (level === top) return 0;
          level++;
          words = this.lvWords[level]!;
          i = this.lvIdx[level]!;
          end = this.lvEnd[level]!;
        }
        continue;
      }
      // Descend into the child table.
      this.lvWords[level] = words;
      this.lvIdx[level] = i;
      this.lvEnd[level] = end;
      level--;
      words = child;
      i = this.idxAt(level);
      end = this.endIdx(level, i);
    }
  }

  /** `__map_range_leaf`: install leaves of mLeafLg2 at `level`, clearing what they cover. */
  private mapLeaf(level: number, words: Uint32Array): number {
    const c = this.counters;
    const leafLg2 = this.mLeafLg2;
    const isz = 12 + 9 * level;
    const step = 1 << (leafLg2 - isz);
    const needContig = step > 1;
    const oaStep = P2[leafLg2 - 12]!;
    let i = this.idxAt(level);
    const end = this.endIdx(level, i);
    const start = i;
    let oa = this.mOaPfn;
    let ret = 0;
    let reads = 0;
    let writes = 0;
    if (!needContig && oaStep <= this.codec.oaLoPfnMask) {
      // Single-item leaves (the common batched case): the layout encode inlined in the loop.
      const codec = this.codec;
      const setLo = codec.leafSetLo | (level !== 0 ? codec.leafPsLo : 0) | this.attrs.lo;
      const setHi = this.attrs.hi;
      // The OA field split once into int32 halves and stepped with an explicit carry: per
      // entry two int ORs instead of a float multiply and truncation (cFieldLo/cFieldHi).
      // loRange = frames the low word holds (> oaStep here, so one subtraction carries).
      const shift = codec.oaShift;
      const loRange = codec.oaLoPfnMask + 1;
      let oaLo = oa & codec.oaLoPfnMask;
      let oaHi = (oa * codec.oaHiInv) | 0;
      const hiMask = codec.oaHiMask;
      const stepI = oaStep | 0;
      // cType's emptiness test with the layout constant in a local (loads are not hoisted).
      const pm = codec.presentLo;
      for (;;) {
        const w = 2 * i;
        const lo = words[w]!;
        if (pm === 0 ? (lo | words[w + 1]!) !== 0 : (lo & pm) !== 0) {
          // An occupied item (rare): out of line, so the empty-item loop stays small.
          if (i !== start) this.indexToVa(level, i);
          ret = this.clearContig(level, words, i, 1);
          if (ret) break;
        }
        // Uint32Array stores take the low 32 bits: no >>> 0 needed on the int32 pattern.
        words[w] = setLo | (oaLo << shift);
        words[w + 1] = setHi | (oaHi & hiMask);
        oaLo += stepI;
        if (oaLo >= loRange) {
          oaLo -= loRange;
          oaHi = (oaHi + 1) | 0;
        }
        i++;
        // The run of empty items.
        for (; i < end; i++) {
          const w2 = 2 * i;
          const l2 = words[w2]!;
          if (pm === 0 ? (l2 | words[w2 + 1]!) !== 0 : (l2 & pm) !== 0) break;
          words[w2] = setLo | (oaLo << shift);
          words[w2 + 1] = setHi | (oaHi & hiMask);
          oaLo += stepI;
          if (oaLo >= loRange) {
            oaLo -= loRange;
            oaHi = (oaHi + 1) | 0;
          }
        }
        if (i >= end) break;
      }
      // Every item visited was read and (but the failing one) written: counted once here.
      reads += i - start + (ret ? 1 : 0);
      writes += i - start;
      oa += (i - start) * oaStep;
    } else if (!needContig) {
      // Single items too large to step in the low word (riscv 512G/256T leaves).
      const codec = this.codec;
      const setLo = (codec.leafSetLo | (level !== 0 ? codec.leafPsLo : 0) | this.attrs.lo) >>> 0;
      const setHi = this.attrs.hi;
      do {
        const w = 2 * i;
        reads++;
        if (cType(codec, words[w]!, words[w + 1]!, level) !== PT_ENTRY_EMPTY) {
          if (i !== start) this.indexToVa(level, i);
          ret = this.clearContig(level, words, i, 1);
          if (ret) break;
        }
        words[w] = (setLo | cFieldLo(codec, oa)) >>> 0;
        words[w + 1] = (setHi | cFieldHi(codec, oa)) >>> 0;
        writes++;
        oa += oaStep;
        i++;
      } while (i < end);
    } else
      do {
        // A contiguous leaf: clear_contig checks (and frees tables under) all its items.
        const w = 2 * i;
        reads++;
        if (i !== start) this.indexToVa(level, i);
        ret = this.clearContig(level, words, i, step);
        if (ret) break;
        writes += this.putLeaf(words, w, level, oa, leafLg2);
        oa += oaStep;
        i += step;
      } while (i < end);
    c.pteReads += reads;
    c.pteWrites += writes;
    if (this.fIncoherent) this.flushRangeItems(start, i);
    this.mOaPfn = oa;
    return ret;
  }

  /**
   * `clear_contig`: the `step` items a new leaf covers must hold no leaf; empty sub-tables
   * are unlinked and freed through the map's gather.
   */
  private clearContig(level: number, words: Uint32Array, first: number, step: number): number {
    for (let i = first; i < first + step; i++) {
      const w = 2 * i;
      const lo = words[w]!;
      const hi = words[w + 1]!;
      this.counters.pteReads++;
      const t = cType(this.codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        const childPa = cPfn(this.codec, lo, hi) * PAGE;
        const list = this.collect;
        list.length = 0;
        const r = this.collectTables(level - 1, childPa, true, list);
        if (r) return r;
        words[w] = 0;
        words[w + 1] = 0;
        this.forgetWalks();
        this.counters.pteWrites++;
        if (this.fIncoherent) this.flushItem();
        list.push(childPa);
        const vaPfn = i === first ? this.curPfn : this.itemVaPfn(level, i);
        this.gatherRangePages(this.mapGather, vaPfn * PAGE, P2[12 + 9 * level]!, list);
      } else if (t !== PT_ENTRY_EMPTY) {
        return EADDRINUSE;
      }
    }
    return 0;
  }

  /**
   * `__collect_tables` over the whole table at `pa` (level `level`): every sub-table in
   * pre-order goes to `list`; with checkMapped any leaf fails with -EADDRINUSE.
   */
  private collectTables(
    level: number,
    pa: number,
    checkMapped: boolean,
    list: number[],
    entries = 512,
  ): number {
    if (!checkMapped && level === 0) return 0;
    const base = level;
    let words = this.tableWords(pa);
    let i = 0;
    let end = entries;
    for (;;) {
      if (i >= end) {
        if (level === base) return 0;
        level++;
        words = this.cWords[level]!;
        i = this.cIdx[level]! + 1;
        end = level === base ? entries : 512;
        continue;
      }
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      this.counters.pteReads++;
      const t = cType(this.codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        const cpa = cPfn(this.codec, lo, hi) * PAGE;
        list.push(cpa);
        if (!checkMapped && level - 1 === 0) {
          i++;
          continue;
        }
        this.cWords[level] = words;
        this.cIdx[level] = i;
        level--;
        words = this.tableWords(cpa);
        i = 0;
        end = 512;
        continue;
      }
      if (t === PT_ENTRY_OA && checkMapped) return EADDRINUSE;
      i++;
    }
  }

  // ---------------------------------------------------------------- unmap

  /**
   * `unmap_pages` (c17ee635): unmap [iova, iova + pgsize·pgcount); stops at the first hole,
   * removes whole entries (possibly more than asked), and reports the IOVA to the gather.
   */
  unmapPages(iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number {
    if (typeof iova === "number") {
      const vp = Math.floor(iova / PAGE);
      return this.unmapPagesPfn(vp, iova - vp * PAGE, iova, sizeTimes(pgsize, pgcount), gather);
    }
    return this.unmapPagesPfn(pfnOf(iova), offOf(iova), Number(iova), sizeTimes(pgsize, pgcount), gather);
  }

  unmapPagesPfn(
    vaPfn: number,
    vaOff: number,
    iovaNum: number,
    len: number,
    gather: IotlbGather | null,
  ): number {
    if (this.makeRange(vaPfn, vaOff, len) !== 0 || this.checkTopRange() !== 0) return 0;
    this.uUnmapped = 0;
    if (!this.unmapFast()) this.unmapWalk();
    this.gatherRangePages(gather ?? this.scratchGather.init(), iovaNum, len, this.uFree);
    return this.uUnmapped;
  }

  /**
   * `__unmap_range` when the range lies inside one item at every level the walk passes and
   * covers no table item whole: a single descent with the general loop's outcome. Returns
   * false (nothing changed) when the general loop is needed.
   */
  private unmapFast(): boolean {
    const c = this.counters;
    const top = this.topLevel;
    let level = this.cachedLevel(this.curPfn, top);
    let words = this.topWords;
    if (level !== top) {
      // The skipped levels pass the checks below when the range stays inside the cached
      // table's span and does not cover it whole (then no level above can be covered either).
      if (
        Math.floor(this.lastPfn * this.invScale[level + 1]!) !== this.wcKey[level] ||
        this.fullyCovered(21 + 9 * level)
      )
        level = top;
      else words = this.wcHit;
    }
    // Reads are added only when this path completes: on a bail-out the general walk reads
    // the same entries again, and the kernel reads them once.
    let reads = top - level;
    for (;;) {
      const inv = this.invScale[level]!;
      if (Math.floor(this.lastPfn * inv) !== Math.floor(this.curPfn * inv)) return false;
      const i = this.idxAt(level);
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      reads++;
      const t = cType(this.codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        if (this.fullyCovered(12 + 9 * level)) return false;
        words = this.wordsOfPfn(cPfn(this.codec, lo, hi));
        level--;
        continue;
      }
      c.pteReads += reads;
      if (level !== top) this.rememberWalk(this.curPfn, level, words);
      const nlg2 = t === PT_ENTRY_OA ? this.contigLg2(lo, hi, level) : 0;
      const ok = t === PT_ENTRY_OA && this.vaAligned(12 + 9 * level + nlg2);
      const n = 1 << nlg2;
      if (ok) {
        for (let k = 2 * i, e = 2 * (i + n); k < e; k++) words[k] = 0;
        c.pteWrites += n;
        this.uUnmapped = n * P2[12 + 9 * level]!;
      }
      if (this.fIncoherent) {
        // flush_writes_range per level: the leaf level its n items (a hole: none, a
        // misaligned start returns before flushing); the levels above one table item each
        // after a successful descent, none after an error.
        if (ok) this.flushRangeItems(i, i + n);
        else if (t === PT_ENTRY_EMPTY) this.flushRangeItems(i, i);
        for (let l = level + 1; l <= this.topLevel; l++) this.flushRangeItems(0, ok ? 1 : 0);
      }
      return true;
    }
  }

  /** `__unmap_range` over all levels as a loop. */
  private unmapWalk(): void {
    const codec = this.codec;
    // Counted locally and added once: a field update per entry costs more than the entry.
    let reads = 0;
    let writes = 0;
    const top = this.topLevel;
    const incoherent = this.fIncoherent;
    let level = top;
    let words = this.topWords;
    let i = 0;
    let end = 0;
    let start = 0;
    let num = 0;
    let lo = 0;
    let hi = 0;
    let t = 0;
    let ret = 0;
    let enter = true;
    for (;;) {
      let finish = false;
      let early = false;
      if (enter) {
        enter = false;
        i = this.idxAt(level);
        end = this.endIdx(level, i);
        start = i;
        num = 0;
        lo = words[2 * i]!;
        hi = words[2 * i + 1]!;
        reads++;
        t = cType(codec, lo, hi, level);
        // Starting inside a large/contiguous entry unmaps nothing.
        if (t === PT_ENTRY_OA && !this.vaAligned(12 + 9 * level + this.contigLg2(lo, hi, level))) {
          ret = EINVAL;
          early = true;
        }
      }
      if (!early) {
        for (;;) {
          if (t === PT_ENTRY_OA) {
            const n = cContig(codec, lo, hi) ? 1 << this.contigLg2(lo, hi, level) : 1;
            if (n === 1) {
              words[2 * i] = 0;
              words[2 * i + 1] = 0;
            } else for (let k = 2 * i, e = 2 * (i + n); k < e; k++) words[k] = 0;
            writes += n;
            num += n;
            i += n;
            if (level === 0 && n === 1) {
              // Level 0 holds only leaves: clear the run of single-item ones that follows
              // without the general dispatch. The entry that ends the run (hole, contiguous
              // entry) is left for the loop below, which reads and counts it.
              const pm = codec.presentLo;
              const cm = codec.contigLoMask;
              const ch = codec.contigHi;
              const first = i;
              for (; i < end; i++) {
                const w = 2 * i;
                const l2 = words[w]!;
                const h2 = words[w + 1]!;
                if (pm === 0 ? (l2 | h2) === 0 : (l2 & pm) === 0) break;
                if ((cm !== 0 && (l2 & cm) === cm) || (h2 & ch) !== 0) break;
                words[w] = 0;
                words[w + 1] = 0;
              }
              reads += i - first;
              writes += i - first;
              num += i - first;
            }
          } else if (t === PT_ENTRY_TABLE) {
            if (i !== start) this.indexToVa(level, i);
            const childPfn = cPfn(this.codec, lo, hi);
            this.lvFully[level] = this.fullyCovered(12 + 9 * level) ? 1 : 0;
            this.lvChild[level] = childPfn * PAGE;
            this.lvWords[level] = words;
            this.lvIdx[level] = i;
            this.lvEnd[level] = end;
            this.lvStart[level] = start;
            this.lvNum[level] = num;
            level--;
            words = this.wordsOfPfn(childPfn);
            enter = true;
            break;
          } else {
            ret = EINVAL;
            finish = true;
            break;
          }
          if (i >= end) {
            finish = true;
            break;
          }
          lo = words[2 * i]!;
          hi = words[2 * i + 1]!;
          reads++;
          t = cType(codec, lo, hi, level);
        }
        if (enter) continue;
      }
      // This level is done (finish) or bailed out at its first entry (early).
      for (;;) {
        if (finish) {
          this.uUnmapped += num * P2[12 + 9 * level]!;
          if (incoherent) this.flushRangeItems(start, i);
        }
        if (level === top) {
          this.counters.pteReads += reads;
          this.counters.pteWrites += writes;
          return;
        }
        level++;
        words = this.lvWords[level]!;
        i = this.lvIdx[level]!;
        end = this.lvEnd[level]!;
        start = this.lvStart[level]!;
        num = this.lvNum[level]!;
        finish = true;
        if (ret) continue;
        if (this.lvFully[level]) {
          this.forgetWalks();
          this.uFree.push(this.lvChild[level]!);
          words[2 * i] = 0;
          words[2 * i + 1] = 0;
          writes++;
        }
        i++;
        if (i >= end) continue;
        lo = words[2 * i]!;
        hi = words[2 * i + 1]!;
        reads++;
        t = cType(codec, lo, hi, level);
        break;
      }
      // Resume the parent's entry loop at item i (enter is false: no re-initialisation).
    }
  }

  // ---------------------------------------------------------------- dirty tracking

  /** `read_and_clear_dirty`: report write-dirty leaves in [iova, iova+size), clearing D unless NO_CLEAR. */
  readAndClearDirty(iova: number, size: number, flags: number, dirty: IommuDirtyBitmap): number {
    const fmt = this.fmt;
    if (!fmt.isWriteDirty || !fmt.makeWriteClean) return EOPNOTSUPP;
    let ret = this.makeRange(pfnOf(iova), offOf(iova), size);
    if (!ret) ret = this.checkTopRange();
    if (ret) return ret;
    const feat = this.features;
    const top = this.topLevel;
    let level = top;
    let words = this.topWords;
    let i = this.idxAt(level);
    let end = this.endIdx(level, i);
    for (;;) {
      if (i >= end) {
        if (level === top) return 0;
        level++;
        words = this.lvWords[level]!;
        i = this.lvIdx[level]! + 1;
        end = this.lvEnd[level]!;
        this.indexToVa(level, i);
        continue;
      }
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      this.counters.pteReads++;
      const t = cType(this.codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        this.lvWords[level] = words;
        this.lvIdx[level] = i;
        this.lvEnd[level] = end;
        level--;
        words = this.wordsOfPfn(cPfn(this.codec, lo, hi));
        i = this.idxAt(level);
        end = this.endIdx(level, i);
        continue;
      }
      let n = 0;
      if (t === PT_ENTRY_OA) {
        n = this.contigLg2(lo, hi, level);
        if (fmt.isWriteDirty(words, i, level, feat)) {
          const isz = P2[12 + 9 * level]!;
          // The kernel takes index|(2^n-1) as the end: one item short for a contiguous entry.
          const len = n === 0 ? isz : (Math.min(i | ((1 << n) - 1), end) - i) * isz;
          const va = this.curPfn * PAGE + this.curOff;
          dirty.record(va, len);
          if (!(flags & IOMMU_DIRTY_NO_CLEAR)) {
            fmt.makeWriteClean(words, i, level, feat);
            this.counters.pteWrites++;
            if (dirty.gather) iotlbGatherAddRange(dirty.gather, va, len);
          }
        }
      }
      // pt_next_entry
      i = n ? i + (1 << n) - ((i + (1 << n)) % (1 << n)) : i + 1;
      this.indexToVa(level, i);
    }
  }

  /** `set_dirty` (iommufd selftest helper): mark the leaf at iova write-dirty. */
  setDirty(iova: Addr): number {
    const fmt = this.fmt;
    if (!fmt.makeWriteDirty) return EOPNOTSUPP;
    const r = this.lookup(pfnOf(iova), offOf(iova));
    if (r) return r;
    // lookup left the cursor on iova: walk again to find the item.
    let level = this.topLevel;
    let words = this.topWords;
    for (;;) {
      const i = this.idxAt(level);
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      const t = cType(this.codec, lo, hi, level);
      if (t === PT_ENTRY_TABLE) {
        words = this.tableWords(cPfn(this.codec, lo, hi) * PAGE);
        level--;
        continue;
      }
      fmt.makeWriteDirty(words, i);
      return 0;
    }
  }

  // ---------------------------------------------------------------- teardown

  /** `deinit`: free every table, the top included. */
  deinit(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.forgetWalks();
    if (this.adopted) return;
    const list: number[] = [this.topPa];
    this.collectTables(this.topLevel, this.topPa, false, list, this.topEntries);
    if (this.fIncoherent) this.incoherent.stop += list.length;
    for (const pa of list) this.freeTable(pa);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Level at which the last lookup stopped (tests, bench). */
  get lastLookupLevel(): number {
    return this.lLevel;
  }

  /** `PT_FEAT_FULL_VA` kept by init. */
  get fullVa(): boolean {
    return this.feature(PT_FEAT_FULL_VA);
  }
}

/**
 * `pgsize * pgcount` as the kernel's size_t product: wraps modulo 2^64 (the rare huge case
 * goes through BigInt to stay exact).
 */
function sizeTimes(pgsize: number, pgcount: number): number {
  const len = pgsize * pgcount;
  if (len < 2 ** 53) return len;
  const v = (BigInt(pgsize) * BigInt(pgcount)) % (1n << 64n);
  return Number(v);
}

/** 2^-k for k = 0..64 (exact). */
const P2INV: readonly number[] = Array.from({ length: 65 }, (_, k) => 2 ** -k);

/** OR of two bitmaps below 2^52 (page-size bitmaps). */
function or52(a: number, b: number): number {
  const TWO26 = 67108864;
  const al = a % TWO26;
  const bl = b % TWO26;
  const ah = Math.floor(a / TWO26);
  const bh = Math.floor(b / TWO26);
  return (ah | bh) * TWO26 + (al | bl);
}

/**
 * `pt_iommu_<fmt>_init`: validate the config like the kernel (same errno, same order),
 * allocate the top table — or, with `existingTop`, adopt the table already at that address
 * in the allocator's memory (tools reading a dumped image). Returns the table or -errno.
 */
export function ptIommuInit(
  fmt: PtFormat,
  cfg: PtIommuConfig,
  alloc: TableAllocator,
  counters: IommuCounters,
  hooks: PtDriverHooks = {},
  existingTop?: number,
): PtTable | number {
  if (cfg.vaBits > fmt.maxVaLg2 || !cfg.vaBits || !cfg.oaBits) return EINVAL;
  const common: PtCommonInit = {
    features: cfg.features,
    maxVasz: cfg.vaBits,
    maxOasz: cfg.oaBits,
    topLevel: 0,
  };
  let ret = fmt.fmtInit(cfg.level, cfg.vaBits, cfg.oaBits, common);
  if (ret) return ret;
  if (cfg.oaBits > fmt.maxOaLg2) return EINVAL;
  // pt_init_common
  const pt = new PtTable(fmt, alloc, counters, hooks);
  pt.features = common.features;
  pt.maxVasz = common.maxVasz;
  const dyn = pt.feature(PT_FEAT_DYNAMIC_TOP);
  const topMax =
    dyn && common.topLevel !== fmt.maxTopLevel
      ? Math.min(common.maxVasz, fmt.numItemsLg2(common.topLevel) + 12 + 9 * common.topLevel)
      : common.maxVasz;
  if (common.topLevel > fmt.maxTopLevel) return EINVAL;
  if (common.topLevel === fmt.maxTopLevel || common.maxVasz === topMax)
    common.features &= ~bit(PT_FEAT_DYNAMIC_TOP);
  if (topMax === 64) common.features |= bit(PT_FEAT_FULL_VA);
  if (common.features & ~fmt.supported || (common.features & fmt.forced) !== fmt.forced) return EOPNOTSUPP;
  pt.features = common.features;
  if (!pt.feature(PT_FEAT_DYNAMIC_TOP) && common.topLevel !== fmt.maxTopLevel) {
    if (common.maxVasz > fmt.numItemsLg2(common.topLevel) + 12 + 9 * common.topLevel) return EOPNOTSUPP;
  }
  common.maxOasz = common.maxOasz === 0 ? fmt.maxOaLg2 : Math.min(common.maxOasz, fmt.maxOaLg2);
  if (pt.feature(PT_FEAT_SIGN_EXTEND) && (pt.feature(PT_FEAT_FULL_VA) || pt.feature(PT_FEAT_DYNAMIC_TOP)))
    return EINVAL;
  if (pt.feature(PT_FEAT_DMA_INCOHERENT) && cfg.hasIommuDevice === false) {
    counters.warn("generic_pt init: DMA_INCOHERENT without an iommu_device");
    return EINVAL;
  }
  ret = pt._setup(common, existingTop);
  if (ret) return ret;
  return pt;
}
