// drivers/iommu/iommufd/io_pagetable.c: IOVA allocation and checks, mapping user pages into
// areas, unmapping whole areas, copies between IOASes, allowed/reserved ranges, attaching and
// detaching domains (fill/unfill), large-page control and access registration.
import { IOMMU_WRITE, type IommuDomain, PAGE_SIZE, toBigInt } from "@iommu/core";
import type { IommufdContext } from "./context.js";
import { forEachDoubleSpan, forEachSpan, type IovaNode, keyMin } from "./interval-tree.js";
import { type IoPagetable, type IoptAccessRef, IoptArea, type IoptPages } from "./io-pagetable.js";
import {
  ioptAllocPages,
  ioptAreaFillDomain,
  ioptAreaFillDomains,
  ioptAreaUnfillDomain,
  ioptAreaUnfillDomains,
  ioptAreaUnmapDomain,
  ioptPutPages,
} from "./pages.js";

const ENOMEM = -12;
const EBUSY = -16;
const EEXIST = -17;
const EINVAL = -22;
const ENOSPC = -28;
const ENOENT = -2;
const EPERM = -1;
const EOVERFLOW = -75;
const EADDRINUSE = -98;
const EDEADLOCK = -35;

/**
 * `ULONG_MAX`: the top of the IOVA space, 2^64 − 1. IOVAs are bigints in the io_pagetable
 * (exact over the whole 64-bit space; see the README's "Model limits").
 */
export const IOVA_MAX = (1n << 64n) - 1n;
const ULONG_MAX = IOVA_MAX;
const PAGE = BigInt(PAGE_SIZE);

/** `HPAGE_SIZE` with CONFIG_TRANSPARENT_HUGEPAGE: the cap of the automatic IOVA alignment. */
export const HPAGE_SIZE = 2 * 1024 * 1024;

/** `IOPT_ALLOC_IOVA` */
export const IOPT_ALLOC_IOVA = 1;

/** Lowest set bit of a positive exact integer (`1UL << __ffs64(x)`). */
function lowestBit(x: number): number {
  let a = 1;
  while (a < x && x % (a * 2) === 0) a *= 2;
  return a;
}

/** `roundup_pow_of_two` (of a value below 2^63). */
function roundupPow2(x: bigint): bigint {
  let a = 1n;
  while (a < x) a <<= 1n;
  return a;
}

/** `ALIGN(x, a) | page_offset` in u64 arithmetic: ALIGN wraps to 0 past 2^64 − 1, as in C. */
function alignOr(x: bigint, a: bigint, pageOffset: number): bigint {
  const y = (x + a - 1n) & ULONG_MAX;
  return (y - (y % a)) | BigInt(pageOffset);
}

/** `check_add_overflow(iova, length - 1, &last)`: the last IOVA, or null past 2^64 − 1. */
export function ioptLastIova(iova: bigint, length: bigint): bigint | null {
  const last = iova + ((length - 1n) & ULONG_MAX);
  return last > ULONG_MAX ? null : last;
}

/**
 * `iopt_alloc_iova`: the lowest free IOVA (not reserved, not an area, inside an allowed range,
 * in [PAGE_SIZE, ULONG_MAX − PAGE_SIZE]) for `length` bytes, aligned like `uptr` (up to
 * HPAGE_SIZE) and keeping its page offset, into `out.iova`. 0, -EOVERFLOW (length ≥
 * ULONG_MAX / 2), -EINVAL (alignment below the table's), -ENOSPC. The u64 ALIGN() is kept,
 * wrap included.
 */
