/**
 * The reference model of a translation table: an interval map of linearly translated runs of
 * equal-size leaves, with the map / unmap / lookup semantics the kernel's callers see. Every
 * property and conformance test checks its domain against this one model; what differs
 * between formats (and between VFIO's v1 and v2 unmap) is a parameter, never a copy.
 *
 * Addresses are numbers (every window the tests use lies below 2^53).
 */

/** A run of `size / leaf` leaves of `leaf` bytes each: [iova, iova + size) → [phys, phys + size). */
export interface RefEntry {
  readonly iova: number;
  readonly size: number;
  readonly phys: number;
  readonly prot: number;
  /** Bytes per leaf (translation unit). `iova` and `size` are multiples of it. */
  readonly leaf: number;
  /** The request that created it (one map call, one VFIO DMA): entries of a group were mapped together. */
  readonly group: number;
}

/** What the reference says about one IOVA that it maps. */
export interface RefLookup {
  readonly entry: RefEntry;
  /** Physical address of the IOVA itself. */
  readonly phys: number;
  readonly prot: number;
  /** The leaf that maps it: [unitIova, unitIova + unitSize). */
  readonly unitIova: number;
  readonly unitSize: number;
}

/**
 * An entry to add: leaf defaults to size (one unit, e.g. a VFIO DMA mapping: no alignment
 * asked), prot to 0, group to a fresh one. Given a leaf size, iova and size are multiples of it.
 */
export interface RefEntryInit {
  iova: number;
  size: number;
  phys?: number;
  prot?: number;
  leaf?: number;
  group?: number;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

export class ReferenceMap {
  private readonly list: RefEntry[] = [];
  private groups = 0;

  /** Every entry, ascending by IOVA (disjoint). */
  get entries(): readonly RefEntry[] {
    return this.list;
  }

  get count(): number {
    return this.list.length;
  }

  /** Bytes mapped. */
  get bytes(): number {
    let n = 0;
    for (const e of this.list) n += e.size;
    return n;
  }

  /** A fresh group id. */
  nextGroup(): number {
    return ++this.groups;
  }

  /** Index of the last entry starting at or below `iova`, or -1. */
  private floorIndex(iova: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.iova <= iova) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The entry mapping `iova`, if any. */
  find(iova: number): RefEntry | undefined {
    const i = this.floorIndex(iova);
    if (i < 0) return undefined;
    const e = this.list[i]!;
    return iova < e.iova + e.size ? e : undefined;
  }

  /** Physical address, protection and leaf of a mapped IOVA; undefined in a hole. */
  lookup(iova: number): RefLookup | undefined {
    const e = this.find(iova);
    if (!e) return undefined;
    const off = iova - e.iova;
    const unitOff = Math.floor(off / e.leaf) * e.leaf;
    return { entry: e, phys: e.phys + off, prot: e.prot, unitIova: e.iova + unitOff, unitSize: e.leaf };
  }

  /** Entries overlapping [iova, iova + size), ascending. */
  overlapping(iova: number, size: number): RefEntry[] {
    const out: RefEntry[] = [];
    let i = Math.max(this.floorIndex(iova), 0);
    for (; i < this.list.length; i++) {
      const e = this.list[i]!;
      if (e.iova >= iova + size) break;
      if (e.iova + e.size > iova) out.push(e);
    }
    return out;
  }

  /** True when nothing in [iova, iova + size) is mapped. */
  isFree(iova: number, size: number): boolean {
    const i = this.floorIndex(iova + size - 1);
    if (i < 0) return true;
    const e = this.list[i]!;
    return e.iova + e.size <= iova;
  }

  /** True when every byte of [iova, iova + size) is mapped. */
  isCovered(iova: number, size: number): boolean {
    let at = iova;
    for (const e of this.overlapping(iova, size)) {
      if (e.iova > at) return false;
      at = e.iova + e.size;
    }
    return at >= iova + size;
  }

  /** The unmapped span around a hole IOVA: [start, end), bounded by the neighbouring entries. */
  holeAround(iova: number): { start: number; end: number } | undefined {
    if (this.find(iova)) return undefined;
    const i = this.floorIndex(iova);
    const start = i < 0 ? 0 : this.list[i]!.iova + this.list[i]!.size;
    const next = this.list[i + 1];
    return { start, end: next ? next.iova : Number.POSITIVE_INFINITY };
  }

