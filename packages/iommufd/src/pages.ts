// drivers/iommu/iommufd/pages.c: the iopt_pages PFN store — pinning from user memory, the
// xarray tier for accesses, the domain tier read back through iova_to_phys, the accounting
// against RLIMIT_MEMLOCK, and the fill/unfill of domains area by area.
import { type Addr, type IommuDomain, PAGE_SIZE } from "@iommu/core";
import type { IommufdContext } from "./context.js";
import { forEachDoubleSpan } from "./interval-tree.js";
import { type IoptArea, IoptPages, type IoptPagesAccess } from "./io-pagetable.js";
import { BATCH_BACKUP_SIZE, PfnBatch, tempKmalloc } from "./pfn-batch.js";
import { batchFromDomain, batchFromDomainContinue, rawPagesFromDomain } from "./read-back.js";

const ENOMEM = -12;
const EFAULT = -14;
const EINVAL = -22;
const EPERM = -1;
const EOVERFLOW = -75;
const ULONG_MAX = (1n << 64n) - 1n;
/**
 * Model-only: the end of the user address space the model's user memory can hold byte-exact
 * (its addresses are numbers): 2^53. A user range ending above it is refused with -EFAULT, as
 * GUP refuses a range above TASK_SIZE (see the README's "Model limits").
 */
export const USER_VA_END = 2n ** 53n;
const BACKUP_BYTES = BATCH_BACKUP_SIZE * 8;
/** `sizeof(struct page *)` */
const PTR = 8;

function warn(ctx: IommufdContext, msg: string): void {
  ctx.warns.warn(msg);
}

/** `iopt_pages_add_npinned` (the CONFIG_IOMMUFD_TEST WARN included). */
function addNpinned(ctx: IommufdContext, pages: IoptPages, n: number): void {
  pages.npinned += n;
  if (pages.npinned > pages.npages) warn(ctx, "iopt_pages_add_npinned: npinned > npages");
}

/** `iopt_pages_sub_npinned` */
function subNpinned(ctx: IommufdContext, pages: IoptPages, n: number): void {
  if (n > pages.npinned) warn(ctx, "iopt_pages_sub_npinned: underflow");
  pages.npinned -= n;
}

/**
 * `iopt_alloc_user_pages(uptr, length, writable)` + `iopt_alloc_pages`: the pages object of a
 * user range (not yet pinned). -EOVERFLOW when uptr + length wraps past 2^64 − 1, -EINVAL for a
 * zero length or one above SIZE_MAX − PAGE_SIZE, -EFAULT (model-only) for a range ending above
 * {@link USER_VA_END}, -ENOMEM on allocation.
 */
export function ioptAllocPages(
  ctx: IommufdContext,
  uptrB: bigint,
  lengthB: bigint,
  writable: boolean,
): IoptPages | number {
  if (uptrB + lengthB > ULONG_MAX) return EOVERFLOW;
  if (lengthB === 0n || lengthB > ULONG_MAX - BigInt(PAGE_SIZE)) return EINVAL;
  if (uptrB + lengthB > USER_VA_END) return EFAULT;
  if (ctx.fault.shouldFail()) return ENOMEM;
  const uptr = Number(uptrB);
  const length = Number(lengthB);
  const base = uptr - (uptr % PAGE_SIZE);
  const npages = Math.ceil((length + (uptr - base)) / PAGE_SIZE);
  const mode = ctx.mm.capIpcLock ? "none" : "user";
  const pages = new IoptPages(ctx.mm, ctx.user, base, npages, writable, mode);
  if (ctx.accountMode === "mm" && pages.accountMode === "user") pages.accountMode = "mm";
  return pages;
}

/** `iopt_put_pages` / `iopt_release_pages` (the release WARNs included). */
export function ioptPutPages(ctx: IommufdContext, pages: IoptPages): void {
  if (--pages.refs > 0) return;
  if (!pages.accessItree.isEmpty) warn(ctx, "iopt_release_pages: access_itree not empty");
  if (!pages.domainsItree.isEmpty) warn(ctx, "iopt_release_pages: domains_itree not empty");
  if (pages.npinned) warn(ctx, "iopt_release_pages: npinned");
  if (pages.pinnedPfns.size) warn(ctx, "iopt_release_pages: pinned_pfns not empty");
}

// ---------------------------------------------------------------------------------------------
// Accounting