export function ioptAllocIova(
  iopt: IoPagetable,
  out: { iova: bigint },
  uptr: number,
  length: bigint,
): number {
  const pageOffset = uptr % PAGE_SIZE;
  if (length === 0n || length >= ULONG_MAX / 2n) return EOVERFLOW;
  const roundup = roundupPow2(length);
  let align = uptr ? (roundup < BigInt(lowestBit(uptr)) ? roundup : BigInt(lowestBit(uptr))) : roundup;
  if (align >= BigInt(HPAGE_SIZE)) align = BigInt(HPAGE_SIZE);
  if (align < BigInt(iopt.iovaAlignment)) return EINVAL;
  // __alloc_iova_check_used / __alloc_iova_check_hole
  const fits = (start: bigint, last: bigint): bigint => {
    if (last - start < length - 1n) return -1n;
    const s = alignOr(start, align, pageOffset);
    return s > last || last - s < length - 1n ? -1n : s;
  };
  const lo = PAGE;
  const hi = ULONG_MAX - PAGE;
  const allowed: [bigint, bigint][] = [];
  if (iopt.allowedItree.isEmpty) allowed.push([lo, hi]);
  else
    forEachSpan(iopt.allowedItree, lo, hi, (hole, s, l) => {
      if (!hole) allowed.push([s, l]);
      return true;
    });
  let found = -1n;
  for (const [as, al] of allowed) {
    const s0 = fits(as, al);
    if (s0 < 0n) continue;
    forEachDoubleSpan(iopt.reservedItree, iopt.areaItree, s0, al, (used, s, l) => {
      if (used) return true;
      found = fits(s, l);
      return found < 0n;
    });
    if (found >= 0n) {
      out.iova = found;
      return 0;
    }
  }
  return ENOSPC;
}

/** `iopt_check_iova`: a fixed IOVA must be aligned, not reserved (-EINVAL), not mapped (-EEXIST). */
export function ioptCheckIova(iopt: IoPagetable, iova: bigint, length: bigint): number {
  if (iova % BigInt(iopt.iovaAlignment)) return EINVAL;
  const last = ioptLastIova(iova, length);
  if (last === null) return EOVERFLOW;
  if (iopt.reservedItree.iterFirst(iova, last)) return EINVAL;
  if (iopt.areaItree.iterFirst(iova, last)) return EEXIST;
  return 0;
}

/** `struct iopt_pages_list`: one slice of pages to map (several for IOAS_COPY). */
export interface IoptPagesListElm {
  pages: IoptPages | null;
  area: IoptArea | null;
  startByte: number;
  length: number;
}

/** `iopt_insert_area` */
function insertArea(
  iopt: IoPagetable,
  area: IoptArea,
  pages: IoptPages,
  iova: bigint,
  startByte: number,
  length: number,
  prot: number,
  ctx: IommufdContext,
): number {
  if (prot & IOMMU_WRITE && !pages.writable) return EPERM;
  area.iommuProt = prot;
  area.pageOffset = startByte % PAGE_SIZE;
  if (area.pageOffset % iopt.iovaAlignment) return EINVAL;
  const last = ioptLastIova(iova, BigInt(length));
  if (last === null) return EOVERFLOW;
  area.setIova(iova, last);
  area.pagesNode.start = Math.floor(startByte / PAGE_SIZE);
  area.pagesNode.last = Math.floor((startByte + length - 1) / PAGE_SIZE);
  if (area.pagesNode.last >= pages.npages) {
    ctx.warns.warn("iopt_insert_area: area beyond its pages");
    return EOVERFLOW;
  }
  iopt.areaItree.insert(area.node);
  areaInserted.add(area);
  return 0;
}

/** Areas that made it into area_itree (iopt_abort_area removes only those). */
const areaInserted = new WeakSet<IoptArea>();

/** `iopt_abort_area` */
function abortArea(iopt: IoPagetable, area: IoptArea): void {
  if (areaInserted.has(area)) {
    iopt.areaItree.remove(area.node);
    areaInserted.delete(area);
  }
}

/** `iopt_free_pages_list` */
function freePagesList(ctx: IommufdContext, iopt: IoPagetable, list: IoptPagesListElm[]): void {
  for (const elm of list) {
    if (elm.area) abortArea(iopt, elm.area);
    if (elm.pages) ioptPutPages(ctx, elm.pages);
    elm.area = null;
    elm.pages = null;
  }
  list.length = 0;
}