  /** Add an entry; it must not overlap anything, and iova/size must be multiples of its leaf. */
  add(init: RefEntryInit): RefEntry {
    const leaf = init.leaf ?? init.size;
    const e: RefEntry = {
      iova: init.iova,
      size: init.size,
      phys: init.phys ?? 0,
      prot: init.prot ?? 0,
      leaf,
      group: init.group ?? this.nextGroup(),
    };
    // Leaves are naturally aligned; an entry added without a leaf size is one unit, anywhere.
    if (!(e.size > 0) || e.size % leaf !== 0 || (init.leaf !== undefined && e.iova % leaf !== 0))
      throw new Error(`ReferenceMap.add: ${hex(e.iova)}+${hex(e.size)} is not made of ${hex(leaf)} leaves`);
    if (!this.isFree(e.iova, e.size))
      throw new Error(`ReferenceMap.add: ${hex(e.iova)}+${hex(e.size)} overlaps a mapping`);
    this.list.splice(this.floorIndex(e.iova) + 1, 0, e);
    return e;
  }

  /** Remove one entry (by identity). */
  remove(entry: RefEntry): void {
    const i = this.list.indexOf(entry);
    if (i < 0) throw new Error("ReferenceMap.remove: not an entry of this map");
    this.list.splice(i, 1);
  }

  /**
   * Remove [iova, iova + size) from whatever maps it, splitting entries at the two ends (which
   * must fall on leaf boundaries: leaves are never split). Returns the bytes removed.
   */
  cut(iova: number, size: number): number {
    const end = iova + size;
    let removed = 0;
    for (const e of this.overlapping(iova, size)) {
      const lo = Math.max(iova, e.iova);
      const hi = Math.min(end, e.iova + e.size);
      if ((lo - e.iova) % e.leaf !== 0 || (hi - e.iova) % e.leaf !== 0)
        throw new Error(`ReferenceMap.cut: ${hex(iova)}+${hex(size)} splits a ${hex(e.leaf)} leaf`);
      this.remove(e);
      if (lo > e.iova) this.add({ ...e, size: lo - e.iova });
      if (hi < e.iova + e.size)
        this.add({ ...e, iova: hi, phys: e.phys + (hi - e.iova), size: e.iova + e.size - hi });
      removed += hi - lo;
    }
    return removed;
  }

  clear(): void {
    this.list.length = 0;
  }

  /** An independent copy (same entries and group counter). */
  clone(): ReferenceMap {
    const c = new ReferenceMap();
    c.list.push(...this.list);
    c.groups = this.groups;
    return c;
  }

  // ------------------------------------------------------------------ kernel semantics

  /**
   * `iommu_map()` as the core performs it on a table with `semantics`: the request is split
   * into the leaves `iommu_pgsize()` chooses, and each leaf is written in order; a conflict
   * fails the whole map with everything it added rolled back (but not what it replaced).
   * Returns the errno name on failure.
   */
  map(
    iova: number,
    phys: number,
    size: number,
    prot: number,
    semantics: PageTableSemantics,
  ): { ok: true; group: number } | { ok: false; errno: string } {
    const leaves = splitLeaves(pageSizesOf(semantics.pgsizeBitmap), iova, phys, size);
    if (!leaves) throw new Error(`ReferenceMap.map: ${hex(iova)}+${hex(size)} → ${hex(phys)} does not split`);
    const group = this.nextGroup();
    if (semantics.mapOverTable === "fail") {
      if (!this.isFree(iova, size)) return { ok: false, errno: semantics.mapConflict };
      for (const l of leaves) this.add({ ...l, prot, group });
      return { ok: true, group };
    }
    const span = semantics.entrySpan ?? ((s: number) => s);
    const added: RefEntry[] = [];
    for (const l of leaves) {
      const e = span(l.leaf);
      for (let s = l.iova; s < l.iova + l.size && !this.isFree(s, l.iova + l.size - s); s += e) {
        const there = this.overlapping(s, e);
        if (there.some((x) => x.leaf >= e)) {
          for (const a of added) this.remove(a);
          return { ok: false, errno: semantics.mapConflict };
        }
        // Only smaller leaves, so under a table in this entry: the format frees it first.
        if (there.length) this.cut(s, e);
      }
      added.push(this.add({ ...l, prot, group }));
    }
    return { ok: true, group };
  }

  /**
   * What `iommu_unmap(iova, size)` returns on a table with `semantics`, and the bytes it
   * removes, or why the kernel's answer depends on state the model does not keep (which
   * tables exist) or is a BUG. Does not change the map.
   */
  predictUnmap(iova: number, size: number, semantics: PageTableSemantics): UnmapPrediction {
    return this.clone().unmapInPlace(iova, size, semantics);
  }

