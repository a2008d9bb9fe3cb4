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
  iommuIovaToPhysRuns,
  normalizeAddr,
  offOf,
  PAGE_SIZE,
  PhysLength,
  pfnOf,
  toBigInt,
  UserMm,
} from "@iommu/core";
import type { AccountMode, IommufdContext, ReadBackMode, SourceUser } from "./context.js";
import { IommufdCounters } from "./counters.js";
import { FailNth } from "./fail-nth.js";
import { forEachSpan, type IovaNode, keyMin } from "./interval-tree.js";
import { IoPagetable, type IoptAccessRef, type IoptArea } from "./io-pagetable.js";
import { IommuCalls } from "./iommu-calls.js";
import {
  IOPT_ALLOC_IOVA,
  type IoptPagesListElm,
  ioptAddAccess,
  ioptContigAreas,
  ioptDisableLargePages,
  ioptEnableLargePages,
  ioptGetPages,
  ioptLastIova,
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
import { type MockPagetableInit, type MockPagetableType, mockDomainAllocPgtable } from "./selftest.js";
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

/** `U64_MAX`, which is also `ULONG_MAX` (the kernel's 64-bit `unsigned long`). */
const U64_MAX = (1n << 64n) - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

/** A u64 ioctl field as an `unsigned long`: null (→ -EOVERFLOW) when it is ≥ ULONG_MAX. */
function u64Arg(v: Addr): bigint | null {
  const b = toBigInt(v);
  return b < 0n || b >= U64_MAX ? null : b;
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
  /** A number up to 2^53 − 1, a bigint above. */
  readonly iova: Addr;
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
  onUnmap: ((iova: bigint, length: bigint) => void) | null = null;

  constructor(
    readonly id: number,
    readonly ioas: IommufdIoas,
    readonly ictx: Iommufd,
    needsPinPages: boolean,
  ) {
    this.iovaAlignment = needsPinPages ? PAGE_SIZE : 1;
  }

  /** `iommufd_test_access_unmap`: unpin every item overlapping the range. */
  notifyUnmap(iova: bigint, length: bigint): void {
    if (this.onUnmap) {
      this.onUnmap(iova, length);
      return;
    }
    const last = iova + length - 1n;
    for (const item of [...this.items]) {
      const start = toBigInt(item.iova);
      if (start > last || start + BigInt(item.length) - 1n < iova) continue;
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
  /**
   * The selftest mock's page-table constructor (`pt_iommu_amdv1_mock_init`); without one,
   * {@link Iommufd.mockDomain} fails with -EOPNOTSUPP.
   */
  mockPagetableInit?: MockPagetableInit;
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
  /** The injected `pt_iommu_amdv1_mock_init` of {@link mockDomain}. */
  mockPagetableInit: MockPagetableInit | null;
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
    this.mockPagetableInit = opts.mockPagetableInit ?? null;
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
        const out = { unmapped: 0n };
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
    // user_va is a u64 pointer: no ULONG_MAX check (iopt_alloc_user_pages checks the sum).
    const uptr = toBigInt(cmd.userVa) & U64_MAX;
    const dst = { iova };
    const flags = cmd.flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA;
    rc = ioptMapUserPages(this, ioas.iopt, dst, uptr, length, convIommuProt(cmd.flags), flags);
    if (rc) return rc;
    cmd.iova = normalizeAddr(dst.iova);
    return 0;
  }

  /** IOMMU_IOAS_UNMAP: `cmd.length` is written back with the bytes unmapped. */
  ioasUnmap(cmd: IommuIoasUnmap): number {
    let rc = ucmdCheck(cmd, UCMD_SIZES.ioasUnmap);
    if (rc) return rc;
    const ioas = this.ioas(cmd.ioasId);
    if (typeof ioas === "number") return ioas;
    const out = { unmapped: 0n };
    if (toBigInt(cmd.iova) === 0n && toBigInt(cmd.length) === U64_MAX)
      rc = ioptUnmapAll(this, ioas.iopt, out);
    else {
      const iova = u64Arg(cmd.iova);
      const length = u64Arg(cmd.length);
      if (iova === null || length === null) return EOVERFLOW;
      rc = ioptUnmapIova(this, ioas.iopt, iova, length, out);
    }
    cmd.length = normalizeAddr(out.unmapped);
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
    // "iommufd: Do not allow creating areas without READ or WRITE" (v6.11): as IOAS_MAP.
    if (!(cmd.flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE))) return EINVAL;
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
    if (!rc) cmd.dstIova = normalizeAddr(at.iova);
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
    forEachSpan(ioas.iopt.reservedItree, 0n, U64_MAX, (hole, s, l) => {
      if (!hole) return true;
      if (cmd.numIovas < max) cmd.allowedIovas.push({ start: normalizeAddr(s), last: normalizeAddr(l) });
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
    const nodes: IovaNode[] = [];
    for (const r of cmd.allowedIovas) {
      // struct iommu_iova_range: u64 start/last, exact over the whole 64-bit space.
      const start = toBigInt(r.start) & U64_MAX;
      const last = toBigInt(r.last) & U64_MAX;
      if (start >= last) return EINVAL;
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

  /**
   * IOMMU_TEST_OP_MOCK_DOMAIN: a mock domain of `type` (`mock_domain_alloc_pgtable` over the
   * injected page-table init) attached to the IOAS; the HWPT id or -errno (-EOPNOTSUPP without
   * an init).
   */
  mockDomain(ioasId: number, type: MockPagetableType = "default"): number {
    if (!this.mockPagetableInit) return EOPNOTSUPP;
    // kzalloc of struct mock_iommu_domain.
    if (this.fault.shouldFail()) return ENOMEM;
    const domain = mockDomainAllocPgtable(this.mockPagetableInit, type, this.fault);
    if (typeof domain === "number") return domain;
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
  private contigAligned(area: IoptArea, curIova: bigint, first: boolean, last: bigint): boolean {
    if (!first && area.startByte(curIova) % PAGE_SIZE) return false;
    const end = keyMin(last, area.node.last);
    if (end !== last && (area.startByte(end) + 1) % PAGE_SIZE) return false;
    return true;
  }

  /**
   * `iommufd_access_pin_pages`: pin [iova, iova + length) for the access; pfns into `out`.
   * -EINVAL (zero length, preventing area, unaligned middle), -EPERM, -ENOENT (gap), -errno.
   */
  accessPinPages(
    access: IommufdAccess,
    iovaA: Addr,
    lengthA: Addr,
    out: Float64Array,
    write: boolean,
  ): number {
    if (access.iovaAlignment !== PAGE_SIZE) {
      this.warns.warn("iommufd_access_pin_pages: access does not pin pages");
      return EINVAL;
    }
    const iova = toBigInt(iovaA);
    const length = toBigInt(lengthA);
    if (!length) return EINVAL;
    const lastIova = ioptLastIova(iova, length);
    if (lastIova === null) return EOVERFLOW;
    const iopt = access.ioas.iopt;
    const it = { curIova: 0n, done: false };
    let at = 0;
    let rc = 0;
    let first = true;
    for (const area of ioptContigAreas(iopt, iova, lastIova, it)) {
      const last = keyMin(lastIova, area.node.last);
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
    if (iova < it.curIova) this.removeAccessRange(iopt, iova, it.curIova - 1n);
    return rc;
  }

  /** The `err_remove` walk of iommufd_access_pin_pages / iommufd_access_unpin_pages. */
  private removeAccessRange(iopt: IoPagetable, iova: bigint, lastIova: bigint): void {
    const it = { curIova: 0n, done: false };
    for (const area of ioptContigAreas(iopt, iova, lastIova, it)) {
      const last = keyMin(lastIova, area.node.last);
      ioptAreaRemoveAccess(this, area, area.iovaToIndex(it.curIova), area.iovaToIndex(last));
    }
    if (!it.done) this.warns.warn("iommufd_access_unpin_pages: range not contiguous");
  }

  /** `iommufd_access_unpin_pages` */
  accessUnpinPages(access: IommufdAccess, iova: Addr, length: Addr): void {
    const l = toBigInt(length);
    if (!l) return;
    const i = toBigInt(iova);
    const last = ioptLastIova(i, l);
    if (last === null) {
      this.warns.warn("iommufd_access_unpin_pages: range wraps");
      return;
    }
    this.removeAccessRange(access.ioas.iopt, i, last);
  }

  /**
   * IOMMU_TEST_OP_ACCESS_PAGES: pin for the selftest access and record the item; when `uptr`
   * is given the pfns must match the user pages (-EINVAL otherwise). Returns the item id.
   */
  accessPages(
    accessId: number,
    iova: Addr,
    length: number,
    opts: { uptr?: number; write?: boolean } = {},
  ): number {
    const access = this.access(accessId);
    if (!access) return ENOENT;
    if (!length || length > Number.MAX_SAFE_INTEGER) return EINVAL;
    // Pages from the IOVA's page to its last byte's (the offset in the page decides).
    const npages = Math.floor((offOf(iova) + length - 1) / PAGE_SIZE) + 1;
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
    const item = { id: access.nextItemId++, iova: normalizeAddr(iova), length, pfns };
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
  accessRw(accessId: number, iovaA: Addr, data: Uint8Array, flags = 0): number {
    const access = this.access(accessId);
    if (!access) return ENOENT;
    const length = data.length;
    if (!length) return EINVAL;
    const iova = toBigInt(iovaA);
    const lastIova = ioptLastIova(iova, BigInt(length));
    if (lastIova === null) return EOVERFLOW;
    const it = { curIova: 0n, done: false };
    const write = (flags & MOCK_ACCESS_RW_WRITE) !== 0;
    let done = 0;
    for (const area of ioptContigAreas(access.ioas.iopt, iova, lastIova, it)) {
      const last = keyMin(lastIova, area.node.last);
      const bytes = Number(last - it.curIova) + 1;
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

  /** IOMMU_TEST_OP_ADD_RESERVED: [start, start + length − 1] in u64 arithmetic (no overflow check). */
  addReserved(ioasId: number, start: Addr, length: Addr): number {
    const ioas = this.ioas(ioasId);
    if (typeof ioas === "number") return ioas;
    const s = toBigInt(start);
    return ioptReserveIova(this, ioas.iopt, s, (s + toBigInt(length) - 1n) & U64_MAX, null);
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
  mdCheckMap(hwptId: number, iova: Addr, length: number, uptr: number, walks?: { n: number }): number {
    const hwpt = this.hwpt(hwptId);
    if (!hwpt) return ENOENT;
    const d = hwpt.domain;
    let pageSize = 1;
    while (!(d.pgsizeBitmap & pageSize)) pageSize *= 2;
    const base = toBigInt(iova);
    if (offOf(iova) % pageSize || length % pageSize || uptr % pageSize) return EINVAL;
    if (length && ioptLastIova(base, BigInt(length)) === null) return EINVAL;
    // Runs are cut in 4 KiB IOVA frames: an IOVA a sub-page step off its user pages (the mock's
    // 2 KiB pages) is checked with the length-aware loop instead.
    if (this.readBack === "runs" && (offOf(iova) - (uptr % PAGE_SIZE)) % PAGE_SIZE === 0)
      return this.mdCheckMapRuns(d, iova, length, uptr, pageSize, walks);
    // Steps are offsets from `iova`; each lookup's IOVA is a number below 2^53, a bigint above.
    const safe = base + BigInt(length) <= SAFE_MAX;
    const iovaNum = Number(base);
    const at = (off: number): Addr => (safe ? iovaNum + off : base + BigInt(off));
    const ops = d.ops!;
    const r = this.lookup;
    let leafEnd = -1;
    let leafPhys = 0;
    let leafOff = 0;
    for (let off = 0; off < length; off += pageSize, uptr += pageSize) {
      const pa = this.mm.memory.translate(uptr);
      if (pa === undefined) return EFAULT;
      let io: number;
      if (this.readBack !== "legacy") {
        if (off >= leafEnd) {
          const a = at(off);
          ops.iovaToPhysLength(d, a, r);
          if (walks) walks.n++;
          if (!r.mapped) return EINVAL;
          const mod = safe ? (iovaNum + off) % r.length : Number(toBigInt(a) % BigInt(r.length));
          leafOff = off - mod;
          leafEnd = leafOff + r.length;
          leafPhys = r.physNumber - mod;
        }
        io = leafPhys + (off - leafOff);
      } else {
        // Today's selftest: one lookup per page, only its address used (the series' "switch to
        // iommu_iova_to_phys_length" keeps the per-page loop; the length mode above drops it).
        ops.iovaToPhysLength(d, at(off), r);
        if (walks) walks.n++;
        io = r.mapped ? r.physNumber : 0;
      }
      if (io !== pa) return EINVAL;
    }
    return 0;
  }

  /**
   * Model-only: `md_check_pa` with one range lookup (`iommuIovaToPhysRuns`, counted as one
   * walk) for the whole range; every step is still compared with the user page behind it.
   * Run positions are offsets from `iova` (frame differences: exact at any IOVA).
   */
  private mdCheckMapRuns(
    d: IommuDomain,
    iova: Addr,
    length: number,
    uptr: number,
    pageSize: number,
    walks?: { n: number },
  ): number {
    let ret = 0;
    let at = 0;
    const basePfn = pfnOf(iova);
    const baseOff = offOf(iova);
    if (walks) walks.n++;
    iommuIovaToPhysRuns(d, iova, length, (run) => {
      const runOff = (run.iovaPfn - basePfn) * PAGE_SIZE + run.iovaOffset - baseOff;
      const runEnd = runOff + run.size;
      const runPhys = run.physPfn * PAGE_SIZE + run.physOffset;
      for (; at < runEnd; at += pageSize) {
        const pa = this.mm.memory.translate(uptr + at);
        if (pa === undefined) ret = EFAULT;
        else if (!run.mapped || runPhys + (at - runOff) !== pa) ret = EINVAL;
        if (ret) return false;
      }
      return true;
    });
    if (!ret && at < length) ret = EINVAL;
    return ret;
  }

  /** IOMMU_TEST_OP_MD_CHECK_REFS: every page of [uptr, uptr + length) has `refs` pins. */
  mdCheckRefs(uptr: number, length: number, refs: number): number {
    if (uptr % PAGE_SIZE || length % PAGE_SIZE) return EINVAL;
    for (let v = uptr; v < uptr + length; v += PAGE_SIZE)
      if (this.mm.memory.pinCount(v) !== refs) return EINVAL;
    return 0;
  }
}
