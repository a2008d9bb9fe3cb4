// drivers/iommu/iommufd/pages.c: batch_from_domain, batch_from_domain_continue and
// raw_pages_from_domain — reading PFNs back from a domain's page table — in today's per-PAGE
// form, the length-aware form of the iova_to_phys_length series and the model's range-lookup
// (`runs`) form.
//
// Hot path (one lookup per page, leaf or range): the lookup record and the run visitor are
// reused, nothing is allocated per page, leaf or run. IOVAs are carried as offsets from the
// area's first IOVA (exact numbers); each lookup's IOVA is a number while the area lies below
// 2^53 and a bigint above it (one BigInt per lookup there: the core's Addr contract).
import type { IommuDomain, PhysRun } from "@iommu/core";
import { PAGE_SIZE } from "@iommu/core";
import type { IommufdContext } from "./context.js";
import type { IoptArea } from "./io-pagetable.js";
import { MAX_NPFNS, type PfnBatch } from "./pfn-batch.js";

/**
 * The run the length-aware lookup `off` bytes into `area` found: the pfn of the index's page in
 * `runPfn` and how many whole PAGE indices from it the same leaf maps linearly (at least 1). A
 * leaf of PAGE_SIZE or less, or a page that straddles the leaf's start, covers one index: the
 * caller then steps one PAGE exactly as the legacy loop does (the clamp for sub-page leaves).
 * Offsets are from the area's first IOVA, so the arithmetic is exact numbers at any IOVA.
 */
function lookupRun(
  ctx: IommufdContext,
  domain: IommuDomain,
  area: IoptArea,
  off: number,
  pageOffset: number,
  maxPages: number,
): number {
  const r = ctx.calls.iovaToPhysLength(domain, area.iovaAt(off), ctx.lookup);
  const phys = (r.mapped ? r.physNumber : 0) - pageOffset;
  runPfn = Math.floor(phys / PAGE_SIZE);
  if (!r.mapped || r.length <= PAGE_SIZE) return 1;
  const pageOff = off - pageOffset;
  const leafStart = off - area.iovaMod(off, r.length);
  if (pageOff < leafStart) return 1;
  const n = Math.floor((leafStart + r.length - pageOff) / PAGE_SIZE);
  return n < 1 ? 1 : Math.min(n, maxPages);
}

/** Out-parameter of {@link lookupRun} (module scoped: the walkers are not re-entrant). */
let runPfn = 0;

/**
 * Model-only: the `runs` read-back state. One range lookup (`iommuIovaToPhysRuns`) over the
 * indices [next, last] of `area`; the visitor turns every run into the PFNs of the indices whose
 * first IOVA lies inside it — exactly the pfn the legacy loop's lookup at that IOVA gives — and
 * hands them to the batch (or the raw array) as one entry, split only at the u32 count and the
 * batch's capacity. A hole gives the legacy loop's per-index pfn (phys 0), one index at a time.
 * The walk stops as soon as the batch is full or the indices are done. Module scoped and reused:
 * the walkers are not re-entrant.
 */
class RunsReadBack {
  area: IoptArea | null = null;
  batch: PfnBatch | null = null;
  out: Float64Array | null = null;
  at = 0;
  next = 0;
  last = 0;
  full = false;
  readonly visit = (run: PhysRun): boolean => this.onRun(run);

  private onRun(run: PhysRun): boolean {
    const area = this.area!;
    // Offsets from the area's first IOVA: frame differences, exact at any IOVA.
    const runIova = (run.iovaPfn - area.iovaPfn) * PAGE_SIZE + run.iovaOffset - area.iovaOff;
    const runEnd = runIova + run.size;
    while (this.next <= this.last) {
      const off = this.next === area.index ? area.pageOffset : 0;
      const start = area.indexToOff(this.next);
      if (start >= runEnd) return true;
      // The page base of this index (its first IOVA less the area's offset into the page).
      const base = start - off;
      let pfn: number;
      let n: number;
      if (run.mapped) {
        pfn = Math.floor((run.physPfn * PAGE_SIZE + run.physOffset + (base - runIova)) / PAGE_SIZE);
        n = Math.min(Math.ceil((runEnd - base) / PAGE_SIZE), this.last - this.next + 1);
      } else {
        pfn = Math.floor(-off / PAGE_SIZE);
        n = 1;
      }
      const added = this.put(pfn, n);
      this.next += added;
      if (added < n) {
        this.full = true;
        return false;
      }
    }
    return false;
  }

  /** Adds n pfns from `pfn`, at most MAX_NPFNS per entry; returns how many fitted. */
  private put(pfn: number, n: number): number {
    const out = this.out;
    if (out) {
      for (let k = 0; k < n; k++) out[this.at++] = pfn + k;
      return n;
    }
    const batch = this.batch!;
    let done = 0;
    while (done < n) {
      const k = Math.min(n - done, MAX_NPFNS);
      if (!batch.addPfnNum(pfn + done, k)) return done;
      done += k;
    }
    return done;
  }