/** `incr_user_locked_vm`: charge `source_user->locked_vm` against RLIMIT_MEMLOCK. */
function incrUserLockedVm(pages: IoptPages, n: number): number {
  const limit = pages.mm.memlockLimitPages;
  if (pages.user.lockedVm + n > limit) return ENOMEM;
  pages.user.lockedVm += n;
  return 0;
}

/** `decr_user_locked_vm` */
function decrUserLockedVm(ctx: IommufdContext, pages: IoptPages, n: number): void {
  if (pages.user.lockedVm < n) {
    warn(ctx, "decr_user_locked_vm: locked_vm < npages");
    return;
  }
  pages.user.lockedVm -= n;
}

/** `do_update_pinned`: charge or uncharge `n` pages in the pages' accounting mode. */
function doUpdatePinned(ctx: IommufdContext, pages: IoptPages, n: number, inc: boolean): number {
  let rc = 0;
  switch (pages.accountMode) {
    case "none":
      break;
    case "user":
      if (inc) rc = incrUserLockedVm(pages, n);
      else decrUserLockedVm(ctx, pages, n);
      break;
    case "mm":
      // update_mm_locked_vm -> __account_locked_vm(mm, n, inc, task, false)
      rc = pages.mm.accountLockedVm(n, inc, false);
      break;
  }
  if (rc) return rc;
  pages.lastNpinned = pages.npinned;
  ctx.pinnedVm += inc ? n : -n;
  return 0;
}

/** `update_unpinned`: uncharge what was unpinned since the last update. */
function updateUnpinned(ctx: IommufdContext, pages: IoptPages): void {
  if (pages.npinned > pages.lastNpinned) {
    warn(ctx, "update_unpinned: npinned > last_npinned");
    return;
  }
  if (pages.npinned === pages.lastNpinned) return;
  doUpdatePinned(ctx, pages, pages.lastNpinned - pages.npinned, false);
}

/** `pfn_reader_user_update_pinned`: charge (fallibly) or uncharge the difference. */
function userUpdatePinned(ctx: IommufdContext, pages: IoptPages): number {
  if (pages.npinned === pages.lastNpinned) return 0;
  if (pages.npinned < pages.lastNpinned)
    return doUpdatePinned(ctx, pages, pages.lastNpinned - pages.npinned, false);
  if (ctx.fault.shouldFail()) return ENOMEM;
  return doUpdatePinned(ctx, pages, pages.npinned - pages.lastNpinned, true);
}

// ---------------------------------------------------------------------------------------------
// Tier 3: user memory

/** `struct pfn_reader_user`: the pin_user_pages() window. */
class PfnReaderUser {
  upages: Float64Array | null = null;
  upagesLen = 0;
  upagesStart = 0;
  upagesEnd = 0;
}

/**
 * `pfn_reader_user_pin`: pin up to the temp buffer's worth of [start, last] with FOLL_LONGTERM
 * (| FOLL_WRITE for writable pages). 0, -ENOMEM (buffer), -EFAULT (GUP).
 */
function userPin(
  ctx: IommufdContext,
  user: PfnReaderUser,
  pages: IoptPages,
  start: number,
  last: number,
): number {
  if (last < start) {
    warn(ctx, "pfn_reader_user_pin: last_index < start_index");
    return EINVAL;
  }
  if (!user.upages) {
    const bytes = tempKmalloc(ctx, (last - start + 1) * PTR, 0);
    if (bytes < 0) return ENOMEM;
    user.upagesLen = Math.floor(bytes / PTR);
    user.upages = new Float64Array(user.upagesLen);
  }
  const npages = Math.min(last - start + 1, user.upagesLen);
  if (ctx.fault.shouldFail()) return EFAULT;
  ctx.counters.gupCalls++;
  const rc = pages.mm.memory.pinUserPagesRemote(
    pages.uptr + start * PAGE_SIZE,
    npages,
    pages.writable,
    user.upages,
  );
  if (rc <= 0) {
    if (rc === 0) {
      warn(ctx, "pfn_reader_user_pin: GUP pinned nothing");
      return EFAULT;
    }
    return rc;
  }
  ctx.counters.gupPages += rc;
  addNpinned(ctx, pages, rc);
  user.upagesStart = start;
  user.upagesEnd = start + rc;
  return 0;
}

/** `unpin_user_pages` of a GUP window slice + `iopt_pages_sub_npinned`. */
function unpinList(ctx: IommufdContext, pages: IoptPages, list: Float64Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) pages.mm.memory.unpinUserPages(list[from + i]!, 1);
  subNpinned(ctx, pages, n);
}

