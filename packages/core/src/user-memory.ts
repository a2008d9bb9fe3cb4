// mm/gup.c pin_user_pages* / unpin_user_page_range_dirty_lock and copy_{to,from}_user over a fake
// user address space (model-only layout; shared by the VFIO and iommufd models).
import { type Addr, PAGE_SIZE, toBigInt } from "./addr.js";
import { IommuCounters } from "./counters.js";
import { PhysSlots, USER_PHYS_BASE, USER_PHYS_END } from "./phys-slots.js";
import { SZ_1G, SZ_2M, SZ_4K } from "./sizes.js";
import { SplitMix64 } from "./splitmix64.js";

/** How a region's pages are laid out physically. */
export type MemKind = "scattered" | "thp" | "hugetlb2m" | "hugetlb1g";

export const MEM_KINDS: readonly MemKind[] = ["scattered", "thp", "hugetlb2m", "hugetlb1g"];

/** Backing chunk size per kind: each chunk-aligned virtual window gets one physical slot. */
export function chunkSizeOf(kind: MemKind): number {
  switch (kind) {
    case "scattered":
      return SZ_4K;
    case "thp":
    case "hugetlb2m":
      return SZ_2M;
    case "hugetlb1g":
      return SZ_1G;
  }
}

export interface MemRegionSpec {
  vaddr: Addr;
  size: Addr;
  kind: MemKind;
  /** splitmix64 seed for the slot choice; default 1. */
  seed?: number | bigint;
  /** A read-only mapping: pins with FOLL_WRITE fail here. */
  readOnly?: boolean;
}