/** `iopt_alloc_area_pages`: allocate and insert the areas (pages still NULL). */
function allocAreaPages(
  ctx: IommufdContext,
  iopt: IoPagetable,
  list: IoptPagesListElm[],
  length: bigint,
  dst: { iova: bigint },
  prot: number,
  flags: number,
): number {
  for (const elm of list) {
    if (ctx.fault.shouldFail()) return ENOMEM;
    elm.area = new IoptArea(iopt);
  }
  if (length % BigInt(iopt.iovaAlignment) || !length) return EINVAL;
  if (flags & IOPT_ALLOC_IOVA) {
    const first = list[0]!;
    const r = ioptAllocIova(iopt, dst, first.pages!.uptr + first.startByte, length);
    if (r) return r;
    if (ioptCheckIova(iopt, dst.iova, length)) {
      ctx.warns.warn("iopt_alloc_area_pages: allocated IOVA fails iopt_check_iova");
      return EINVAL;
    }
  } else {
    const rc = ioptCheckIova(iopt, dst.iova, length);
    if (rc) return rc;
  }
  let iova = dst.iova;
  for (const elm of list) {
    const rc = insertArea(iopt, elm.area!, elm.pages!, iova, elm.startByte, elm.length, prot, ctx);
    if (rc) return rc;
    iova += BigInt(elm.length);
  }
  return 0;
}

/** `iopt_map_pages`: create the areas and fill every domain; the list is consumed on success. */
export function ioptMapPages(
  ctx: IommufdContext,
  iopt: IoPagetable,
  list: IoptPagesListElm[],
  length: bigint,
  dst: { iova: bigint },
  prot: number,
  flags: number,
): number {
  let rc = allocAreaPages(ctx, iopt, list, length, dst, prot, flags);
  if (rc) return rc;
  // iopt_fill_domains_pages
  let i = 0;
  for (; i < list.length; i++) {
    rc = ioptAreaFillDomains(ctx, list[i]!.area!, list[i]!.pages!);
    if (rc) break;
  }
  if (rc) {
    for (let j = 0; j < i; j++) ioptAreaUnfillDomains(ctx, list[j]!.area!, list[j]!.pages!);
    return rc;
  }
  for (const elm of list) {
    elm.area!.pages = elm.pages;
    elm.pages = null;
    elm.area = null;
  }
  return 0;
}

/**
 * `iopt_map_user_pages`: map [uptr, uptr + length) at `dst.iova` (or an allocated IOVA with
 * IOPT_ALLOC_IOVA). 0 or -errno; nothing changes on failure.
 */
export function ioptMapUserPages(
  ctx: IommufdContext,
  iopt: IoPagetable,
  dst: { iova: bigint },
  uptr: bigint,
  length: bigint,
  prot: number,
  flags: number,
): number {
  const pages = ioptAllocPages(ctx, uptr, length, (prot & IOMMU_WRITE) !== 0);
  if (typeof pages === "number") return pages;
  const startByte = Number(uptr) - pages.uptr;
  const list: IoptPagesListElm[] = [{ pages, area: null, startByte, length: Number(length) }];
  const rc = ioptMapPages(ctx, iopt, list, length, dst, prot, flags);
  if (rc) freePagesList(ctx, iopt, list);
  return rc;
}

/** `struct iopt_area_contig_iter` over [iova, last]: the areas in order while they abut. */
export function* ioptContigAreas(
  iopt: IoPagetable,
  iova: bigint,
  last: bigint,
  state: { curIova: bigint; done: boolean },
): Generator<IoptArea> {
  state.curIova = iova;
  state.done = false;
  let area = iopt.areaIterFirst(iova, iova);
  while (area?.pages) {
    yield area;
    const areaLast = area.node.last;
    if (last <= areaLast) {
      state.done = true;
      return;
    }
    state.curIova = areaLast + 1n;
    const next = iopt.areaIterFirst(state.curIova, last);
    if (!next || next.node.start !== state.curIova) return;
    area = next;
  }
}