// ---------------------------------------------------------------------------------------------
// Batch moves

/** `batch_from_pages` */
function batchFromPages(batch: PfnBatch, list: Float64Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) if (!batch.addPfn(list[from + i]!)) break;
}

/** `batch_from_xarray` */
function batchFromXarray(batch: PfnBatch, pages: IoptPages, start: number, last: number): void {
  for (;;) {
    const pfn = pages.pinnedPfns.get(start);
    if (pfn === undefined || !batch.addPfn(pfn) || start === last) break;
    start++;
  }
}

/** `batch_from_xarray_clear` */
function batchFromXarrayClear(batch: PfnBatch, pages: IoptPages, start: number, last: number): void {
  for (;;) {
    const pfn = pages.pinnedPfns.get(start);
    if (pfn === undefined || !batch.addPfn(pfn)) break;
    pages.pinnedPfns.delete(start);
    if (start === last) break;
    start++;
  }
}

/** `clear_xarray` */
function clearXarray(pages: IoptPages, start: number, last: number): void {
  for (let i = start; i <= last; i++) pages.pinnedPfns.delete(i);
}

/**
 * `pages_to_xarray`: store `list[from..]` at [start, last]. Fault injection hits halfway (the
 * kernel's `iommufd_should_fail()` there); the stored part is cleared on failure.
 */
function pagesToXarray(
  ctx: IommufdContext,
  pages: IoptPages,
  start: number,
  last: number,
  list: Float64Array,
  from: number,
): number {
  const n = last - start + 1;
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    if (i === half && ctx.fault.shouldFail()) {
      if (i) clearXarray(pages, start, start + i - 1);
      return EINVAL;
    }
    if (pages.pinnedPfns.has(start + i)) warn(ctx, "pages_to_xarray: index already stored");
    pages.pinnedPfns.set(start + i, list[from + i]!);
  }
  return 0;
}

/**
 * `batch_unpin`: unpin `npages` of the batch starting `firstPageOff` pfns into it
 * (`unpin_user_page_range_dirty_lock` per run piece).
 */
function batchUnpin(
  ctx: IommufdContext,
  batch: PfnBatch,
  pages: IoptPages,
  firstPageOff: number,
  npages: number,
): void {
  let cur = 0;
  while (firstPageOff) {
    if (batch.npfns[cur]! > firstPageOff) break;
    firstPageOff -= batch.npfns[cur]!;
    cur++;
  }
  while (npages) {
    const n = Math.min(npages, batch.npfns[cur]! - firstPageOff);
    pages.mm.memory.unpinUserPages(batch.pfns[cur]! + firstPageOff, n);
    subNpinned(ctx, pages, n);
    cur++;
    firstPageOff = 0;
    npages -= n;
  }
}

// ---------------------------------------------------------------------------------------------
// Tier 2: domains

/** `iommu_unmap_nofail`: WARN unless exactly `size` bytes went. */
export function iommuUnmapNofail(ctx: IommufdContext, domain: IommuDomain, iova: Addr, size: number): void {
  const ret = ctx.calls.unmap(domain, iova, size);
  if (ret !== size) warn(ctx, `iommu_unmap_nofail: unmapped ${ret} of ${size} bytes`);
}

/** `iopt_area_unmap_domain_range` */
function unmapDomainRange(
  ctx: IommufdContext,
  area: IoptArea,
  domain: IommuDomain,
  start: number,
  last: number,
): void {
  const off = area.indexToOff(start);
  iommuUnmapNofail(ctx, domain, area.iovaAt(off), area.indexToOffLast(last) - off + 1);
}

/** `batch_iommu_map_small`: PAGE_SIZE maps only (disable_large_pages, VFIO type1 v1 compat). */
function batchIommuMapSmall(
  ctx: IommufdContext,
  domain: IommuDomain,
  area: IoptArea,
  off: number,
  paddr: number,
  size: number,
  prot: number,
): number {
  const startOff = off;
  if (paddr % PAGE_SIZE || area.iovaMod(off, PAGE_SIZE) || size % PAGE_SIZE)
    warn(ctx, "batch_iommu_map_small: not PAGE_SIZE aligned");
  while (size > 0) {
    const rc = ctx.calls.map(domain, area.iovaAt(off), paddr, PAGE_SIZE, prot);
    if (rc) {
      if (startOff !== off) iommuUnmapNofail(ctx, domain, area.iovaAt(startOff), off - startOff);
      return rc;
    }
    off += PAGE_SIZE;
    paddr += PAGE_SIZE;
    size -= PAGE_SIZE;
  }
  return 0;
}

