/**
 * drivers/iommu/generic_pt/iommu_pt.h `struct pt_iommu` + `struct pt_common` of one table: the
 * state every op shares (geometry, the `pt_range` cursor, the per-level walk stack, the walk
 * cache, table memory, gather/sync and DMA_INCOHERENT accounting). The ops themselves are free
 * functions over this state, one file each (lookup.ts, map.ts, unmap.ts, dirty.ts, init.ts,
 * deinit.ts); the table extends the `pt_range` cursor of pt-iter.ts, whose methods they walk
 * with, as the kernel's iommu_pt.h builds its ops on pt_iter.h.
 *
 * The kernel writes each walk as a recursive per-level function (PT_MAKE_LEVELS). Here every
 * walk is a loop over an explicit level stack held in preallocated per-level arrays, and the
 * `pt_range` cursor lives in four number fields:
 *
 *   va      = curPfn  · G + curOff     (range->va, moved by pt_index_to_va)
 *   last_va = lastPfn · G + lastOff    (range->last_va)
 *
 * G is the format's granule (`PT_GRANULE_LG2SZ`: 4 KiB; 2 KiB for amdv1_mock) and every item
 * size is a multiple of it, so all index arithmetic works on frame numbers (< 2^53, exact
 * doubles): no BigInt and no allocation on the map/unmap/lookup paths. Output and table
 * addresses are frames of the same granule (the unit of the entries' address field).
 */
