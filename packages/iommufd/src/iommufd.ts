// drivers/iommu/iommufd/main.c + ioas.c + device.c (accesses) + selftest.c (test ops): one
// open /dev/iommu — its object table, the IOAS ioctls with their validation and errno, domain
// attach/detach, in-kernel accesses, and the selftest ops the kernel's tests drive.
import {
  type Addr,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  type IommuDomain,
  PAGE_SIZE,
  PhysLength,
  toBigInt,
  UserMm,
} from "@iommu/core";
import type { AccountMode, IommufdContext, ReadBackMode, SourceUser } from "./context.js";
import { IommufdCounters } from "./counters.js";
import { FailNth } from "./fail-nth.js";
import { forEachSpan, type ItNode } from "./interval-tree.js";
import { IoPagetable, type IoptAccessRef, type IoptArea } from "./io-pagetable.js";
import { IommuCalls } from "./iommu-calls.js";
import {
  IOPT_ALLOC_IOVA,
  IOVA_MAX,
  type IoptPagesListElm,
  ioptAddAccess,
  ioptContigAreas,
  ioptDisableLargePages,
  ioptEnableLargePages,
  ioptGetPages,
  ioptMapPages,
  ioptMapUserPages,
  ioptRemoveAccess,
  ioptReserveIova,
  ioptSetAllowIova,
  ioptTableAddDomain,
  ioptTableRemoveDomain,
  ioptUnmapAll,
  ioptUnmapIova,
} from "./iopt.js";
import { ioptAreaAddAccess, ioptAreaRemoveAccess, ioptPagesRwSlow, ioptPutPages } from "./pages.js";
import { TEMP_MEMORY_LIMIT } from "./pfn-batch.js";
import { MockDomain, type MockPagetableType } from "./selftest.js";
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  type IommuDestroy,
  type IommuIoasAlloc,
  type IommuIoasAllowIovas,
  type IommuIoasCopy,
  type IommuIoasIovaRanges,
  type IommuIoasMap,
  type IommuIoasUnmap,
  type IommuOption,
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
  UCMD_SIZES,
  type UcmdHeader,
} from "./uapi.js";

const EPERM = -1;
const ENOENT = -2;
const EFAULT = -14;
const EBUSY = -16;
const EINVAL = -22;
const E2BIG = -7;
const ENOMEM = -12;
const EOVERFLOW = -75;
const EMSGSIZE = -90;
const EOPNOTSUPP = -95;

const U64_MAX = (1n << 64n) - 1n;
const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

/** A u64 ioctl field as a model number: ≥ ULONG_MAX (or beyond the model's 2^53) → -EOVERFLOW. */
function u64Arg(v: Addr): number | null {
  const b = toBigInt(v);
  if (b < 0n || b >= U64_MAX || b > BigInt(IOVA_MAX)) return null;
  return Number(b);
}

/** `iommufd_fops_ioctl` sizing: -EINVAL below the minimum, -E2BIG for non-zero trailing bytes. */
function ucmdCheck(cmd: UcmdHeader, sizes: readonly [number, number]): number {
  const size = cmd.size ?? sizes[1];
  if (size < sizes[0]) return EINVAL;
  if (size > sizes[1] && cmd.trailing?.some((b) => b !== 0)) return E2BIG;
  return 0;
}

/** `conv_iommu_prot`: always IOMMU_CACHE, plus READ/WRITE from the flags. */
function convIommuProt(flags: number): number {
  let prot = IOMMU_CACHE;
  if (flags & IOMMU_IOAS_MAP_WRITEABLE) prot |= IOMMU_WRITE;
  if (flags & IOMMU_IOAS_MAP_READABLE) prot |= IOMMU_READ;
  return prot;
}

/** `check_area_prot`: a write needs IOMMU_WRITE, a read IOMMU_READ. */
function checkAreaProt(area: IoptArea, write: boolean): boolean {
  return (area.iommuProt & (write ? IOMMU_WRITE : IOMMU_READ)) !== 0;
}