/** `iopt_get_pages`: references to the pages behind [iova, iova + length), or -ENOENT on a gap. */
export function ioptGetPages(
  ctx: IommufdContext,
  iopt: IoPagetable,
  iova: bigint,
  length: bigint,
  list: IoptPagesListElm[],
): number {
  if (!length) return EINVAL;
  const last = ioptLastIova(iova, length);
  if (last === null) return EOVERFLOW;
  const it = { curIova: 0n, done: false };
  for (const area of ioptContigAreas(iopt, iova, last, it)) {
    if (ctx.fault.shouldFail()) {
      freePagesList(ctx, iopt, list);
      return ENOMEM;
    }
    const l = keyMin(last, area.node.last);
    const pages = area.pages!;
    pages.refs++;
    list.push({
      pages,
      area: null,
      startByte: area.startByte(it.curIova),
      length: Number(l - it.curIova) + 1,
    });
  }
  if (!it.done) {
    freePagesList(ctx, iopt, list);
    return ENOENT;
  }
  return 0;
}

/** `iopt_unmap_iova_range`: unmap every area inside [start, last]; bytes in `out.unmapped`. */
function unmapIovaRange(
  ctx: IommufdContext,
  iopt: IoPagetable,
  start: bigint,
  last: bigint,
  out: { unmapped: bigint },
): number {
  let unmapped = 0n;
  let rc = ENOENT;
  let tries = 0;
  for (;;) {
    const area = iopt.areaIterFirst(start, last);
    if (!area) break;
    const areaFirst = area.node.start;
    const areaLast = area.node.last;
    if (!area.pages || area.numLocks) {
      rc = EBUSY;
      out.unmapped = unmapped;
      return rc;
    }
    if (areaFirst < start || areaLast > last) {
      rc = ENOENT;
      out.unmapped = unmapped;
      return rc;
    }
    if (area.numAccesses) {
      if (++tries > 100) {
        ctx.warns.warn("iopt_unmap_iova_range: accesses keep the area pinned");
        out.unmapped = unmapped;
        return EDEADLOCK;
      }
      start = areaFirst;
      area.preventAccess = true;
      for (const a of [...iopt.accessList]) a.notifyUnmap(areaFirst, areaLast - areaFirst + 1n);
      continue;
    }
    const pages = area.pages;
    area.pages = null;
    ioptAreaUnfillDomains(ctx, area, pages);
    abortArea(iopt, area);
    ioptPutPages(ctx, pages);
    unmapped += areaLast - areaFirst + 1n;
  }
  if (unmapped) rc = 0;
  out.unmapped = unmapped;
  return rc;
}

/** `iopt_unmap_iova`: the range must be a superset of the areas it touches. */
export function ioptUnmapIova(
  ctx: IommufdContext,
  iopt: IoPagetable,
  iova: bigint,
  length: bigint,
  out: { unmapped: bigint },
): number {
  if (!length) return EINVAL;
  const last = ioptLastIova(iova, length);
  if (last === null) return EOVERFLOW;
  return unmapIovaRange(ctx, iopt, iova, last, out);
}

/** `iopt_unmap_all`: succeeds on an empty table. */
export function ioptUnmapAll(ctx: IommufdContext, iopt: IoPagetable, out: { unmapped: bigint }): number {
  const rc = unmapIovaRange(ctx, iopt, 0n, ULONG_MAX, out);
  return rc === ENOENT ? 0 : rc;
}

/** `iopt_set_allow_iova`: replace the allowed ranges; -EADDRINUSE if one is reserved. */
export function ioptSetAllowIova(iopt: IoPagetable, allowed: IovaNode[]): number {
  for (const a of allowed) if (iopt.reservedItree.iterFirst(a.start, a.last)) return EADDRINUSE;
  iopt.allowedItree.nodes.length = 0;
  for (const a of allowed) iopt.allowedItree.insert({ start: a.start, last: a.last });
  return 0;
}