import {
  type Addr,
  type IommuCounters,
  type IommuDirtyBitmap,
  IommuError,
  IotlbGather,
  type IovaRange,
  iotlbGatherAddRange,
  iotlbGatherIsDisjoint,
  type PhysLength,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import { ptDeinit } from "./deinit.js";
import { ptReadAndClearDirty, ptSetDirty } from "./dirty.js";
import { cContig, cFieldHi, cFieldLo, cPfn, EntryCodec } from "./entry-codec.js";
import { bit, PT_FEAT_FULL_VA } from "./features.js";
import { type PtWalkStep, ptWalkSteps } from "./inspector.js";
import { ptIovaToPhysLength } from "./lookup.js";
import { ptMapPages, ptMapPagesPfn } from "./map.js";
import type { PtFormat } from "./pt-common.js";
import { IncoherentStats, PtAttrs, type PtDriverHooks, type PtHwInfoField } from "./pt-defs.js";
import { bitmapSizesDesc, PtRange } from "./pt-iter.js";
import { P2 } from "./pt-log2.js";
import { ptUnmapPages, ptUnmapPagesPfn } from "./unmap.js";

// Local copies: hot paths avoid loading imported bindings.
const MAX_LEVELS = 6;
const NO_WORDS = new Uint32Array(0);

/**
 * `struct pt_iommu` (with its `struct pt_common`): one live generic_pt table of one format.
 * Construct with {@link ptIommuInit}.
 *
 * The public methods are the ops (`mapPages`, `unmapPages`, `iovaToPhysLength`, …) and the
 * geometry; the remaining fields and methods are the walker's state, shared with the op files
 * of this package (not API: they may change in any release).
 */
export class PtTable extends PtRange {
  readonly fmt: PtFormat;
  /** The format's entry layout, decoded inline by the walker. */
  readonly codec: EntryCodec;
  readonly alloc: TableAllocator;
  readonly counters: IommuCounters;
  readonly hooks: PtDriverHooks;
  /** `common->features` after init (what the kernel kept). */
  features = 0;
  /** `common->max_vasz_lg2` / `max_oasz_lg2` */
  maxVasz = 0;
  maxOasz = 0;
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
  domainBitmap = 0;
  sizesDesc: number[] = [];

  // Feature predicates resolved once (pt_feature()).
  fDyn = false;
  fIncoherent = false;
  fFlushRange = false;
  fNoGaps = false;

  // Top range (`_pt_top_range`): its max_vasz_lg2 and derived frame scales.
  rangeMaxVasz = 0;
  /** A single frame is inside the top range iff pfn < lkLow or pfn ≥ lkHigh. */
  lkLow = 0.5;
  lkHigh = 0.5;
  /**
   * Model-only: the IOVAs the lookup accepts, as inclusive ranges — `[0, lkLow·4K − 1]` and,
   * with SIGN_EXTEND, `[lkHigh·4K, 2^64 − 1]`; none excluded with a 64-bit top range. Recomputed
   * with the top range (init, top growth); only an out-of-range iova_to_phys_length reads it
   * (`holeSpanOutside`).
   */
  translatableRanges: readonly IovaRange[] = [];
  topWords: Uint32Array = new Uint32Array(0);

  /** Items a table at each level indexes (512; the top: topItems) and the reciprocals. */
  readonly levelItems = new Float64Array(MAX_LEVELS + 1);
  readonly invLevelItems = new Float64Array(MAX_LEVELS + 1);

  // Per-level walk stack.
  readonly lvWords: Uint32Array[] = [];
  readonly lvIdx = new Int32Array(MAX_LEVELS + 1);
  readonly lvEnd = new Int32Array(MAX_LEVELS + 1);
  readonly lvStart = new Int32Array(MAX_LEVELS + 1);
  readonly lvNum = new Float64Array(MAX_LEVELS + 1);
  /** Per level: the first cleared item and the end of the last one (DMA_INCOHERENT flush range; -1: none). */
  readonly lvFs = new Int32Array(MAX_LEVELS + 1);
  readonly lvFe = new Int32Array(MAX_LEVELS + 1);
  readonly lvFully = new Uint8Array(MAX_LEVELS + 1);
  readonly lvChild = new Float64Array(MAX_LEVELS + 1);
  readonly cWords: Uint32Array[] = [];
  readonly cIdx = new Int32Array(MAX_LEVELS + 1);

  /**
   * Walk cache: `wcWords[l]` is the level-l table the last single-address walk ended in, for
   * the VA frames with `floor(pfn / 512^(l+1)) === wcKey[l]` (-1: none). Every entry above it
   * on that path is a table entry, so a walk may start at level l and count the skipped
   * reads, with the same outcome and counters as the full descent. Only unlinking a table
   * changes such an entry: {@link forgetWalks} runs wherever that happens.
   */
  readonly wcKey = new Float64Array(MAX_LEVELS + 1).fill(-1);
  readonly wcWords: Uint32Array[] = [];
  wcHit: Uint32Array = NO_WORDS;

  /** Table memory by (pfn − arena base pfn): resolved once when allocated. */
  readonly tw: Uint32Array[] = [];
  readonly basePfn: number;

  // Map state (`struct pt_iommu_map_args`).
  readonly attrs = new PtAttrs();
  /** prot the attrs were computed for (set_prot is a pure function of prot and features). */
  attrsProt = -1;
  readonly mapGather = new IotlbGather();
  mOaPfn = 0;
  mLeafLg2 = 0;
  mLeafLevel = 0;

  // Unmap / collect scratch lists (table PAs).
  readonly uFree: number[] = [];
  readonly collect: number[] = [];
  uUnmapped = 0;
  readonly scratchGather = new IotlbGather();

  // Lookup result.
  lPhysPfn = 0;
  lLenLg2 = 0;
  lLevel = 0;

  /**
   * `PAGE_SIZE` when `pt_has_system_page_size()` (granule = 4 KiB): the pgsize of the
   * `__map_single_page` fast path; 0 (never a pgsize) for amdv1_mock.
   */
  readonly sysPage: number;

  destroyed = false;
  /** The tables belong to an adopted image: deinit leaves them alone. */
  adopted = false;

  constructor(fmt: PtFormat, alloc: TableAllocator, counters: IommuCounters, hooks: PtDriverHooks = {}) {
    super();
    // Fields and scratch lists that take doubles (frame numbers and byte counts ≥ 2^31, table
    // addresses ≥ 2^31) hold one from the start, so this object's hidden class never changes
    // once the ops are optimised: a change then deoptimises every op mid-pass (issue 9 §3,
    // hidden-class.test.ts).
    // (curOff/lastOff are offsets the cursor arithmetic computes in doubles: the first store of
    // one from optimised code changed the class — found by hidden-class.test.ts.)
    this.curPfn = this.lastPfn = this.curOff = this.lastOff = this.rangeUpper = this.topPa = 0.5;
    this.pgsizeBitmap = this.domainBitmap = this.mOaPfn = this.uUnmapped = this.lPhysPfn = 0.5;
    this.curPfn = this.lastPfn = this.curOff = this.lastOff = this.rangeUpper = this.topPa = 0;
    this.pgsizeBitmap = this.domainBitmap = this.mOaPfn = this.uUnmapped = this.lPhysPfn = 0;
    // The aperture is an Addr (a bigint past 2^53): tagged from the start.
    this.apertureStart = this.apertureEnd = 0n;
    this.apertureStart = this.apertureEnd = 0;
    this.sizesDesc.push(0.5);
    this.sizesDesc.pop();
    this.uFree.push(0.5);
    this.uFree.pop();
    this.collect.push(0.5);
    this.collect.pop();
    this.fmt = fmt;
    this.codec = new EntryCodec(fmt.layout);
    this.alloc = alloc;
    this.counters = counters;
    this.hooks = hooks;
    this.gLg2 = fmt.granuleLg2;
    this.gSize = P2[fmt.granuleLg2]!;
    this.gInv = 1 / this.gSize;
    this.gPfnLimit = P2[64 - fmt.granuleLg2]!;
    this.sysPage = fmt.granuleLg2 === 12 ? 4096 : 0;
    this.basePfn = alloc.base * this.gInv;
    for (let l = 0; l <= MAX_LEVELS; l++) {
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
    return this.gLg2 + 9 * level;
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

  /** `pt_feature(common, PT_FEAT_SIGN_EXTEND)` */
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
  wordsOfPfn(pfn: number): Uint32Array {
    const i = pfn - this.basePfn;
    if (i >= 0 && i < this.tw.length) {
      const w = this.tw[i]!;
      if (w.length !== 0) return w;
    }
    return this.tableWords(pfn * this.gSize);
  }

  /** `pt_entry_num_contig_lg2` */
  contigLg2(lo: number, hi: number, level: number): number {
    return cContig(this.codec, lo, hi) ? this.fmt.numContigLg2(lo, hi, level, this.features) : 0;
  }

  /** `pt_entry_oa` >> granule */
  oaPfnOf(lo: number, hi: number, level: number): number {
    return cContig(this.codec, lo, hi)
      ? this.fmt.entryOaPfn(lo, hi, level, this.features)
      : cPfn(this.codec, lo, hi);
  }

  /** `pt_install_leaf_entry`: single items inline from the layout, contiguous ones by the format. */
  putLeaf(words: Uint32Array, w: number, level: number, oaPfn: number, oaLg2: number): number {
    if (oaLg2 !== this.gLg2 + 9 * level)
      return this.fmt.writeLeaf(words, w, level, oaPfn, oaLg2, this.attrs, this.features);
    const c = this.codec;
    words[w] = (c.leafSetLo | (level !== 0 ? c.leafPsLo : 0) | this.attrs.lo | cFieldLo(c, oaPfn)) >>> 0;
    words[w + 1] = (this.attrs.hi | cFieldHi(c, oaPfn)) >>> 0;
    return 1;
  }

  /** `pt_install_table` */
  putTable(words: Uint32Array, w: number, tablePfn: number, level: number): void {
    const c = this.codec;
    words[w] = (c.tableLo | (c.nextLevelField ? level << 9 : 0) | cFieldLo(c, tablePfn)) >>> 0;
    words[w + 1] = (c.tableHi | cFieldHi(c, tablePfn)) >>> 0;
  }

  /** Words of a live table. */
  tableWords(pa: number): Uint32Array {
    const i = (pa * this.gInv - this.basePfn) | 0;
    if (i >= 0 && i < this.tw.length) {
      const w = this.tw[i]!;
      if (w.length !== 0) return w;
    }
    const c = this.alloc.mem.chunk(pa);
    // An adopted image that lacks a table its entries point at (a partial dump from a real
    // machine): a typed error naming the address; the inspector lists such entries instead.
    if (!c)
      throw new IommuError(
        "EFAULT",
        "generic_pt",
        { pa },
        "a table entry points at memory the image does not hold",
      );
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

  /** `_pt_top_range`: the top range's max_vasz_lg2 and every constant derived from it. */
  computeTopRange(): void {
    this.rangeMaxVasz = this.topRangeMaxVasz(this.topLevel);
    this.topItems = P2[this.rangeMaxVasz - this.itemLg2(this.topLevel)]!;
    this.invTopItems = 1 / this.topItems;
    for (let l = 0; l <= MAX_LEVELS; l++) {
      this.levelItems[l] = l === this.topLevel ? this.topItems : 512;
      this.invLevelItems[l] = 1 / this.levelItems[l]!;
      this.levelMask[l] = this.levelItems[l]! - 1;
    }
    const mv = this.rangeMaxVasz;
    const g = this.gLg2;
    this.rangeInv = mv >= 64 ? 0 : 2 ** -(mv - g);
    this.rangeSignInv = 2 ** -(mv - g - 1);
    this.rangeUpper = mv >= 64 ? 0 : Math.floor((this.gPfnLimit - 1) * this.rangeInv);
    // checkTopRange for a single frame, as two bounds: the lower half, and with SIGN_EXTEND
    // the upper one (a sign bit set and every bit above max_vasz set).
    if (mv >= 64) {
      this.lkLow = Infinity;
      this.lkHigh = Infinity;
    } else if (this.fSign) {
      this.lkLow = P2[mv - g - 1]!;
      this.lkHigh = this.rangeUpper * P2[mv - g]!;
    } else {
      this.lkLow = P2[mv - g]!;
      this.lkHigh = Infinity;
    }
    const u64Max = (1n << 64n) - 1n;
    if (mv >= 64) this.translatableRanges = [[0n, u64Max]];
    else {
      const gs = BigInt(this.gSize);
      const low: IovaRange = [0n, BigInt(this.lkLow) * gs - 1n];
      this.translatableRanges = this.lkHigh === Infinity ? [low] : [low, [BigInt(this.lkHigh) * gs, u64Max]];
    }
    for (let l = 0; l <= MAX_LEVELS; l++) {
      const t = l === this.topLevel ? this.rangeMaxVasz : Math.min(this.maxVasz, this.itemLg2(l) + 9);
      this.tableOaScale[l] = P2[Math.max(0, t - g)]!;
      this.invTableOaScale[l] = 1 / this.tableOaScale[l]!;
    }
  }

  /** `top_of_table` := (pa, level) at init and on `increase_top`; recomputes the top range. */
  setTop(pa: number, level: number): void {
    this.forgetWalks();
    this.topPa = pa;
    this.topLevel = level;
    this.topWords = this.tableWords(pa);
    this.computeTopRange();
  }

  /** `pt_top_memsize_lg2` in bytes. */
  topMemBytes(level: number): number {
    let n = this.maxVasz - this.itemLg2(level);
    if (level !== this.fmt.maxTopLevel && this.fDyn) n = Math.min(n, this.fmt.numItemsLg2(level));
    return P2[Math.max(12, n + 3)]!;
  }

  /** `iommu_alloc_pages_node_sz` for a table (its words resolved once, into `tw`); -1 on failure. */
  allocTable(bytes: number, coherentNow: boolean): number {
    const pa = this.alloc.alloc(bytes);
    if (pa < 0) return -1;
    const c = this.alloc.mem.chunk(pa)!;
    const i = pa * this.gInv - this.basePfn;
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
   * Where the single-page fast paths start (mapCachedLeaf, unmapCachedLeaf, lookupCachedLeaf):
   * when the walk cache holds the level-0 table of frame `pfn` (below a higher top), the word
   * index of `pfn`'s item in `wcWords[0]`, with the cursor set to [pfn·G + off, pfn·G + lastOff];
   * otherwise -1 and nothing set. No loop, unlike {@link cachedLevel}.
   */
  cachedItem0(pfn: number, off: number, lastOff: number): number {
    if (this.topLevel === 0 || this.wcKey[0] !== Math.floor(pfn * this.invScale[1]!)) return -1;
    this.curPfn = this.lastPfn = pfn;
    this.curOff = off;
    this.lastOff = lastOff;
    return 2 * this.idxAt(0);
  }

  /**
   * The deepest cached table on the walk to frame `pfn` (levels below `top`): its level, or
   * `top` on a miss. The table is left in `wcHit`.
   */
  cachedLevel(pfn: number, top: number): number {
    for (let l = 0; l < top; l++) {
      if (this.wcKey[l] === Math.floor(pfn * this.invScale[l + 1]!)) {
        this.wcHit = this.wcWords[l]!;
        return l;
      }
    }
    return top;
  }

  /** Remember that the walk to `pfn` reached the level-`level` table `words`. */
  rememberWalk(pfn: number, level: number, words: Uint32Array): void {
    this.wcKey[level] = Math.floor(pfn * this.invScale[level + 1]!);
    this.wcWords[level] = words;
  }

  /** `iommu_free_pages` of a table (drops the walk cache). */
  freeTable(pa: number): void {
    this.forgetWalks();
    const i = pa * this.gInv - this.basePfn;
    if (i >= 0 && i < this.tw.length) this.tw[i] = NO_WORDS;
    this.alloc.release(pa);
  }

  // ---------------------------------------------------------------- gather, sync

  /** `gather_range_pages`: account the IOVA and hand the freed tables to the gather. */
  gatherRangePages(g: IotlbGather, iova: number, len: number, list: number[]): void {
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
    if (this.hooks.iotlbSync) this.hooks.iotlbSync(g);
    else this.iotlbSync(g);
    g.init();
  }

  /**
   * The driver's `iotlb_sync`: invalidate what the gather covers and free the page-table
   * pages collected in it (iommu_put_pages_list order).
   */
  iotlbSync(g: IotlbGather): void {
    this.syncCount++;
    if (g.endExcl !== 0) this.counters.flushRange++;
    const list = g.freelist;
    if (list.length === 0) return; // (setting an array's length is a runtime call: skip it)
    for (let i = 0; i < list.length; i++) this.freeTable(list[i]!);
    list.length = 0;
  }

  /** `flush_writes_item` (DMA_INCOHERENT accounting). */
  flushItem(): void {
    this.incoherent.flush++;
    this.incoherent.flushBytes += 8;
  }

  /** `flush_writes_range` over items [start, end) (DMA_INCOHERENT accounting); callers skip empty ranges, as the kernel does. */
  flushRangeItems(start: number, end: number): void {
    this.incoherent.flush++;
    this.incoherent.flushBytes += (end - start) * 8;
  }

  // ---------------------------------------------------------------- ops (lookup.ts, map.ts, ...)

  /** `iova_to_phys_length`: phys + translation-unit size, or the size of the hole. */
  iovaToPhysLength(iova: Addr, out: PhysLength): void {
    ptIovaToPhysLength(this, iova, out);
  }

  /**
   * `map_pages` (c17ee635 semantics): picks one leaf size for the whole range from
   * pgsize × pgcount and the alignment of iova/paddr; adds bytes installed to `mapped`.
   */
  mapPages(iova: Addr, paddr: Addr, pgsize: number, pgcount: number, prot: number, mapped: SizeOut): number {
    return ptMapPages(this, iova, paddr, pgsize, pgcount, prot, mapped);
  }

  /** `map_pages` on frame-split addresses (iova = vaPfn·G + vaOff, paddr likewise; G = the granule). */
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
    return ptMapPagesPfn(this, vaPfn, vaOff, paPfn, paOff, pgsize, pgcount, prot, mapped);
  }

  /**
   * `unmap_pages` (c17ee635): unmap [iova, iova + pgsize·pgcount); stops at the first hole,
   * removes whole entries (possibly more than asked), and reports the IOVA to the gather.
   */
  unmapPages(iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number {
    return ptUnmapPages(this, iova, pgsize, pgcount, gather);
  }

  /** `unmap_pages` on a frame-split iova (`iovaNum` = the iova as the gather records it). */
  unmapPagesPfn(
    vaPfn: number,
    vaOff: number,
    iovaNum: number,
    len: number,
    gather: IotlbGather | null,
  ): number {
    return ptUnmapPagesPfn(this, vaPfn, vaOff, iovaNum, len, gather);
  }

  /** `read_and_clear_dirty`: report write-dirty leaves in [iova, iova+size), clearing D unless NO_CLEAR. */
  readAndClearDirty(iova: number, size: number, flags: number, dirty: IommuDirtyBitmap): number {
    return ptReadAndClearDirty(this, iova, size, flags, dirty);
  }

  /** `set_dirty` (iommufd selftest helper): mark the leaf at iova write-dirty. */
  setDirty(iova: Addr): number {
    return ptSetDirty(this, iova);
  }

  /**
   * Model-only: the lookup walk with every step recorded (the harness's `walk` line), or null
   * when the iova is outside the table (-ERANGE). Prefer the inspector's `walk()`.
   */
  walkSteps(iova: Addr): PtWalkStep[] | null {
    return ptWalkSteps(this, iova);
  }

  /** `pt_iommu_deinit`: free every table, the top included. */
  deinit(): void {
    ptDeinit(this);
  }

  // ---------------------------------------------------------------- teardown

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