/** `batch_to_domain`: map every run of the batch with one iommu_map (or PAGE by PAGE). */
function batchToDomain(
  ctx: IommufdContext,
  batch: PfnBatch,
  domain: IommuDomain,
  area: IoptArea,
  startIndex: number,
): number {
  const small = area.iopt.disableLargePages;
  // Offsets from the area's first IOVA (exact numbers); each call's IOVA is built from them.
  const end = area.length;
  let pageOffset = startIndex === area.index ? area.pageOffset : 0;
  const startOff = area.indexToOff(startIndex);
  let off = startOff;
  let nextOff = startOff;
  for (let cur = 0; cur < batch.end; cur++) {
    nextOff = Math.min(end, nextOff + batch.npfns[cur]! * PAGE_SIZE - pageOffset);
    const paddr = batch.pfns[cur]! * PAGE_SIZE + pageOffset;
    const rc = small
      ? batchIommuMapSmall(ctx, domain, area, off, paddr, nextOff - off, area.iommuProt)
      : ctx.calls.map(domain, area.iovaAt(off), paddr, nextOff - off, area.iommuProt);
    if (rc) {
      if (startOff !== off) iommuUnmapNofail(ctx, domain, area.iovaAt(startOff), off - startOff);
      return rc;
    }
    off = nextOff;
    pageOffset = 0;
  }
  return 0;
}

/** `iopt_pages_find_domain_area` */
function findDomainArea(pages: IoptPages, index: number): IoptArea | undefined {
  return pages.domainsItree.iterFirst(index, index)?.area;
}

// ---------------------------------------------------------------------------------------------
// The pfn_reader: reads PFNs from the best tier (xarray, then a domain, then user memory)

/** `struct pfn_reader` */
class PfnReader {
  readonly batch = new PfnBatch();
  readonly user = new PfnReaderUser();
  batchStartIndex = 0;
  batchEndIndex = 0;
  lastIndex = 0;
  /** The current double span (access_itree, domains_itree). */
  spanUsed: 0 | 1 | 2 | -1 = -1;
  spanStart = 0;
  spanLast = 0;

  constructor(
    readonly ctx: IommufdContext,
    readonly pages: IoptPages,
  ) {}

  /** `interval_tree_double_span_iter_first/next` from `pos`. */
  private spanFrom(pos: number): void {
    this.spanUsed = -1;
    if (pos > this.lastIndex) return;
    forEachDoubleSpan(this.pages.accessItree, this.pages.domainsItree, pos, this.lastIndex, (used, s, l) => {
      this.spanUsed = used;
      this.spanStart = s;
      this.spanLast = l;
      return false;
    });
  }

  /** `pfn_reader_init` */
  init(start: number, last: number): number {
    this.batchStartIndex = start;
    this.batchEndIndex = start;
    this.lastIndex = last;
    const rc = this.batch.init(this.ctx, last - start + 1);
    if (rc) return rc;
    this.spanFrom(start);
    return 0;
  }

  /** `pfn_reader_fill_span` */
  private fillSpan(): number {
    const start = this.batchEndIndex;
    if (this.spanLast < start) {
      warn(this.ctx, "pfn_reader_fill_span: span behind the batch");
      return EINVAL;
    }
    if (this.spanUsed === 1) {
      batchFromXarray(this.batch, this.pages, start, this.spanLast);
      return 0;
    }
    if (this.spanUsed === 2) {
      const area = findDomainArea(this.pages, start);
      if (!area) {
        warn(this.ctx, "pfn_reader_fill_span: no domain area");
        return EINVAL;
      }
      batchFromDomain(
        this.ctx,
        this.batch,
        area.storageDomain!,
        area,
        start,
        Math.min(area.lastIndex, this.spanLast),
      );
      return 0;
    }
    if (start >= this.user.upagesEnd) {
      const rc = userPin(this.ctx, this.user, this.pages, start, this.spanLast);
      if (rc) return rc;
    }
    batchFromPages(this.batch, this.user.upages!, start - this.user.upagesStart, this.user.upagesEnd - start);
    return 0;
  }

  /** `pfn_reader_done` */
  get done(): boolean {
    return this.batchStartIndex === this.lastIndex + 1;
  }

