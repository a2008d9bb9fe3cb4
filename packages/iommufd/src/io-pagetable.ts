// drivers/iommu/iommufd/io_pagetable.h: struct io_pagetable, iopt_area, iopt_pages,
// iopt_pages_access and the index/IOVA arithmetic between an area and its pages.
import { type Addr, type IommuDomain, normalizeAddr, PAGE_SIZE, type UserMm } from "@iommu/core";
import type { AccountMode, SourceUser } from "./context.js";
import { IntervalTree, type IovaNode, type ItNode } from "./interval-tree.js";

/** `struct iopt_reserved`: an IOVA range maps may not use; `owner` is the domain or device. */
export interface IoptReserved extends IovaNode {
  readonly owner: unknown;
}

/** `struct iopt_allowed` (IOMMU_IOAS_ALLOW_IOVAS). */
export type IoptAllowed = IovaNode;

/** Model-only: the largest IOVA a per-page loop may carry as a plain number (2^53 − 1). */
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** `struct iopt_pages_access`: an in-kernel access's pinned index range, with a user count. */
export interface IoptPagesAccess extends ItNode {
  users: number;
}

/** `struct iopt_area::pages_node`: the area's index interval inside its iopt_pages. */
export interface IoptPagesNode extends ItNode {
  readonly area: IoptArea;
}

/**
 * `struct iopt_pages`: a linear array of PFNs of one user VA range, shared by every area that
 * maps a slice of it. A PFN is pinned exactly once while an access (xarray) or a domain area
 * holds its index; the domain page table is the only record of PFNs only domains hold.
 */
export class IoptPages {
  /** `kref` */
  refs = 1;
  /** `npinned`: pages pinned now; `last_npinned`: pages already charged to the accounting. */
  npinned = 0;
  lastNpinned = 0;
  /** `pinned_pfns`: index → pfn, populated only under an access. */
  readonly pinnedPfns = new Map<number, number>();
  readonly accessItree = new IntervalTree<IoptPagesAccess>();
  readonly domainsItree = new IntervalTree<IoptPagesNode>();

  constructor(
    /** `source_mm` / `source_task` */
    readonly mm: UserMm,
    /** `source_user` */
    readonly user: SourceUser,
    /** `uptr`, aligned down to PAGE_SIZE */
    readonly uptr: number,
    readonly npages: number,
    readonly writable: boolean,
    public accountMode: AccountMode,
  ) {}
}

/**
 * `struct iopt_area`: one mapped IOVA range, a slice of an iopt_pages.
 *
 * The IOVA interval (`node`) is kept in bigints, exact to 2^64 − 1. Everything inside the area
 * is an offset from its first IOVA: an area never holds more bytes than its pages, and pages
 * span a user range below 2^53 (see the README's "Model limits"), so offsets are exact numbers.
 * Per-page loops build each IOVA with {@link iovaAt}: a plain number while the whole area lies
 * below 2^53 (`safe`), a bigint per call above it.
 */
export class IoptArea {
  /** `node`: the IOVA interval. */
  readonly node: IovaNode & { area: IoptArea };
  readonly pagesNode: IoptPagesNode;
  /** NULL while the area is being set up or torn down. */
  pages: IoptPages | null = null;
  /** The domain PFNs are read back from (NULL without domains). */
  storageDomain: IommuDomain | null = null;
  /** Offset of the first IOVA inside its first page. */
  pageOffset = 0;
  iommuProt = 0;
  preventAccess = false;
  numAccesses = 0;
  numLocks = 0;
  /** Model-only: the whole area lies at or below 2^53 − 1, so its IOVAs are exact numbers. */
  safe = true;
  /** Model-only: the first IOVA as a number (exact when {@link safe}). */
  iovaNum = 0;
  /** Model-only: the first IOVA as 4 KiB frame and offset (exact at any IOVA). */
  iovaPfn = 0;
  iovaOff = 0;
  /** Model-only: `iopt_area_length` cached when the interval is set (no bigint per use). */
  private bytes = 0;

  constructor(readonly iopt: IoPagetable) {
    this.node = { start: 0n, last: 0n, area: this };
    this.pagesNode = { start: 0, last: 0, area: this };
  }

  /** Model-only: set the IOVA interval (and the number cache of the per-page loops). */
  setIova(start: bigint, last: bigint): void {
    this.node.start = start;
    this.node.last = last;
    this.safe = last <= SAFE_MAX;
    this.iovaNum = Number(start);
    this.iovaPfn = Number(start >> 12n);
    this.iovaOff = Number(start & 0xfffn);
    this.bytes = Number(last - start) + 1;
  }