/** `struct iommufd_ioas` */
export class IommufdIoas {
  readonly kind = "ioas";
  readonly iopt = new IoPagetable();
  /** HWPTs and accesses using the IOAS (destroy gives -EBUSY while any is left). */
  users = 0;
  constructor(readonly id: number) {}
}

/** `struct iommufd_hwpt_paging`: an attached domain (from a driver, or the selftest mock). */
export class IommufdHwptPaging {
  readonly kind = "hwpt_paging";
  constructor(
    readonly id: number,
    readonly ioas: IommufdIoas,
    readonly domain: IommuDomain,
  ) {}
}

/** One IOMMU_TEST_OP_ACCESS_PAGES pin of the selftest access (`struct selftest_access_item`). */
export interface AccessItem {
  readonly id: number;
  readonly iova: number;
  readonly length: number;
  /** The pfns iommufd returned, one per page. */
  readonly pfns: Float64Array;
}

/**
 * `struct iommufd_access` with the selftest's driver (`selftest_access_ops`): pins pages of
 * its IOAS and unpins them all when told an IOVA range is going away.
 */
export class IommufdAccess implements IoptAccessRef {
  readonly kind = "access";
  readonly items: AccessItem[] = [];
  nextItemId = 1;
  /** `access->iova_alignment`: PAGE_SIZE for drivers that pin pages. */
  readonly iovaAlignment: number;
  /** Model hook: replaces the selftest driver's unmap callback (a driver that does not unpin). */
  onUnmap: ((iova: number, length: number) => void) | null = null;

  constructor(
    readonly id: number,
    readonly ioas: IommufdIoas,
    readonly ictx: Iommufd,
    needsPinPages: boolean,
  ) {
    this.iovaAlignment = needsPinPages ? PAGE_SIZE : 1;
  }

  /** `iommufd_test_access_unmap`: unpin every item overlapping the range. */
  notifyUnmap(iova: number, length: number): void {
    if (this.onUnmap) {
      this.onUnmap(iova, length);
      return;
    }
    const last = iova + length - 1;
    for (const item of [...this.items]) {
      if (item.iova > last || item.iova + item.length - 1 < iova) continue;
      this.ictx.accessUnpinPages(this, item.iova, item.length);
      this.items.splice(this.items.indexOf(item), 1);
    }
  }
}

type IommufdObject = IommufdIoas | IommufdHwptPaging | IommufdAccess;

export interface IommufdOptions {
  /** The process (default: a fresh one with unlimited RLIMIT_MEMLOCK). */
  mm?: UserMm;
  /** PFN read-back strategy (default `legacy`, today's kernel). */
  readBack?: ReadBackMode;
  counters?: IommufdCounters;
  /** Fault injection (default: a FailNth that never fires). */
  fault?: FailNth;
  /** `ictx->account_mode` (default `user`). */
  accountMode?: Exclude<AccountMode, "none">;
  /** `capable(CAP_SYS_RESOURCE)` for IOMMU_OPTION_RLIMIT_MODE (default true). */
  capSysResource?: boolean;
}

/**
 * One iommufd file (`struct iommufd_ctx`): the IOAS ioctls, domain attach/detach, accesses
 * and the selftest ops. Every method follows the kernel's convention: 0 (or an object id)
 * on success, a negative errno on failure, and a failed call leaves the state as it was.
 */
export class Iommufd implements IommufdContext {
  readonly mm: UserMm;
  readonly user: SourceUser = { lockedVm: 0 };
  readonly counters: IommufdCounters;
  readonly calls: IommuCalls;
  readonly fault: FailNth;
  readonly warns: IommuCounters;
  readBack: ReadBackMode;
  tempMemoryLimit = TEMP_MEMORY_LIMIT;
  accountMode: AccountMode;
  pinnedVm = 0;
  readonly lookup = new PhysLength();
  capSysResource: boolean;
  /** `ictx->vfio_ioas`: the IOAS the VFIO compat ioctls act on (see vfio-compat.ts). */
  vfioIoas: IommufdIoas | null = null;
  private readonly objects = new Map<number, IommufdObject>();