  /** `pfn_reader_next`: the next batch. */
  next(): number {
    this.batch.clear();
    this.batchStartIndex = this.batchEndIndex;
    while (this.batchEndIndex !== this.lastIndex + 1) {
      const npfns = this.batch.totalPfns;
      if (this.spanUsed === -1) {
        warn(this.ctx, "pfn_reader_next: span iterator done");
        return EINVAL;
      }
      const rc = this.fillSpan();
      if (rc) return rc;
      if (!this.batch.totalPfns) {
        warn(this.ctx, "pfn_reader_next: empty batch");
        return EINVAL;
      }
      this.batchEndIndex = this.batchStartIndex + this.batch.totalPfns;
      if (this.batchEndIndex === this.spanLast + 1) this.spanFrom(this.spanLast + 1);
      if (npfns === this.batch.totalPfns) return 0;
    }
    return 0;
  }

  /** `pfn_reader_first` */
  first(start: number, last: number): number {
    if (last < start) {
      warn(this.ctx, "pfn_reader_first: last < start");
      return EINVAL;
    }
    let rc = this.init(start, last);
    if (rc) return rc;
    rc = this.next();
    if (rc) {
      this.destroy();
      return rc;
    }
    return 0;
  }

  /** `pfn_reader_unpin`: unpin the batch's pages no tree holds any more. */
  unpin(): void {
    const start = this.batchStartIndex;
    const last = this.batchEndIndex - 1;
    forEachDoubleSpan(this.pages.accessItree, this.pages.domainsItree, start, last, (used, s, l) => {
      if (!used) batchUnpin(this.ctx, this.batch, this.pages, s - start, l - s + 1);
      return true;
    });
  }

  /** `pfn_reader_release_pins` */
  releasePins(): void {
    if (this.user.upagesEnd > this.batchEndIndex) {
      const n = this.user.upagesEnd - this.batchEndIndex;
      unpinList(this.ctx, this.pages, this.user.upages!, this.batchEndIndex - this.user.upagesStart, n);
      this.user.upagesEnd = this.batchEndIndex;
    }
    if (this.batchStartIndex !== this.batchEndIndex) {
      this.unpin();
      this.batchStartIndex = this.batchEndIndex;
    }
  }

  /** `pfn_reader_destroy` */
  destroy(): void {
    this.releasePins();
    this.user.upages = null;
    if (this.pages.lastNpinned !== this.pages.npinned)
      warn(this.ctx, "pfn_reader_destroy: last_npinned != npinned");
  }

  /** `pfn_reader_update_pinned` */
  updatePinned(): number {
    return userUpdatePinned(this.ctx, this.pages);
  }
}

// ---------------------------------------------------------------------------------------------
// Unfill: unmap an area from its storage domain and unpin what nothing else holds

/** `iopt_area_unpin_domain`: one hole span of __iopt_area_unfill_domain. */
function unpinDomain(
  ctx: IommufdContext,
  batch: PfnBatch,
  area: IoptArea,
  pages: IoptPages,
  domain: IommuDomain,
  startIndex: number,
  lastIndex: number,
  unmappedEnd: { index: number },
  realLastIndex: number,
): void {
  const w = (m: string) => warn(ctx, m);
  while (startIndex <= lastIndex) {
    let batchLast: number;
    if (unmappedEnd.index <= lastIndex) {
      const start = Math.max(startIndex, unmappedEnd.index);
      if (batch.totalPfns && unmappedEnd.index - batch.totalPfns !== startIndex)
        w("iopt_area_unpin_domain: carry does not line up");
      batchFromDomain(ctx, batch, domain, area, start, lastIndex);
      batchLast = startIndex + batch.totalPfns - 1;
    } else batchLast = lastIndex;
    if (batchLast > realLastIndex) w("iopt_area_unpin_domain: batch beyond the area");
    // Unmaps must cut where the PFNs are discontiguous (maps install contiguous runs): when
    // stopping inside the area, read ahead to the end of the current run.
    if (batchLast === lastIndex && lastIndex !== realLastIndex)
      batchFromDomainContinue(ctx, batch, domain, area, lastIndex + 1, realLastIndex);
    if (unmappedEnd.index <= batchLast) {
      unmapDomainRange(ctx, area, domain, unmappedEnd.index, startIndex + batch.totalPfns - 1);
      unmappedEnd.index = startIndex + batch.totalPfns;
    }
    // Unpin only after the unmap.
    batchUnpin(ctx, batch, pages, 0, batchLast - startIndex + 1);
    startIndex = batchLast + 1;
    batch.clearCarry(unmappedEnd.index - batchLast - 1, w);
  }
}