  /** Apply `iommu_unmap(iova, size)`; throws when the outcome is undefined (see predictUnmap). */
  unmap(iova: number, size: number, semantics: PageTableSemantics): UnmapOutcome {
    const c = this.clone();
    const p = c.unmapInPlace(iova, size, semantics);
    if ("undefinedBecause" in p)
      throw new Error(`ReferenceMap.unmap ${hex(iova)}+${hex(size)}: undefined (${p.undefinedBecause})`);
    this.list.splice(0, this.list.length, ...c.list);
    return p;
  }

  private unmapInPlace(iova: number, size: number, sem: PageTableSemantics): UnmapPrediction {
    const sizes = pageSizesOf(sem.pgsizeBitmap);
    const min = sizes[sizes.length - 1]!;
    const walk = sem.unmapRange === "leaf-walk";
    let done = 0;
    let cur = iova;
    while (done < size) {
      // The chunk iommu_pgsize() picks (the core passes iova as paddr too).
      const p = largestPage(sizes, cur, cur, size - done);
      if (p === 0) return { undefinedBecause: "no page size fits (the kernel BUG()s)" };
      const l = this.lookup(cur);
      let u: number;
      if (!l) {
        // A hole at the chunk's first page.
        if (done !== 0 && sem.unmapHole !== 0)
          return {
            undefinedBecause: "a hole after progress: unmap_pages returns an errno as size_t mid-range",
          };
        if (!walk && p !== min)
          return { undefinedBecause: "a hole under a large chunk: the result depends on which tables exist" };
        u = done === 0 ? sem.unmapHole : 0;
        if (u < 0) return { ret: u, bytes: 0 };
        break;
      }
      if (l.unitIova !== cur) {
        u = 0; // starts inside a leaf: every format refuses
      } else if (l.unitSize > p) {
        // The leaf at the chunk start is larger than the chunk: the range ends inside it.
        if (sem.unmapPartialLeaf === "whole") u = this.cut(l.unitIova, l.unitSize);
        else u = 0;
      } else if (cur + p <= l.entry.iova + l.entry.size) {
        // Chunks inside this entry: whole leaves, all mapped. Take them in one cut.
        const e = l.entry;
        const end = e.iova + e.size;
        let x = cur + p;
        let d = done + p;
        while (d < size) {
          const q = largestPage(sizes, x, x, size - d);
          if (q < e.leaf || x + q > end) break;
          x += q;
          d += q;
        }
        u = this.cut(cur, x - cur);
      } else if (this.isCovered(cur, p)) {
        u = this.cut(cur, p);
      } else if (walk) {
        // Leaf by leaf from cur, up to the first hole.
        u = 0;
        let at = cur;
        for (;;) {
          const m = this.lookup(at);
          if (!m || m.unitIova !== at || at >= cur + p) break;
          u += this.cut(m.unitIova, m.unitSize);
          at = m.unitIova + m.unitSize;
        }
      } else {
        return { undefinedBecause: "a partly mapped chunk: the format frees whole tables under it" };
      }
      if (u === 0) break;
      done += u;
      cur += u;
    }
    return { ret: done, bytes: done };
  }

  /**
   * VFIO type1 v2 unmap (`vfio_dma_do_unmap`): an entry straddling either end of the range
   * fails the request (-EINVAL, nothing removed); otherwise every entry inside goes.
   */
  unmapContained(iova: number, size: number): UnmapOutcome {
    const end = iova + size;
    const atStart = this.find(iova);
    const atEnd = this.find(end);
    if ((atStart && atStart.iova < iova) || (atEnd && atEnd.iova < end)) return { ret: -22, bytes: 0 };
    let bytes = 0;
    for (const e of this.overlapping(iova, size)) {
      this.remove(e);
      bytes += e.size;
    }
    return { ret: 0, bytes };
  }