  constructor(opts: IommufdOptions = {}) {
    this.mm = opts.mm ?? new UserMm();
    this.warns = this.mm.counters;
    this.counters = opts.counters ?? new IommufdCounters();
    this.calls = new IommuCalls(this.counters);
    this.fault = opts.fault ?? new FailNth();
    this.readBack = opts.readBack ?? "legacy";
    this.accountMode = opts.accountMode ?? "user";
    this.capSysResource = opts.capSysResource ?? true;
  }

  // -------------------------------------------------------------------------------------------
  // Objects

  /** `iommufd_object_alloc` + finalize: the lowest free id (xa_alloc from 1). */
  private objectAlloc<T extends IommufdObject>(make: (id: number) => T): T | number {
    if (this.fault.shouldFail()) return ENOMEM;
    let id = 1;
    while (this.objects.has(id)) id++;
    const obj = make(id);
    this.objects.set(id, obj);
    return obj;
  }

  /** The object with `id`, or undefined. */
  object(id: number): IommufdObject | undefined {
    return this.objects.get(id);
  }

  /** `iommufd_get_ioas`: -ENOENT when `id` is not an IOAS. */
  ioas(id: number): IommufdIoas | number {
    const o = this.objects.get(id);
    return o?.kind === "ioas" ? o : ENOENT;
  }

  /** The IOAS of `id` (throws when there is none: tools and tests). */
  ioasOf(id: number): IommufdIoas {
    const o = this.ioas(id);
    if (typeof o === "number") throw new Error(`no IOAS ${id}`);
    return o;
  }

  /** The HWPT of `id`, or undefined. */
  hwpt(id: number): IommufdHwptPaging | undefined {
    const o = this.objects.get(id);
    return o?.kind === "hwpt_paging" ? o : undefined;
  }

  /** The access of `id`, or undefined. */
  access(id: number): IommufdAccess | undefined {
    const o = this.objects.get(id);
    return o?.kind === "access" ? o : undefined;
  }

  /** Every live object id, ascending. */
  get objectIds(): number[] {
    return [...this.objects.keys()].sort((a, b) => a - b);
  }

  /** IOMMU_DESTROY: -ENOENT, -EBUSY while an IOAS has users. */
  destroy(cmd: IommuDestroy | number): number {
    const c = typeof cmd === "number" ? { id: cmd } : cmd;
    const rc = ucmdCheck(c, UCMD_SIZES.destroy);
    if (rc) return rc;
    const obj = this.objects.get(c.id);
    if (!obj) return ENOENT;
    switch (obj.kind) {
      case "ioas": {
        if (obj.users) return EBUSY;
        // iommufd_ioas_destroy: iopt_unmap_all + iopt_destroy_table
        const out = { unmapped: 0 };
        if (ioptUnmapAll(this, obj.iopt, out)) this.warns.warn("iommufd_ioas_destroy: unmap all failed");
        obj.iopt.reservedItree.nodes.length = 0;
        obj.iopt.allowedItree.nodes.length = 0;
        if (this.vfioIoas === obj) this.vfioIoas = null;
        break;
      }
      case "hwpt_paging":
        ioptTableRemoveDomain(this, obj.ioas.iopt, obj.domain);
        obj.domain.ops?.free?.(obj.domain);
        obj.ioas.users--;
        break;
      case "access":
        for (const item of [...obj.items]) this.accessUnpinPages(obj, item.iova, item.length);
        obj.items.length = 0;
        ioptRemoveAccess(this, obj.ioas.iopt, obj);
        obj.ioas.users--;
        break;
    }
    this.objects.delete(c.id);
    return 0;
  }

  // -------------------------------------------------------------------------------------------
  // IOAS ioctls (ioas.c)