/** `__iopt_area_unfill_domain`: unmap [area start, lastIndex] from `domain`, unpinning holes. */
function unfillDomainTo(
  ctx: IommufdContext,
  area: IoptArea,
  pages: IoptPages,
  domain: IommuDomain,
  lastIndex: number,
): void {
  const startIndex = area.index;
  const unmappedEnd = { index: startIndex };
  const batch = new PfnBatch();
  const w = (m: string) => warn(ctx, m);
  batch.init(ctx, lastIndex + 1, BACKUP_BYTES);
  forEachDoubleSpan(pages.domainsItree, pages.accessItree, startIndex, lastIndex, (used, s, l) => {
    if (used) batch.skipCarry(l - s + 1, w);
    else unpinDomain(ctx, batch, area, pages, domain, s, l, unmappedEnd, lastIndex);
    return true;
  });
  // A range that ends inside an access: the rest is unmapped without unpinning.
  if (unmappedEnd.index !== lastIndex + 1) unmapDomainRange(ctx, area, domain, unmappedEnd.index, lastIndex);
  if (batch.totalPfns) w("__iopt_area_unfill_domain: pfns left in the batch");
  updateUnpinned(ctx, pages);
}

/** `iopt_area_unfill_partial_domain` */
function unfillPartialDomain(
  ctx: IommufdContext,
  area: IoptArea,
  pages: IoptPages,
  domain: IommuDomain,
  endIndex: number,
): void {
  if (endIndex !== area.index) unfillDomainTo(ctx, area, pages, domain, endIndex - 1);
}

/** `iopt_area_unmap_domain`: unmap without unpinning (other domains hold the PFNs). */
export function ioptAreaUnmapDomain(ctx: IommufdContext, area: IoptArea, domain: IommuDomain): void {
  iommuUnmapNofail(ctx, domain, area.iovaAt(0), area.length);
}

/** `iopt_area_unfill_domain`: unmap and unpin (area already out of domains_itree). */
export function ioptAreaUnfillDomain(
  ctx: IommufdContext,
  area: IoptArea,
  pages: IoptPages,
  domain: IommuDomain,
): void {
  unfillDomainTo(ctx, area, pages, domain, area.lastIndex);
}

/** `iopt_area_fill_domain`: map the area's PFNs into a newly attached domain. */
export function ioptAreaFillDomain(ctx: IommufdContext, area: IoptArea, domain: IommuDomain): number {
  const pages = area.pages!;
  const pfns = new PfnReader(ctx, pages);
  let rc = pfns.first(area.index, area.lastIndex);
  if (rc) return rc;
  let doneEnd = pfns.batchStartIndex;
  while (!pfns.done) {
    doneEnd = pfns.batchStartIndex;
    rc = batchToDomain(ctx, pfns.batch, domain, area, pfns.batchStartIndex);
    if (rc) break;
    doneEnd = pfns.batchEndIndex;
    rc = pfns.next();
    if (rc) break;
  }
  if (!rc) rc = pfns.updatePinned();
  if (rc) {
    pfns.releasePins();
    unfillPartialDomain(ctx, area, pages, domain, doneEnd);
  }
  pfns.destroy();
  return rc;
}

/**
 * `iopt_area_fill_domains`: pin and map a new area into every domain of its io_pagetable and
 * enter it in domains_itree. On failure every domain is left unchanged.
 */
export function ioptAreaFillDomains(ctx: IommufdContext, area: IoptArea, pages: IoptPages): number {
  const domains = area.iopt.domains;
  if (domains.length === 0) return 0;
  const pfns = new PfnReader(ctx, pages);
  let rc = pfns.first(area.index, area.lastIndex);
  if (rc) return rc;
  let doneFirstEnd = area.index;
  let doneAllEnd = area.index;
  let failedAt = domains.length;
  outer: while (!pfns.done) {
    doneFirstEnd = pfns.batchEndIndex;
    doneAllEnd = pfns.batchStartIndex;
    for (let i = 0; i < domains.length; i++) {
      rc = batchToDomain(ctx, pfns.batch, domains[i]!, area, pfns.batchStartIndex);
      if (rc) {
        failedAt = i;
        break outer;
      }
    }
    doneAllEnd = doneFirstEnd;
    rc = pfns.next();
    if (rc) break;
  }
  if (!rc) rc = pfns.updatePinned();
  if (!rc) {
    area.storageDomain = domains[0]!;
    pages.domainsItree.insert(area.pagesNode);
    pfns.destroy();
    return 0;
  }
  pfns.releasePins();
  for (let i = 0; i < domains.length; i++) {
    const endIndex = i < failedAt ? doneFirstEnd : doneAllEnd;
    // Not in domains_itree yet: the last domain unpins, the others are only unmapped.
    if (i !== domains.length - 1) {
      if (endIndex !== area.index) unmapDomainRange(ctx, area, domains[i]!, area.index, endIndex - 1);
    } else unfillPartialDomain(ctx, area, pages, domains[i]!, endIndex);
  }
  pfns.destroy();
  return rc;
}