/** `iopt_reserve_iova` */
export function ioptReserveIova(
  ctx: IommufdContext,
  iopt: IoPagetable,
  start: bigint,
  last: bigint,
  owner: unknown,
): number {
  if (iopt.areaItree.iterFirst(start, last) || iopt.allowedItree.iterFirst(start, last)) return EADDRINUSE;
  if (ctx.fault.shouldFail()) return ENOMEM;
  iopt.reservedItree.insert({ start, last, owner });
  return 0;
}

/** `__iopt_remove_reserved_iova` */
export function ioptRemoveReservedIova(iopt: IoPagetable, owner: unknown): void {
  const keep = iopt.reservedItree.nodes.filter((r) => r.owner !== owner);
  iopt.reservedItree.nodes.length = 0;
  iopt.reservedItree.nodes.push(...keep);
}

/** `iopt_check_iova_alignment`: every area conforms to a larger alignment (-EADDRINUSE). */
function checkIovaAlignment(ctx: IommufdContext, iopt: IoPagetable, align: number): number {
  const a = BigInt(align);
  for (const area of iopt.areas)
    if (area.node.start % a || (area.node.last - area.node.start + 1n) % a || area.pageOffset % align)
      return EADDRINUSE;
  for (const a of iopt.accessList)
    if (a.iovaAlignment > align) {
      ctx.warns.warn("iopt_check_iova_alignment: access alignment above the new alignment");
      return EADDRINUSE;
    }
  return 0;
}

/** `1UL << __ffs(domain->pgsize_bitmap)` */
function minPage(domain: IommuDomain): number {
  return lowestBit(domain.pgsizeBitmap);
}

/** A geometry bound as an `unsigned long` (a double 2^64 written for ULONG_MAX is the top). */
function apertureValue(v: number | bigint): bigint {
  const b = toBigInt(v);
  return b >= ULONG_MAX ? ULONG_MAX : b;
}

/** `iopt_fill_domain`: map every area into a new domain; on failure the domain is left empty. */
function fillDomain(ctx: IommufdContext, iopt: IoPagetable, domain: IommuDomain): number {
  const areas = iopt.areas;
  let i = 0;
  let rc = 0;
  for (; i < areas.length; i++) {
    const area = areas[i]!;
    const pages = area.pages;
    if (!pages) continue;
    rc = ioptAreaFillDomain(ctx, area, domain);
    if (rc) break;
    if (!area.storageDomain) {
      if (iopt.domains.length !== 0) ctx.warns.warn("iopt_fill_domain: area without storage domain");
      area.storageDomain = domain;
      pages.domainsItree.insert(area.pagesNode);
    }
  }
  if (!rc) return 0;
  for (let j = 0; j < i; j++) {
    const area = areas[j]!;
    const pages = area.pages;
    if (!pages) continue;
    if (iopt.domains.length === 0) {
      pages.domainsItree.remove(area.pagesNode);
      area.storageDomain = null;
    }
    ioptAreaUnfillDomain(ctx, area, pages, domain);
  }
  return rc;
}

/**
 * `iopt_table_add_domain`: attach a domain — raise the IOVA alignment (-EINVAL above
 * PAGE_SIZE, -EADDRINUSE if areas do not conform), reserve what lies outside its aperture,
 * and fill it from the existing areas. Unchanged on failure.
 */