  /**
   * VFIO type1 v1 unmap: from the first entry reaching `iova`, in IOVA order, stop at one that
   * starts below `iova` (a straddle) or at/after the end; every entry met goes whole, even
   * past the end of the range.
   */
  unmapWholeFromStart(iova: number, size: number): UnmapOutcome {
    const end = iova + size;
    let bytes = 0;
    for (const e of [...this.list]) {
      if (e.iova + e.size <= iova) continue;
      if (e.iova >= end || e.iova < iova) break;
      this.remove(e);
      bytes += e.size;
    }
    return { ret: 0, bytes };
  }
}

/** A defined unmap outcome: the kernel's return value (bytes, or a negative size_t errno) and the bytes removed. */
export interface UnmapOutcome {
  readonly ret: number;
  readonly bytes: number;
}

export type UnmapPrediction = UnmapOutcome | { readonly undefinedBecause: string };

/**
 * How a page-table format behaves where formats differ, as the kernel's `iommu_map()` /
 * `iommu_unmap()` callers see it. Each field is a known kernel behaviour a format declares.
 */
export interface PageTableSemantics {
  /** The domain's page sizes (bit n = 2^n bytes). */
  readonly pgsizeBitmap: number;
  /** Errno name of a map into a used entry: `EEXIST` (io-pgtable), `EADDRINUSE` (generic_pt). */
  readonly mapConflict: string;
  /**
   * A leaf mapped where smaller leaves live under a table: `replace` — the format frees the
   * table and every leaf under it first (io-pgtable `init_pte`); `fail` — the map fails with
   * `mapConflict` and nothing changes (generic_pt).
   */
  readonly mapOverTable: "replace" | "fail";
  /**
   * `replace` only: span of the entry a leaf of this size is written into (default: the size
   * itself, as in ARM LPAE). ARMv7s writes 64K and 16M as 16 copies of a 4K or 1M entry.
   */
  readonly entrySpan?: (leafSize: number) => number;
  /**
   * What `iommu_unmap()` returns when the range's first page is unmapped: 0, or an errno that
   * `unmap_pages()` returned through `size_t` (ARM LPAE: -ENOENT, so the core returns -2).
   */
  readonly unmapHole: number;
  /**
   * A range ending inside a leaf: `keep` — `unmap_pages()` refuses the partial leaf (returns 0,
   * io-pgtable); `whole` — the whole leaf goes and `iommu_unmap()` reports more than asked
   * (generic_pt). A range starting inside a leaf unmaps nothing in every format.
   */
  readonly unmapPartialLeaf: "keep" | "whole";
  /**
   * `leaf-walk` — `unmap_pages()` clears leaf after leaf and stops at the first hole, whatever
   * page size the core asked for (generic_pt, Apple DART); `entry` — it clears whole entries of
   * the requested size and frees a table entry with everything under it (ARM LPAE, ARMv7s), so
   * over a partly mapped chunk the result depends on which tables exist: the model calls that
   * undefined and the generators avoid it.
   */
  readonly unmapRange: "leaf-walk" | "entry";
}

const sizesCache = new Map<number, readonly number[]>();

/** The sizes of a pgsize bitmap, largest first. */
export function pageSizesOf(bitmap: number): readonly number[] {
  let out = sizesCache.get(bitmap);
  if (!out) {
    const list: number[] = [];
    for (let n = 63; n >= 0; n--) if (Math.floor(bitmap / 2 ** n) % 2 === 1) list.push(2 ** n);
    out = Object.freeze(list);
    sizesCache.set(bitmap, out);
  }
  return out;
}

/** Largest of `sizes` (largest first) no larger than `remaining` to which both addresses are aligned; 0 if none. */
export function largestPage(sizes: readonly number[], iova: number, phys: number, remaining: number): number {
  for (const s of sizes) if (s <= remaining && iova % s === 0 && phys % s === 0) return s;
  return 0;
}

/**
 * The leaves `iommu_pgsize()` splits a map request into, merged into runs of equal leaves;
 * undefined when some part fits no page size.
 */
export function splitLeaves(
  sizes: readonly number[],
  iova: number,
  phys: number,
  size: number,
): Array<{ iova: number; phys: number; size: number; leaf: number }> | undefined {
  const out: Array<{ iova: number; phys: number; size: number; leaf: number }> = [];
  let done = 0;
  while (done < size) {
    const va = iova + done;
    const pa = phys + done;
    const left = size - done;
    const p = largestPage(sizes, va, pa, left);
    if (p === 0) return undefined;
    // As many of them as fit before a larger size becomes usable (the next larger size q is
    // reachable only where iova and phys agree modulo q).
    let count = Math.floor(left / p);
    const q = sizes.filter((s) => s > p).pop();
    if (q !== undefined && va % q === pa % q) {
      const off = q - (va % q);
      if (off + q <= left) count = off / p;
    }
    const last = out[out.length - 1];
    if (last && last.leaf === p && last.iova + last.size === va) last.size += count * p;
    else out.push({ iova: va, phys: pa, size: count * p, leaf: p });
    done += count * p;
  }
  return out;
}