/** `iopt_area_unfill_domains`: unmap an area from every domain and release its PFNs. */
export function ioptAreaUnfillDomains(ctx: IommufdContext, area: IoptArea, pages: IoptPages): void {
  if (!area.storageDomain) return;
  for (const d of area.iopt.domains)
    if (d !== area.storageDomain) unmapDomainRange(ctx, area, d, area.index, area.lastIndex);
  pages.domainsItree.remove(area.pagesNode);
  ioptAreaUnfillDomain(ctx, area, pages, area.storageDomain);
  area.storageDomain = null;
}

// ---------------------------------------------------------------------------------------------
// Tier 1: the xarray, for in-kernel accesses

/** `iopt_pages_unpin_xarray` */
function unpinXarray(
  ctx: IommufdContext,
  batch: PfnBatch,
  pages: IoptPages,
  start: number,
  end: number,
): void {
  while (start <= end) {
    batchFromXarrayClear(batch, pages, start, end);
    if (!batch.totalPfns) {
      warn(ctx, "iopt_pages_unpin_xarray: hole in the xarray");
      break;
    }
    batchUnpin(ctx, batch, pages, 0, batch.totalPfns);
    start += batch.totalPfns;
    batch.clear();
  }
}

/** `iopt_pages_unfill_xarray`: after an access left access_itree. Never fails. */
export function ioptPagesUnfillXarray(
  ctx: IommufdContext,
  pages: IoptPages,
  start: number,
  last: number,
): void {
  let batch: PfnBatch | null = null;
  forEachDoubleSpan(pages.accessItree, pages.domainsItree, start, last, (used, s, l) => {
    if (!used) {
      if (!batch) {
        batch = new PfnBatch();
        batch.init(ctx, last - start + 1, BACKUP_BYTES);
      }
      unpinXarray(ctx, batch, pages, s, l);
    } else if (used === 2) clearXarray(pages, s, l);
    return true;
  });
  updateUnpinned(ctx, pages);
}

/** `iopt_pages_fill_from_xarray` */
function fillFromXarray(pages: IoptPages, start: number, last: number, out: Float64Array, at: number): void {
  for (let i = start; i <= last; i++) out[at++] = pages.pinnedPfns.get(i) ?? 0;
}

/** `iopt_pages_fill_from_domain`: raw_pages_from_domain over the areas holding the range. */
function fillFromDomain(
  ctx: IommufdContext,
  pages: IoptPages,
  start: number,
  last: number,
  out: Float64Array,
  at: number,
): number {
  while (start !== last + 1) {
    const area = findDomainArea(pages, start);
    if (!area) {
      warn(ctx, "iopt_pages_fill_from_domain: no domain area");
      return EINVAL;
    }
    const domainLast = Math.min(area.lastIndex, last);
    at = rawPagesFromDomain(ctx, area.storageDomain!, area, start, domainLast, out, at);
    start = domainLast + 1;
  }
  return 0;
}

/** `iopt_pages_fill_from_mm` */
function fillFromMm(
  ctx: IommufdContext,
  pages: IoptPages,
  user: PfnReaderUser,
  start: number,
  last: number,
  out: Float64Array,
  at: number,
): number {
  let cur = start;
  while (cur !== last + 1) {
    user.upages = out.subarray(at + (cur - start));
    const rc = userPin(ctx, user, pages, cur, last);
    if (rc) {
      if (start !== cur) unpinList(ctx, pages, out, at, cur - start);
      return rc;
    }
    cur = user.upagesEnd;
  }
  return 0;
}

/**
 * `iopt_pages_fill_xarray`: make [start, last] present in the xarray (from the xarray, a
 * domain, or by pinning) and return the pfns in `out` from `at`. The xarray is unchanged on
 * failure.
 */