export function ioptTableAddDomain(ctx: IommufdContext, iopt: IoPagetable, domain: IommuDomain): number {
  if (iopt.domains.includes(domain)) {
    ctx.warns.warn("iopt_table_add_domain: domain already attached");
    return EEXIST;
  }
  const align = Math.max(minPage(domain), iopt.iovaAlignment);
  if (align > PAGE_SIZE) return EINVAL;
  let rc = 0;
  if (align !== iopt.iovaAlignment) {
    rc = checkIovaAlignment(ctx, iopt, align);
    if (rc) return rc;
  }
  const apStart = apertureValue(domain.geometry.apertureStart);
  const apEnd = apertureValue(domain.geometry.apertureEnd);
  if (apStart !== 0n) rc = ioptReserveIova(ctx, iopt, 0n, apStart - 1n, domain);
  if (!rc && apEnd !== ULONG_MAX) rc = ioptReserveIova(ctx, iopt, apEnd + 1n, ULONG_MAX, domain);
  // xa_reserve(&iopt->domains, next_domain_id)
  if (!rc && ctx.fault.shouldFail()) rc = ENOMEM;
  if (!rc) rc = fillDomain(ctx, iopt, domain);
  if (rc) {
    ioptRemoveReservedIova(iopt, domain);
    return rc;
  }
  iopt.iovaAlignment = align;
  iopt.domains.push(domain);
  return 0;
}

/** `iopt_calculate_iova_alignment` */
function calculateIovaAlignment(ctx: IommufdContext, iopt: IoPagetable): number {
  let align = iopt.disableLargePages ? PAGE_SIZE : 1;
  for (const d of iopt.domains) align = Math.max(align, minPage(d));
  for (const a of iopt.accessList) align = Math.max(align, a.iovaAlignment);
  if (align > iopt.iovaAlignment) {
    const rc = checkIovaAlignment(ctx, iopt, align);
    if (rc) return rc;
  }
  iopt.iovaAlignment = align;
  return 0;
}

/** `iopt_unfill_domain`: take a detached domain's mappings down (walks only for the last one). */
function unfillDomain(ctx: IommufdContext, iopt: IoPagetable, domain: IommuDomain): void {
  if (iopt.domains.length !== 0) {
    const storage = iopt.domains[0]!;
    for (const area of iopt.areas) {
      if (!area.pages) continue;
      if (!area.storageDomain) ctx.warns.warn("iopt_unfill_domain: area without storage domain");
      if (area.storageDomain === domain) area.storageDomain = storage;
      ioptAreaUnmapDomain(ctx, area, domain);
    }
    return;
  }
  for (const area of iopt.areas) {
    const pages = area.pages;
    if (!pages) continue;
    pages.domainsItree.remove(area.pagesNode);
    if (area.storageDomain !== domain) ctx.warns.warn("iopt_unfill_domain: storage domain mismatch");
    area.storageDomain = null;
    ioptAreaUnfillDomain(ctx, area, pages, domain);
  }
}

/** `iopt_table_remove_domain`: detach; the domain list stays dense (the tail moves in). */
export function ioptTableRemoveDomain(ctx: IommufdContext, iopt: IoPagetable, domain: IommuDomain): void {
  const index = iopt.domains.indexOf(domain);
  if (index < 0) {
    ctx.warns.warn("iopt_table_remove_domain: domain not attached");
    return;
  }
  const tail = iopt.domains.pop()!;
  if (index !== iopt.domains.length) iopt.domains[index] = tail;
  unfillDomain(ctx, iopt, domain);
  ioptRemoveReservedIova(iopt, domain);
  if (calculateIovaAlignment(ctx, iopt))
    ctx.warns.warn("iopt_table_remove_domain: alignment recalculation failed");
}

/** `iopt_disable_large_pages`: -EINVAL once domains hold areas. */
export function ioptDisableLargePages(ctx: IommufdContext, iopt: IoPagetable): number {
  if (iopt.disableLargePages) return 0;
  if (iopt.domains.length && !iopt.areaItree.isEmpty) return EINVAL;
  iopt.disableLargePages = true;
  const rc = calculateIovaAlignment(ctx, iopt);
  if (rc) iopt.disableLargePages = false;
  return rc;
}