  /** IOMMU_IOAS_ALLOC: the id in `cmd.outIoasId`. */
  ioasAlloc(cmd: IommuIoasAlloc = { flags: 0 }): number {
    const rc = ucmdCheck(cmd, UCMD_SIZES.ioasAlloc);
    if (rc) return rc;
    if (cmd.flags) return EOPNOTSUPP;
    const ioas = this.objectAlloc((id) => new IommufdIoas(id));
    if (typeof ioas === "number") return ioas;
    cmd.outIoasId = ioas.id;
    return 0;
  }

  /** IOMMU_IOAS_MAP: `cmd.iova` is written back (the allocated IOVA). */
  ioasMap(cmd: IommuIoasMap): number {
    let rc = ucmdCheck(cmd, UCMD_SIZES.ioasMap);
    if (rc) return rc;
    if (cmd.flags & ~MAP_FLAGS || cmd.reserved) return EOPNOTSUPP;
    const iova = u64Arg(cmd.iova);
    const length = u64Arg(cmd.length);
    if (iova === null || length === null) return EOVERFLOW;
    if (!(cmd.flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) return EINVAL;
    const ioas = this.ioas(cmd.ioasId);
    if (typeof ioas === "number") return ioas;
    const uptr = u64Arg(cmd.userVa);
    if (uptr === null) return EFAULT;
    const dst = { iova };
    const flags = cmd.flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA;
    rc = ioptMapUserPages(this, ioas.iopt, dst, uptr, length, convIommuProt(cmd.flags), flags);
    if (rc) return rc;
    cmd.iova = dst.iova;
    return 0;
  }

  /** IOMMU_IOAS_UNMAP: `cmd.length` is written back with the bytes unmapped. */
  ioasUnmap(cmd: IommuIoasUnmap): number {
    let rc = ucmdCheck(cmd, UCMD_SIZES.ioasUnmap);
    if (rc) return rc;
    const ioas = this.ioas(cmd.ioasId);
    if (typeof ioas === "number") return ioas;
    const out = { unmapped: 0 };
    if (toBigInt(cmd.iova) === 0n && toBigInt(cmd.length) === U64_MAX)
      rc = ioptUnmapAll(this, ioas.iopt, out);
    else {
      const iova = u64Arg(cmd.iova);
      const length = u64Arg(cmd.length);
      if (iova === null || length === null) return EOVERFLOW;
      rc = ioptUnmapIova(this, ioas.iopt, iova, length, out);
    }
    cmd.length = out.unmapped;
    return rc;
  }

  /** IOMMU_IOAS_COPY: share the source's pages (no new pin) at `dstIova` of the destination. */
  ioasCopy(cmd: IommuIoasCopy): number {
    let rc = ucmdCheck(cmd, UCMD_SIZES.ioasCopy);
    if (rc) return rc;
    if (cmd.flags & ~MAP_FLAGS) return EOPNOTSUPP;
    const length = u64Arg(cmd.length);
    const srcIova = u64Arg(cmd.srcIova);
    const dstIova = u64Arg(cmd.dstIova);
    if (length === null || srcIova === null || dstIova === null) return EOVERFLOW;
    // Unlike IOAS_MAP, neither READABLE nor WRITEABLE is required (selftest copy_area).
    const src = this.ioas(cmd.srcIoasId);
    if (typeof src === "number") return src;
    const list: IoptPagesListElm[] = [];
    rc = ioptGetPages(this, src.iopt, srcIova, length, list);
    if (rc) return rc;
    const dst = this.ioas(cmd.dstIoasId);
    if (typeof dst === "number") {
      this.freeList(list);
      return dst;
    }
    const at = { iova: dstIova };
    const flags = cmd.flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA;
    rc = ioptMapPages(this, dst.iopt, list, length, at, convIommuProt(cmd.flags), flags);
    if (!rc) cmd.dstIova = at.iova;
    this.freeList(list);
    return rc;
  }

  /** `iopt_free_pages_list` for a copy's list (areas live in the destination). */
  private freeList(list: IoptPagesListElm[]): void {
    for (const elm of list) {
      if (elm.area) elm.area.iopt.areaItree.remove(elm.area.node);
      if (elm.pages) ioptPutPages(this, elm.pages);
    }
    list.length = 0;
  }

  /** IOMMU_IOAS_IOVA_RANGES: the holes of the reserved ranges; -EMSGSIZE when `numIovas` is short. */
  ioasIovaRanges(cmd: IommuIoasIovaRanges): number {
    const rc = ucmdCheck(cmd, UCMD_SIZES.ioasIovaRanges);
    if (rc) return rc;
    if (cmd.reserved) return EOPNOTSUPP;
    const ioas = this.ioas(cmd.ioasId);
    if (typeof ioas === "number") return ioas;
    const max = cmd.numIovas;
    cmd.numIovas = 0;
    cmd.outIovaAlignment = ioas.iopt.iovaAlignment;
    cmd.allowedIovas.length = 0;
    forEachSpan(ioas.iopt.reservedItree, 0, IOVA_MAX, (hole, s, l) => {
      if (!hole) return true;
      if (cmd.numIovas < max) cmd.allowedIovas.push({ start: s, last: l === IOVA_MAX ? U64_MAX : l });
      cmd.numIovas++;
      return true;
    });
    return cmd.numIovas > max ? EMSGSIZE : 0;
  }

  /** IOMMU_IOAS_ALLOW_IOVAS: replace the allowed ranges (-EINVAL for empty/overlapping ones). */
  ioasAllowIovas(cmd: IommuIoasAllowIovas): number {
    const rc = ucmdCheck(cmd, UCMD_SIZES.ioasAllowIovas);
    if (rc) return rc;
    if (cmd.reserved) return EOPNOTSUPP;
    const ioas = this.ioas(cmd.ioasId);
    if (typeof ioas === "number") return ioas;
    const nodes: ItNode[] = [];
    for (const r of cmd.allowedIovas) {
      const sb = toBigInt(r.start);
      const lb = toBigInt(r.last);
      if (sb >= lb) return EINVAL;
      const start = Number(sb);
      const last = lb >= BigInt(IOVA_MAX) ? IOVA_MAX : Number(lb);
      if (nodes.some((n) => n.start <= last && n.last >= start)) return EINVAL;
      if (this.fault.shouldFail()) return ENOMEM;
      nodes.push({ start, last });
    }
    return ioptSetAllowIova(ioas.iopt, nodes);
  }

  /** IOMMU_OPTION: RLIMIT_MODE (global) and HUGE_PAGES (per IOAS); GET writes `val64`. */
  option(cmd: IommuOption): number {
    const rc = ucmdCheck(cmd, UCMD_SIZES.option);
    if (rc) return rc;
    if (cmd.reserved) return EOPNOTSUPP;
    const val = toBigInt(cmd.val64);
    if (cmd.optionId === IOMMU_OPTION_RLIMIT_MODE) {
      if (cmd.objectId) return EOPNOTSUPP;
      if (cmd.op === IOMMU_OPTION_OP_GET) {
        cmd.val64 = this.accountMode === "mm" ? 1 : 0;
        return 0;
      }
      if (cmd.op !== IOMMU_OPTION_OP_SET) return EOPNOTSUPP;
      if (!this.capSysResource) return EPERM;
      // The mode can only change while the context has no objects (xa_empty(&ictx->objects)).
      if (this.objects.size) return EBUSY;
      if (val > 1n) return EINVAL;
      this.accountMode = val === 1n ? "mm" : "user";
      return 0;
    }
    if (cmd.optionId !== IOMMU_OPTION_HUGE_PAGES) return EOPNOTSUPP;
    const ioas = this.ioas(cmd.objectId);
    if (typeof ioas === "number") return ioas;
    if (cmd.op === IOMMU_OPTION_OP_GET) {
      cmd.val64 = ioas.iopt.disableLargePages ? 0 : 1;
      return 0;
    }
    if (cmd.op !== IOMMU_OPTION_OP_SET) return EOPNOTSUPP;
    if (val === 0n) return ioptDisableLargePages(this, ioas.iopt);
    if (val === 1n) {
      ioptEnableLargePages(this, ioas.iopt);
      return 0;
    }
    return EINVAL;
  }

  // -------------------------------------------------------------------------------------------
  // Domains

  /**
   * Attach a paging domain to an IOAS (`iommufd_hwpt_paging_alloc` + `iopt_table_add_domain`):
   * the domain comes from the caller's driver. Returns the HWPT id or -errno (the domain is
   * not freed on failure: it stays the caller's).
   */
  attachDomain(ioasId: number, domain: IommuDomain): number {
    const ioas = this.ioas(ioasId);
    if (typeof ioas === "number") return ioas;
    const hwpt = this.objectAlloc((id) => new IommufdHwptPaging(id, ioas, domain));
    if (typeof hwpt === "number") return hwpt;
    const rc = ioptTableAddDomain(this, ioas.iopt, domain);
    if (rc) {
      this.objects.delete(hwpt.id);
      return rc;
    }
    ioas.users++;
    return hwpt.id;
  }

  /** IOMMU_TEST_OP_MOCK_DOMAIN: a mock domain of `type` attached to the IOAS; the HWPT id. */
  mockDomain(ioasId: number, type: MockPagetableType = "default"): number {
    const domain = new MockDomain(type);
    domain.shouldFail = () => this.fault.shouldFail();
    return this.attachDomain(ioasId, domain);
  }

  // -------------------------------------------------------------------------------------------
  // Accesses (device.c) and the selftest access driver

  /** IOMMU_TEST_OP_CREATE_ACCESS: an access on the IOAS; its id. */
  accessCreate(ioasId: number, needsPinPages = true): number {
    const ioas = this.ioas(ioasId);
    if (typeof ioas === "number") return ioas;
    const access = this.objectAlloc((id) => new IommufdAccess(id, ioas, this, needsPinPages));
    if (typeof access === "number") return access;
    const rc = ioptAddAccess(this, ioas.iopt, access);
    if (rc) {
      this.objects.delete(access.id);
      return rc;
    }
    ioas.users++;
    return access.id;
  }

  /** `iopt_area_contig_is_aligned`: only the outer ends of a contiguous run may be unaligned. */
  private contigAligned(area: IoptArea, curIova: number, first: boolean, last: number): boolean {
    if (!first && area.startByte(curIova) % PAGE_SIZE) return false;
    const end = Math.min(last, area.lastIova);
    if (end !== last && (area.startByte(end) + 1) % PAGE_SIZE) return false;
    return true;
  }

  /**
   * `iommufd_access_pin_pages`: pin [iova, iova + length) for the access; pfns into `out`.
   * -EINVAL (zero length, preventing area, unaligned middle), -EPERM, -ENOENT (gap), -errno.
   */
  accessPinPages(
    access: IommufdAccess,
    iova: number,
    length: number,
    out: Float64Array,
    write: boolean,
  ): number {
    if (access.iovaAlignment !== PAGE_SIZE) {
      this.warns.warn("iommufd_access_pin_pages: access does not pin pages");
      return EINVAL;
    }
    if (!length) return EINVAL;
    const lastIova = iova + length - 1;
    if (lastIova > IOVA_MAX) return EOVERFLOW;
    const iopt = access.ioas.iopt;
    const it = { curIova: 0, done: false };
    let at = 0;
    let rc = 0;
    let first = true;
    for (const area of ioptContigAreas(iopt, iova, lastIova, it)) {
      const last = Math.min(lastIova, area.lastIova);
      const lastIndex = area.iovaToIndex(last);
      const index = area.iovaToIndex(it.curIova);
      if (area.preventAccess || !this.contigAligned(area, it.curIova, first, lastIova)) {
        rc = EINVAL;
        break;
      }
      if (!checkAreaProt(area, write)) {
        rc = EPERM;
        break;
      }
      rc = ioptAreaAddAccess(this, area, index, lastIndex, out, at, write);
      if (rc) break;
      at += lastIndex - index + 1;
      first = false;
    }
    if (!rc && !it.done) rc = ENOENT;
    if (!rc) return 0;
    if (iova < it.curIova) this.removeAccessRange(iopt, iova, it.curIova - 1);
    return rc;
  }

  /** The `err_remove` walk of iommufd_access_pin_pages / iommufd_access_unpin_pages. */
  private removeAccessRange(iopt: IoPagetable, iova: number, lastIova: number): void {
    const it = { curIova: 0, done: false };
    for (const area of ioptContigAreas(iopt, iova, lastIova, it)) {
      const last = Math.min(lastIova, area.lastIova);
      ioptAreaRemoveAccess(this, area, area.iovaToIndex(it.curIova), area.iovaToIndex(last));
    }
    if (!it.done) this.warns.warn("iommufd_access_unpin_pages: range not contiguous");
  }

  /** `iommufd_access_unpin_pages` */
  accessUnpinPages(access: IommufdAccess, iova: number, length: number): void {
    if (!length) return;
    this.removeAccessRange(access.ioas.iopt, iova, iova + length - 1);
  }

  /**
   * IOMMU_TEST_OP_ACCESS_PAGES: pin for the selftest access and record the item; when `uptr`
   * is given the pfns must match the user pages (-EINVAL otherwise). Returns the item id.
   */
  accessPages(
    accessId: number,
    iova: number,
    length: number,
    opts: { uptr?: number; write?: boolean } = {},
  ): number {
    const access = this.access(accessId);
    if (!access) return ENOENT;
    const npages = Math.floor((iova + length - 1) / PAGE_SIZE) - Math.floor(iova / PAGE_SIZE) + 1;
    if (!length || length > IOVA_MAX) return EINVAL;
    if (this.fault.shouldFail()) return ENOMEM;
    const pfns = new Float64Array(npages);
    const rc = this.accessPinPages(access, iova, length, pfns, opts.write ?? false);
    if (rc) return rc;
    if (opts.uptr !== undefined) {
      for (let i = 0; i < npages; i++) {
        const pa = this.mm.memory.translate(opts.uptr - (opts.uptr % PAGE_SIZE) + i * PAGE_SIZE);
        if (pa === undefined || Math.floor(pa / PAGE_SIZE) !== pfns[i]) {
          this.accessUnpinPages(access, iova, length);
          return EINVAL;
        }
      }
    }
    const item = { id: access.nextItemId++, iova, length, pfns };
    access.items.push(item);
    return item.id;
  }

  /** IOMMU_TEST_OP_DESTROY_ACCESS_PAGES */
  accessDestroyPages(accessId: number, itemId: number): number {
    const access = this.access(accessId);
    if (!access) return ENOENT;
    const i = access.items.findIndex((it) => it.id === itemId);
    if (i < 0) return ENOENT;
    const item = access.items[i]!;
    this.accessUnpinPages(access, item.iova, item.length);
    access.items.splice(i, 1);
    return 0;
  }

  /**
   * `iommufd_access_rw` (IOMMU_TEST_OP_ACCESS_RW): copy to/from [iova, iova + data.length).
   * MOCK_ACCESS_RW_SLOW_PATH goes through the pfn_reader (domain ranges are read back).
   */
  accessRw(accessId: number, iova: number, data: Uint8Array, flags = 0): number {
    const access = this.access(accessId);
    if (!access) return ENOENT;
    const length = data.length;
    if (!length) return EINVAL;
    const lastIova = iova + length - 1;
    const it = { curIova: 0, done: false };
    const write = (flags & MOCK_ACCESS_RW_WRITE) !== 0;
    let done = 0;
    for (const area of ioptContigAreas(access.ioas.iopt, iova, lastIova, it)) {
      const last = Math.min(lastIova, area.lastIova);
      const bytes = last - it.curIova + 1;
      if (area.preventAccess) return EINVAL;
      if (!checkAreaProt(area, write)) return EPERM;
      const pages = area.pages!;
      if (write && !pages.writable) return EPERM;
      const startByte = area.startByte(it.curIova);
      const chunk = data.subarray(done, done + bytes);
      let rc: number;
      if (flags & MOCK_ACCESS_RW_SLOW_PATH) {
        const start = Math.floor(startByte / PAGE_SIZE);
        const lastIdx = Math.floor((startByte + bytes - 1) / PAGE_SIZE);
        rc = ioptPagesRwSlow(this, pages, start, lastIdx, startByte % PAGE_SIZE, chunk, write);
      } else {
        const va = pages.uptr + startByte;
        const left = write ? this.mm.memory.copyToUser(va, chunk) : this.mm.memory.copyFromUser(chunk, va);
        rc = left ? EFAULT : 0;
      }
      if (rc) return rc;
      done += bytes;
    }
    return it.done ? 0 : ENOENT;
  }

  // -------------------------------------------------------------------------------------------
  // Selftest ops

  /** IOMMU_TEST_OP_ADD_RESERVED */
  addReserved(ioasId: number, start: number, length: number): number {
    const ioas = this.ioas(ioasId);
    if (typeof ioas === "number") return ioas;
    return ioptReserveIova(this, ioas.iopt, start, start + length - 1, null);
  }

  /** IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT (0 restores the default 64 KiB). */
  setTempMemoryLimit(limit: number): void {
    this.tempMemoryLimit = limit || TEMP_MEMORY_LIMIT;
  }

  /**
   * IOMMU_TEST_OP_MD_CHECK_MAP (`iommufd_test_md_check_pa`): every `1 << __ffs(pgsize_bitmap)`
   * step of [iova, iova + length) translates to the user page behind `uptr` (+ offset).
   * 0 or -EINVAL; `walks` (when given) receives the lookups made — the op is called directly,
   * as the kernel does (legacy: one per step; length: one per leaf, GUP still per step).
   */
  mdCheckMap(hwptId: number, iova: number, length: number, uptr: number, walks?: { n: number }): number {
    const hwpt = this.hwpt(hwptId);
    if (!hwpt) return ENOENT;
    const d = hwpt.domain;
    let pageSize = 1;
    while (!(d.pgsizeBitmap & pageSize)) pageSize *= 2;
    if (iova % pageSize || length % pageSize || uptr % pageSize) return EINVAL;
    const ops = d.ops!;
    const r = this.lookup;
    let leafEnd = -1;
    let leafPhys = 0;
    let leafIova = 0;
    for (; length; length -= pageSize, iova += pageSize, uptr += pageSize) {
      const pa = this.mm.memory.translate(uptr);
      if (pa === undefined) return EFAULT;
      let io: number;
      if (this.readBack === "length" && ops.iovaToPhysLength) {
        if (iova >= leafEnd) {
          ops.iovaToPhysLength(d, iova, r);
          if (walks) walks.n++;
          if (!r.mapped) return EINVAL;
          leafIova = iova - (iova % r.length);
          leafEnd = leafIova + r.length;
          leafPhys = r.physNumber - (iova - leafIova);
        }
        io = leafPhys + (iova - leafIova);
      } else {
        const p = ops.iovaToPhys ? ops.iovaToPhys(d, iova) : 0;
        if (walks) walks.n++;
        io = typeof p === "number" ? p : Number(p);
      }
      if (io !== pa) return EINVAL;
    }
    return 0;
  }

  /** IOMMU_TEST_OP_MD_CHECK_REFS: every page of [uptr, uptr + length) has `refs` pins. */
  mdCheckRefs(uptr: number, length: number, refs: number): number {
    if (uptr % PAGE_SIZE || length % PAGE_SIZE) return EINVAL;
    for (let v = uptr; v < uptr + length; v += PAGE_SIZE)
      if (this.mm.memory.pinCount(v) !== refs) return EINVAL;
    return 0;
  }
}
