// drivers/iommu/iommufd/pages.c: batch_from_domain, batch_from_domain_continue and
// raw_pages_from_domain — reading PFNs back from a domain's page table — in today's per-PAGE
// form and the length-aware form of the iova_to_phys_length series.
//
// Hot path (one lookup per page or leaf): the lookup record is reused, nothing is allocated.
import type { IommuDomain } from "@iommu/core";
import { PAGE_SIZE } from "@iommu/core";
import type { IommufdContext } from "./context.js";
import type { IoptArea } from "./io-pagetable.js";
import type { PfnBatch } from "./pfn-batch.js";

/**
 * The run the length-aware lookup at `iova` found: the pfn of the index's page in `pfnOut` and
 * how many whole PAGE indices from it the same leaf maps linearly (at least 1). A leaf of
 * PAGE_SIZE or less, or a page that straddles the leaf's start, covers one index: the caller
 * then steps one PAGE exactly as the legacy loop does (the clamp for sub-page leaves).
 */
function lookupRun(
  ctx: IommufdContext,
  domain: IommuDomain,
  iova: number,
  pageOffset: number,
  maxPages: number,
): number {
  const r = ctx.calls.iovaToPhysLength(domain, iova, ctx.lookup);
  const phys = (r.mapped ? r.physNumber : 0) - pageOffset;
  runPfn = Math.floor(phys / PAGE_SIZE);
  if (!r.mapped || r.length <= PAGE_SIZE) return 1;
  const pageIova = iova - pageOffset;
  const leafStart = iova - (iova % r.length);
  if (pageIova < leafStart) return 1;
  const n = Math.floor((leafStart + r.length - pageIova) / PAGE_SIZE);
  return n < 1 ? 1 : Math.min(n, maxPages);
}

/** Out-parameter of {@link lookupRun} (module scoped: the walkers are not re-entrant). */
let runPfn = 0;

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
  let iova = area.indexToIova(startIndex);
  let pageOffset = startIndex === area.index ? area.pageOffset : 0;
  if (ctx.readBack === "legacy") {
    while (startIndex <= lastIndex) {
      const phys = ctx.calls.iovaToPhys(domain, iova) - pageOffset;
      if (!batch.addPfnNum(Math.floor(phys / PAGE_SIZE), 1)) {
        ctx.counters.batchFull++;
        return;
      }
      iova += PAGE_SIZE - pageOffset;
      pageOffset = 0;
      startIndex++;
    }
    return;
  }
  while (startIndex <= lastIndex) {
    const n = lookupRun(ctx, domain, iova, pageOffset, lastIndex - startIndex + 1);
    if (!batch.addPfnNum(runPfn, n)) {
      ctx.counters.batchFull++;
      return;
    }
    iova += n * PAGE_SIZE - pageOffset;
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
  let iova = area.indexToIova(startIndex);
  let pageOffset = startIndex === area.index ? area.pageOffset : 0;
  if (ctx.readBack === "legacy") {
    while (startIndex <= lastIndex) {
      const phys = ctx.calls.iovaToPhys(domain, iova) - pageOffset;
      out[at++] = Math.floor(phys / PAGE_SIZE);
      iova += PAGE_SIZE - pageOffset;
      pageOffset = 0;
      startIndex++;
    }
    return at;
  }
  while (startIndex <= lastIndex) {
    const n = lookupRun(ctx, domain, iova, pageOffset, lastIndex - startIndex + 1);
    for (let k = 0; k < n; k++) out[at++] = runPfn + k;
    iova += n * PAGE_SIZE - pageOffset;
    pageOffset = 0;
    startIndex += n;
  }
  return at;
}