  /** `iopt_area_iova` (a number up to 2^53 − 1, a bigint above) */
  get iova(): Addr {
    return normalizeAddr(this.node.start);
  }
  /** `iopt_area_last_iova` */
  get lastIova(): Addr {
    return normalizeAddr(this.node.last);
  }
  /** `iopt_area_length`: bytes (below 2^53: an area is a slice of one iopt_pages). */
  get length(): number {
    return this.bytes;
  }

  /** Model-only: the IOVA `off` bytes into the area — a number while the area is safe, else a bigint. */
  iovaAt(off: number): Addr {
    return this.safe ? this.iovaNum + off : this.node.start + BigInt(off);
  }

  /**
   * Model-only: the IOVA `off` bytes into the area modulo a power of two `m` — from the frame
   * and offset, so no bigint is made at any IOVA.
   */
  iovaMod(off: number, m: number): number {
    if (this.safe) return (this.iovaNum + off) % m;
    const t = this.iovaOff + off;
    if (m <= PAGE_SIZE) return t % m;
    return ((this.iovaPfn + Math.floor(t / PAGE_SIZE)) % (m / PAGE_SIZE)) * PAGE_SIZE + (t % PAGE_SIZE);
  }

  /** Model-only: the offset of `iova` (inside the area) from its first IOVA. */
  offsetOf(iova: bigint): number {
    return Number(iova - this.node.start);
  }

  /** `iopt_area_index` */
  get index(): number {
    return this.pagesNode.start;
  }
  /** `iopt_area_last_index` */
  get lastIndex(): number {
    return this.pagesNode.last;
  }

  /** `iopt_area_start_byte`: byte offset inside the pages of the IOVA `off` bytes into the area. */
  startByteAt(off: number): number {
    return off + this.index * PAGE_SIZE + this.pageOffset;
  }

  /** `iopt_area_start_byte` for an IOVA inside the area. */
  startByte(iova: bigint): number {
    return this.startByteAt(this.offsetOf(iova));
  }

  /** `iopt_area_iova_to_index` */
  iovaToIndex(iova: bigint): number {
    return Math.floor(this.startByte(iova) / PAGE_SIZE);
  }

  /** `iopt_area_index_to_iova` as an offset into the area (0 for its first index). */
  indexToOff(index: number): number {
    const i = index - this.index;
    if (i === 0) return 0;
    return i * PAGE_SIZE - this.pageOffset;
  }

  /** `iopt_area_index_to_iova_last` as an offset into the area. */
  indexToOffLast(index: number): number {
    if (index === this.lastIndex) return this.length - 1;
    return (index - this.index + 1) * PAGE_SIZE - this.pageOffset - 1;
  }

  /** `iopt_area_index_to_iova`: the first IOVA of index (the area's own start for its first). */
  indexToIova(index: number): Addr {
    return this.iovaAt(this.indexToOff(index));
  }

  /** `iopt_area_index_to_iova_last` */
  indexToIovaLast(index: number): Addr {
    return this.iovaAt(this.indexToOffLast(index));
  }
}

/** The part of `struct iommufd_access` an io_pagetable keeps in its access_list. */
export interface IoptAccessRef {
  readonly iovaAlignment: number;
  /** `ops->unmap`: the driver must unpin everything in [iova, iova + length). */
  notifyUnmap(iova: bigint, length: bigint): void;
}

/**
 * `struct io_pagetable`: the IOVA space of an IOAS — areas, allowed and reserved ranges, the
 * attached domains (kept dense: index 0 is the default storage domain) and accesses.
 */
export class IoPagetable {
  readonly areaItree = new IntervalTree<IovaNode & { area: IoptArea }>();
  readonly allowedItree = new IntervalTree<IoptAllowed>();
  readonly reservedItree = new IntervalTree<IoptReserved>();
  /** `domains` xarray, dense from 0 (`next_domain_id` = length). */
  readonly domains: IommuDomain[] = [];
  readonly accessList: IoptAccessRef[] = [];
  /** Starts at 1 (SW tables take any IOVA); the max over domains' min page and accesses. */
  iovaAlignment = 1;
  disableLargePages = false;

  /** Areas in IOVA order. */
  get areas(): IoptArea[] {
    return this.areaItree.nodes.map((n) => n.area);
  }

  /** `iopt_area_iter_first` */
  areaIterFirst(start: bigint, last: bigint): IoptArea | undefined {
    return this.areaItree.iterFirst(start, last)?.area;
  }
}