function fillXarray(
  ctx: IommufdContext,
  pages: IoptPages,
  start: number,
  last: number,
  out: Float64Array,
  at: number,
): number {
  const user = new PfnReaderUser();
  user.upagesLen = last - start + 1;
  let xaEnd = start;
  let rc = 0;
  forEachDoubleSpan(pages.accessItree, pages.domainsItree, start, last, (used, s, l) => {
    const cur = at + (s - start);
    if (used === 1) {
      fillFromXarray(pages, s, l, out, cur);
      return true;
    }
    if (used === 2) {
      fillFromDomain(ctx, pages, s, l, out, cur);
      rc = pagesToXarray(ctx, pages, s, l, out, cur);
      if (rc) return false;
      xaEnd = l + 1;
      return true;
    }
    rc = fillFromMm(ctx, pages, user, s, l, out, cur);
    if (rc) return false;
    rc = pagesToXarray(ctx, pages, s, l, out, cur);
    if (rc) {
      unpinList(ctx, pages, out, cur, l - s + 1);
      return false;
    }
    xaEnd = l + 1;
    return true;
  });
  if (!rc) rc = userUpdatePinned(ctx, pages);
  if (rc && start !== xaEnd) ioptPagesUnfillXarray(ctx, pages, start, xaEnd - 1);
  return rc;
}

/** `iopt_pages_get_exact_access` */
function getExactAccess(pages: IoptPages, start: number, last: number): IoptPagesAccess | undefined {
  return pages.accessItree.overlapping(start, last).find((a) => a.start === start && a.last === last);
}

/**
 * `iopt_area_add_access`: record an in-kernel access to [start, last] of the area's pages,
 * pin them and return the pfns in `out` from `at`. -EPERM for a write to read-only pages.
 */
export function ioptAreaAddAccess(
  ctx: IommufdContext,
  area: IoptArea,
  start: number,
  last: number,
  out: Float64Array,
  at: number,
  write: boolean,
): number {
  const pages = area.pages!;
  if (write && !pages.writable) return EPERM;
  const existing = getExactAccess(pages, start, last);
  if (existing) {
    area.numAccesses++;
    existing.users++;
    fillFromXarray(pages, start, last, out, at);
    return 0;
  }
  if (ctx.fault.shouldFail()) return ENOMEM;
  const rc = fillXarray(ctx, pages, start, last, out, at);
  if (rc) return rc;
  area.numAccesses++;
  pages.accessItree.insert({ start, last, users: 1 });
  return 0;
}

/** `iopt_area_remove_access` */
export function ioptAreaRemoveAccess(ctx: IommufdContext, area: IoptArea, start: number, last: number): void {
  const pages = area.pages!;
  const access = getExactAccess(pages, start, last);
  if (!access) {
    warn(ctx, "ioptAreaRemoveAccess: no such access");
    return;
  }
  if (area.numAccesses === 0 || access.users === 0) warn(ctx, "ioptAreaRemoveAccess: counts already 0");
  area.numAccesses--;
  access.users--;
  if (access.users) return;
  pages.accessItree.remove(access);
  ioptPagesUnfillXarray(ctx, pages, start, last);
}

/**
 * `iopt_pages_rw_slow`: copy through the pfn_reader, as a device would see the pages (domain
 * ranges read back from the storage domain). The bytes move through the user mapping of each
 * pfn (the model keeps page contents by user page).
 */
export function ioptPagesRwSlow(
  ctx: IommufdContext,
  pages: IoptPages,
  start: number,
  last: number,
  offset: number,
  data: Uint8Array,
  write: boolean,
): number {
  const pfns = new PfnReader(ctx, pages);
  let rc = pfns.first(start, last);
  if (rc) return rc;
  let done = 0;
  while (!pfns.done) {
    const b = pfns.batch;
    let index = pfns.batchStartIndex;
    for (let cur = 0; cur < b.end && done < data.length; cur++)
      for (let k = 0; k < b.npfns[cur]! && done < data.length; k++, index++) {
        const n = Math.min(data.length - done, PAGE_SIZE - offset);
        const va = pages.uptr + index * PAGE_SIZE + offset;
        const chunk = data.subarray(done, done + n);
        if (write) pages.mm.memory.copyToUser(va, chunk);
        else pages.mm.memory.copyFromUser(chunk, va);
        done += n;
        offset = 0;
      }
    pfns.unpin();
    rc = pfns.next();
    if (rc) break;
  }
  if (!rc && done !== data.length) {
    warn(ctx, "ioptPagesRwSlow: length left");
    rc = EINVAL;
  }
  pfns.destroy();
  return rc;
}