/** `iopt_enable_large_pages` */
export function ioptEnableLargePages(ctx: IommufdContext, iopt: IoPagetable): void {
  iopt.disableLargePages = false;
  if (calculateIovaAlignment(ctx, iopt)) ctx.warns.warn("iopt_enable_large_pages: alignment");
}

/** `iopt_add_access` */
export function ioptAddAccess(ctx: IommufdContext, iopt: IoPagetable, access: IoptAccessRef): number {
  if (ctx.fault.shouldFail()) return ENOMEM;
  iopt.accessList.push(access);
  const rc = calculateIovaAlignment(ctx, iopt);
  if (rc) iopt.accessList.pop();
  return rc;
}

/** `iopt_remove_access` */
export function ioptRemoveAccess(ctx: IommufdContext, iopt: IoPagetable, access: IoptAccessRef): void {
  const i = iopt.accessList.indexOf(access);
  if (i < 0) ctx.warns.warn("iopt_remove_access: not registered");
  else iopt.accessList.splice(i, 1);
  if (calculateIovaAlignment(ctx, iopt)) ctx.warns.warn("iopt_remove_access: alignment");
}

/**
 * `iopt_area_split`: split an area after `iova` into two sharing the same pages (VFIO type1 v1
 * compat). -EBUSY while the area is set up or preventing access, -EINVAL when unaligned, with
 * accesses, or when a domain may hold large pages; -ENOMEM.
 */
function areaSplit(ctx: IommufdContext, area: IoptArea, iova: bigint): number {
  const iopt = area.iopt;
  const alignment = iopt.iovaAlignment;
  const lastIova = area.node.last;
  const startIova = area.node.start;
  const newStart = iova + 1n;
  const pages = area.pages;
  if (iova === startIova || iova === lastIova) return 0;
  if (!pages || area.preventAccess) return EBUSY;
  if (newStart % BigInt(alignment) || area.startByte(newStart) % alignment) return EINVAL;
  if (ctx.fault.shouldFail()) return ENOMEM;
  if (ctx.fault.shouldFail()) return ENOMEM;
  if (area.numAccesses) return EINVAL;
  if (area.storageDomain && !iopt.disableLargePages) return EINVAL;
  const lhs = new IoptArea(iopt);
  const rhs = new IoptArea(iopt);
  iopt.areaItree.remove(area.node);
  areaInserted.delete(area);
  let rc = insertArea(
    iopt,
    lhs,
    pages,
    startIova,
    area.startByte(startIova),
    Number(newStart - startIova),
    area.iommuProt,
    ctx,
  );
  if (!rc)
    rc = insertArea(
      iopt,
      rhs,
      pages,
      newStart,
      area.startByte(newStart),
      Number(lastIova - newStart) + 1,
      area.iommuProt,
      ctx,
    );
  if (rc) {
    ctx.warns.warn("iopt_area_split: re-inserting the halves failed");
    abortArea(iopt, lhs);
    iopt.areaItree.insert(area.node);
    areaInserted.add(area);
    return rc;
  }
  // With the fix "Fix missing update of domains_itree after splitting iopt_area".
  if (area.storageDomain) {
    pages.domainsItree.remove(area.pagesNode);
    pages.domainsItree.insert(lhs.pagesNode);
    pages.domainsItree.insert(rhs.pagesNode);
  }
  lhs.storageDomain = area.storageDomain;
  lhs.pages = pages;
  rhs.storageDomain = area.storageDomain;
  rhs.pages = pages;
  pages.refs++;
  return 0;
}

/** `iopt_cut_iova`: split the areas containing each IOVA so that it ends one. */
export function ioptCutIova(ctx: IommufdContext, iopt: IoPagetable, iovas: readonly bigint[]): number {
  for (const iova of iovas) {
    const area = iopt.areaIterFirst(iova, iova);
    if (!area) continue;
    const rc = areaSplit(ctx, area, iova);
    if (rc) return rc;
  }
  return 0;
}