/** Why {@link UserMemory.addRegion} refused: bad arguments, an overlapping VMA, no free slot. */
export class UserMemoryError extends Error {
  override readonly name = "UserMemoryError";
  constructor(
    readonly code: "invalid" | "overlap" | "nomem",
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** One user mapping (a VMA) and the physical slots behind its windows. */
export class MemRegion {
  readonly end: number;
  /** First chunk-aligned window touched by the region. */
  readonly windowBase: number;
  /** Frame number of each window's slot, in window order. */
  readonly slots: number[] = [];
  /** Pin count per page of the region (allocated on first pin). */
  pins: Uint32Array | null = null;

  constructor(
    readonly vaddr: number,
    readonly size: number,
    readonly kind: MemKind,
    readonly seed: bigint,
    readonly readOnly: boolean,
    readonly chunk: number,
  ) {
    this.end = vaddr + size;
    this.windowBase = vaddr - (vaddr % chunk);
  }

  get pageCount(): number {
    return this.size / PAGE_SIZE;
  }

  /** Slots are never physically adjacent, so every window is its own run. */
  get runs(): number {
    return this.slots.length;
  }

  /** Frame backing the page at `v` (inside the region). */
  pfnAt(v: number): number {
    const w = Math.floor((v - this.windowBase) / this.chunk);
    return this.slots[w]! + (v % this.chunk) / PAGE_SIZE;
  }
}

/** A piece of {@link UserMemory.layout}: a physically contiguous run or a hole. */
export interface LayoutPiece {
  kind: "run" | "hole";
  vaddr: number;
  size: number;
  /** Physical address of the run's first byte (runs only). */
  pa: number;
}

const SLOT_PAGES = [1, SZ_2M / PAGE_SIZE, SZ_1G / PAGE_SIZE] as const;

interface SlotOwner {
  region: MemRegion;
  window: number;
}

/**
 * Fake user address space: regions backed by pages in [4 GiB, 64 GiB), laid out exactly as
 * the VFIO vectors' harness lays them out (see the package README), plus the GUP pin
 * bookkeeping (`pin_user_pages_remote` / `unpin_user_page_range_dirty_lock`).
 */
export class UserMemory {
  private readonly regions: MemRegion[] = [];
  private readonly phys = new PhysSlots();
  /** Slot base frame → owner, for unpinning by frame number. */
  private readonly owners = new Map<number, SlotOwner>();
  /** Bytes of the pages that were ever written, by frame (all other memory reads as 0). */
  private readonly contents = new Map<number, Uint8Array>();
  /** Pages currently pinned (pins − unpins). */
  pinned = 0;
  /** WARN sink (an unpin of a page that is not pinned). */
  counters: IommuCounters;

  /** Physical range user pages come from ([4 GiB, 64 GiB) unless the constructor says otherwise). */
  readonly physBase: number;
  readonly physEnd: number;

  /**
   * `phys`: the machine's RAM for user pages, default [4 GiB, 64 GiB) (the vectors' layout). A
   * 32-bit SoC's IOMMU needs pages below 4 GiB: pass e.g. `{ base: 1 GiB, end: 4 GiB }`
   * (1 GiB aligned, at least 1 GiB).
   */
  constructor(counters: IommuCounters = new IommuCounters(), phys?: { base: number; end: number }) {
    this.counters = counters;
    this.physBase = phys?.base ?? USER_PHYS_BASE;
    this.physEnd = phys?.end ?? USER_PHYS_END;
    if (this.physBase % SZ_1G !== 0 || this.physEnd % SZ_1G !== 0 || this.physEnd <= this.physBase)
      throw new UserMemoryError("invalid", "physical range must be 1 GiB aligned and non-empty");
  }

  /** Regions in address order. */
  get allRegions(): readonly MemRegion[] {
    return this.regions;
  }

  /** Register a region; throws {@link UserMemoryError} and changes nothing on failure. */
  addRegion(spec: MemRegionSpec): MemRegion {
    const vaddrB = toBigInt(spec.vaddr);
    const sizeB = toBigInt(spec.size);
    const chunk = chunkSizeOf(spec.kind);
    const page = BigInt(PAGE_SIZE);
    if (sizeB <= 0n || vaddrB < 0n || vaddrB % page !== 0n || sizeB % page !== 0n)
      throw new UserMemoryError("invalid", "vaddr and size must be page aligned, size nonzero");
    if (vaddrB + sizeB > 1n << 64n) throw new UserMemoryError("invalid", "region wraps the address space");
    if (
      spec.kind !== "scattered" &&
      spec.kind !== "thp" &&
      (vaddrB % BigInt(chunk) !== 0n || sizeB % BigInt(chunk) !== 0n)
    )
      throw new UserMemoryError("invalid", `${spec.kind} needs vaddr and size aligned to its page size`);
    const vaddr = Number(vaddrB);
    const size = Number(sizeB);
    const at = this.insertionIndex(vaddr);
    const prev = this.regions[at - 1];
    const next = this.regions[at];
    if ((prev && prev.end > vaddr) || (next && next.vaddr < vaddr + size))
      throw new UserMemoryError("overlap", "overlaps an existing region");
    const seed = BigInt(spec.seed ?? 1);
    const region = new MemRegion(vaddr, size, spec.kind, seed, spec.readOnly ?? false, chunk);
    this.allocateSlots(region);
    this.regions.splice(at, 0, region);
    return region;
  }

  /**
   * Pick each window's slot: draw s = next() mod nslots, then probe s, s+1, … until the slot
   * is wholly unused and does not start where the previous window's slot ended.
   */
  private allocateSlots(region: MemRegion): void {
    const chunk = region.chunk;
    const chunkPages = chunk / PAGE_SIZE;
    const nslots = (this.physEnd - this.physBase) / chunk;
    const basePfn = this.physBase / PAGE_SIZE;
    const rng = new SplitMix64(region.seed);
    const windows = Math.ceil((region.end - region.windowBase) / chunk);
    let prevEnd = -1;
    for (let w = 0; w < windows; w++) {
      let s = rng.nextBelow(nslots);
      let pfn = basePfn + s * chunkPages;
      let probes = 0;
      while (!this.phys.isFree(pfn, chunk) || pfn === prevEnd) {
        if (++probes === nslots) {
          for (let i = 0; i < region.slots.length; i++) this.freeSlot(region.slots[i]!, chunk);
          region.slots.length = 0;
          throw new UserMemoryError("nomem", "no free physical slot");
        }
        s = s + 1 === nslots ? 0 : s + 1;
        pfn = basePfn + s * chunkPages;
      }
      this.phys.take(pfn, chunk);
      this.owners.set(pfn, { region, window: w });
      region.slots.push(pfn);
      prevEnd = pfn + chunkPages;
    }
  }

  private freeSlot(pfn: number, chunk: number): void {
    this.phys.release(pfn, chunk);
    this.owners.delete(pfn);
  }

  /** Index of the first region starting above `vaddr`. */
  private insertionIndex(vaddr: number): number {
    let lo = 0;
    let hi = this.regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.regions[mid]!.vaddr <= vaddr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The region containing `vaddr`, if any (`find_vma` that must contain the address). */
  findRegion(vaddr: number): MemRegion | undefined {
    const r = this.regions[this.insertionIndex(vaddr) - 1];
    return r && vaddr < r.end ? r : undefined;
  }

  /** Physical address of a user address, or undefined outside every region. */
  translate(vaddr: number): number | undefined {
    const page = vaddr - (vaddr % PAGE_SIZE);
    const r = this.findRegion(page);
    return r ? r.pfnAt(page) * PAGE_SIZE + (vaddr % PAGE_SIZE) : undefined;
  }

  /**
   * Maximal physically contiguous runs and holes of [vaddr, vaddr + size) (page aligned).
   * Runs continue across adjacent regions when the frames happen to continue.
   */
  layout(vaddr: number, size: number): LayoutPiece[] {
    const out: LayoutPiece[] = [];
    const end = vaddr + size;
    let v = vaddr;
    while (v < end) {
      const r = this.findRegion(v);
      if (!r) {
        const next = this.regions[this.insertionIndex(v)];
        const stop = next && next.vaddr < end ? next.vaddr : end;
        out.push({ kind: "hole", vaddr: v, size: stop - v, pa: 0 });
        v = stop;
        continue;
      }
      const windowEnd = v - ((v - r.windowBase) % r.chunk) + r.chunk;
      const stop = Math.min(windowEnd, r.end, end);
      const pa = r.pfnAt(v) * PAGE_SIZE;
      const last = out[out.length - 1];
      if (last && last.kind === "run" && last.vaddr + last.size === v && last.pa + last.size === pa)
        last.size += stop - v;
      else out.push({ kind: "run", vaddr: v, size: stop - v, pa });
      v = stop;
    }
    return out;
  }

  /**
   * `pin_user_pages_remote(mm, start, npages, FOLL_LONGTERM [| FOLL_WRITE], pages)`: pin page
   * by page until `npages`, a page outside every region, or a read-only region under
   * FOLL_WRITE. Frames go to `pages`. Returns the count, or -EFAULT when nothing was pinned.
   */
  pinUserPagesRemote(start: number, npages: number, write: boolean, pages: Float64Array): number {
    let n = 0;
    let v = start;
    let r: MemRegion | undefined;
    while (n < npages) {
      if (!r || v >= r.end) {
        r = this.findRegion(v);
        if (!r || (write && r.readOnly)) break;
        if (!r.pins) r.pins = new Uint32Array(r.pageCount);
      }
      const pfn = r.pfnAt(v);
      r.pins![(v - r.vaddr) / PAGE_SIZE]!++;
      pages[n++] = pfn;
      v += PAGE_SIZE;
    }
    this.pinned += n;
    return n === 0 ? -14 : n;
  }

  /**
   * `unpin_user_page_range_dirty_lock` over `npage` frames from `pfn` (also the one-page
   * `unpin_user_pages_dirty_lock`). Unpinning a page that is not pinned is a kernel WARN.
   */
  unpinUserPages(pfn: number, npage: number): void {
    let owner: SlotOwner | undefined;
    let slotBase = 0;
    let slotPages = 0;
    for (let i = 0; i < npage; i++, pfn++) {
      if (!owner || pfn >= slotBase + slotPages) {
        owner = this.ownerOf(pfn);
        if (owner) {
          slotBase = owner.region.slots[owner.window]!;
          slotPages = owner.region.chunk / PAGE_SIZE;
        }
      }
      const pins = owner?.region.pins;
      if (!owner || !pins) {
        this.counters.warn(`unpin of unpinned frame 0x${pfn.toString(16)}`);
        continue;
      }
      const r = owner.region;
      const v = r.windowBase + owner.window * r.chunk + (pfn - slotBase) * PAGE_SIZE;
      const idx = (v - r.vaddr) / PAGE_SIZE;
      if (v < r.vaddr || v >= r.end || pins[idx] === 0) {
        this.counters.warn(`unpin of unpinned frame 0x${pfn.toString(16)}`);
        continue;
      }
      pins[idx]!--;
      this.pinned--;
    }
  }

  /**
   * `copy_from_user`: read `out.length` bytes at `vaddr`. Returns the bytes NOT copied (0 =
   * success), stopping at the first address outside every region. Untouched pages read 0.
   */
  copyFromUser(out: Uint8Array, vaddr: number): number {
    let done = 0;
    while (done < out.length) {
      const v = vaddr + done;
      const r = this.findRegion(v - (v % PAGE_SIZE));
      if (!r) break;
      const off = v % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, out.length - done);
      const page = this.contents.get(r.pfnAt(v - off));
      if (page) out.set(page.subarray(off, off + n), done);
      else out.fill(0, done, done + n);
      done += n;
    }
    return out.length - done;
  }

  /**
   * `copy_to_user`: write `data` at `vaddr` page by page until a page outside every region or
   * in a read-only one. Returns the bytes NOT copied (0 = success).
   */
  copyToUser(vaddr: number, data: Uint8Array): number {
    let done = 0;
    while (done < data.length) {
      const v = vaddr + done;
      const r = this.findRegion(v - (v % PAGE_SIZE));
      if (!r || r.readOnly) break;
      const off = v % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, data.length - done);
      const pfn = r.pfnAt(v - off);
      let page = this.contents.get(pfn);
      if (!page) {
        page = new Uint8Array(PAGE_SIZE);
        this.contents.set(pfn, page);
      }
      page.set(data.subarray(done, done + n), off);
      done += n;
    }
    return data.length - done;
  }

  /** Pin count of the page at a user address (tests and invariants). */
  pinCount(vaddr: number): number {
    const r = this.findRegion(vaddr);
    return r?.pins ? r.pins[(vaddr - r.vaddr - (vaddr % PAGE_SIZE)) / PAGE_SIZE]! : 0;
  }

  private ownerOf(pfn: number): SlotOwner | undefined {
    for (const pages of SLOT_PAGES) {
      const base = pfn - (pfn % pages);
      const o = this.owners.get(base);
      if (o && o.region.chunk / PAGE_SIZE === pages) return o;
    }
    return undefined;
  }
}