  /** Reads [startIndex, lastIndex] of `area` from `domain` with one range lookup. */
  read(
    ctx: IommufdContext,
    domain: IommuDomain,
    area: IoptArea,
    startIndex: number,
    lastIndex: number,
  ): void {
    this.area = area;
    this.next = startIndex;
    this.last = lastIndex;
    this.full = false;
    const off = area.indexToOff(startIndex);
    const end = area.indexToOffLast(lastIndex) + 1;
    ctx.calls.iovaToPhysRuns(domain, area.iovaAt(off), end - off, this.visit);
    this.area = null;
    this.batch = null;
    this.out = null;
  }
}

const runsReadBack = new RunsReadBack();

/**
 * Model-only: whether the `runs` read-back can serve `area`. Runs are cut in 4 KiB IOVA frames
 * with the physical offset equal to the IOVA offset (the runs contract), so an area whose pages
 * straddle IOVA frames (its IOVA a sub-page step off its user pages, possible on the mock's
 * 2 KiB pages) is read back with the length-aware loop instead.
 */
function runsApply(area: IoptArea): boolean {
  return area.iovaOff === area.pageOffset;
}

/**
 * `batch_from_domain`: fill `batch` with the PFNs of [startIndex, lastIndex] from `domain`.
 * Returns when the batch is full (the failing lookup is repeated by the next call, counted in
 * `counters.batchFull`) or the range is done; `batch.totalPfns` says how far it got.
 */
export function batchFromDomain(
  ctx: IommufdContext,
  batch: PfnBatch,
  domain: IommuDomain,
  area: IoptArea,
  startIndex: number,
  lastIndex: number,
): void {
  if (startIndex > lastIndex) return;
  if (ctx.readBack === "runs" && runsApply(area)) {
    runsReadBack.batch = batch;
    runsReadBack.read(ctx, domain, area, startIndex, lastIndex);
    if (runsReadBack.full) ctx.counters.batchFull++;
    return;
  }
  // The IOVA as an offset from the area's first one (a plain number at any IOVA).
  let off = area.indexToOff(startIndex);
  let pageOffset = startIndex === area.index ? area.pageOffset : 0;
  if (ctx.readBack === "legacy") {
    while (startIndex <= lastIndex) {
      const phys = ctx.calls.iovaToPhys(domain, area.iovaAt(off)) - pageOffset;
      if (!batch.addPfnNum(Math.floor(phys / PAGE_SIZE), 1)) {
        ctx.counters.batchFull++;
        return;
      }
      off += PAGE_SIZE - pageOffset;
      pageOffset = 0;
      startIndex++;
    }
    return;
  }
  while (startIndex <= lastIndex) {
    const n = lookupRun(ctx, domain, area, off, pageOffset, lastIndex - startIndex + 1);
    if (!batch.addPfnNum(runPfn, n)) {
      ctx.counters.batchFull++;
      return;
    }
    off += n * PAGE_SIZE - pageOffset;
    pageOffset = 0;
    startIndex += n;
  }
}

/**
 * `batch_from_domain_continue`: read on only while the last run stays contiguous (the array
 * is temporarily limited to the entries in use), i.e. up to the next PFN discontinuity.
 */
export function batchFromDomainContinue(
  ctx: IommufdContext,
  batch: PfnBatch,
  domain: IommuDomain,
  area: IoptArea,
  startIndex: number,
  lastIndex: number,
): void {
  const arraySize = batch.arraySize;
  batch.arraySize = batch.end;
  batchFromDomain(ctx, batch, domain, area, startIndex, lastIndex);
  batch.arraySize = arraySize;
}

/**
 * `raw_pages_from_domain`: one pfn per index of [startIndex, lastIndex] into `out` from `at`
 * (the kernel's `struct page **`); returns the next free slot. Never stops early.
 */
export function rawPagesFromDomain(
  ctx: IommufdContext,
  domain: IommuDomain,
  area: IoptArea,
  startIndex: number,
  lastIndex: number,
  out: Float64Array,
  at: number,
): number {
  if (startIndex > lastIndex) return at;
  if (ctx.readBack === "runs" && runsApply(area)) {
    runsReadBack.out = out;
    runsReadBack.at = at;
    runsReadBack.read(ctx, domain, area, startIndex, lastIndex);
    return runsReadBack.at;
  }
  let off = area.indexToOff(startIndex);
  let pageOffset = startIndex === area.index ? area.pageOffset : 0;
  if (ctx.readBack === "legacy") {
    while (startIndex <= lastIndex) {
      const phys = ctx.calls.iovaToPhys(domain, area.iovaAt(off)) - pageOffset;
      out[at++] = Math.floor(phys / PAGE_SIZE);
      off += PAGE_SIZE - pageOffset;
      pageOffset = 0;
      startIndex++;
    }
    return at;
  }
  while (startIndex <= lastIndex) {
    const n = lookupRun(ctx, domain, area, off, pageOffset, lastIndex - startIndex + 1);
    for (let k = 0; k < n; k++) out[at++] = runPfn + k;
    off += n * PAGE_SIZE - pageOffset;
    pageOffset = 0;
    startIndex += n;
  }
  return at;
}
