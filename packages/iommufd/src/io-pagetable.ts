// drivers/iommu/iommufd/io_pagetable.h: struct io_pagetable, iopt_area, iopt_pages,
// iopt_pages_access and the index/IOVA arithmetic between an area and its pages.
import { type IommuDomain, PAGE_SIZE, type UserMm } from "@iommu/core";
import type { AccountMode, SourceUser } from "./context.js";
import { IntervalTree, type ItNode } from "./interval-tree.js";

/** `struct iopt_reserved`: an IOVA range maps may not use; `owner` is the domain or device. */
export interface IoptReserved extends ItNode {
  readonly owner: unknown;
}

/** `struct iopt_allowed` (IOMMU_IOAS_ALLOW_IOVAS). */
export type IoptAllowed = ItNode;

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

/** `struct iopt_area`: one mapped IOVA range, a slice of an iopt_pages. */
export class IoptArea {
  /** `node`: the IOVA interval. */
  readonly node: ItNode & { area: IoptArea };
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

  constructor(readonly iopt: IoPagetable) {
    this.node = { start: 0, last: 0, area: this };
    this.pagesNode = { start: 0, last: 0, area: this };
  }

  /** `iopt_area_iova` */
  get iova(): number {
    return this.node.start;
  }
  /** `iopt_area_last_iova` */
  get lastIova(): number {
    return this.node.last;
  }
  /** `iopt_area_length` */
  get length(): number {
    return this.node.last - this.node.start + 1;
  }
  /** `iopt_area_index` */
  get index(): number {
    return this.pagesNode.start;
  }
  /** `iopt_area_last_index` */
  get lastIndex(): number {
    return this.pagesNode.last;
  }

  /** `iopt_area_start_byte`: byte offset of `iova` inside the pages. */
  startByte(iova: number): number {
    return iova - this.iova + this.index * PAGE_SIZE + this.pageOffset;
  }

  /** `iopt_area_iova_to_index` */
  iovaToIndex(iova: number): number {
    return Math.floor(this.startByte(iova) / PAGE_SIZE);
  }

  /** `iopt_area_index_to_iova`: the first IOVA of index (the area's own start for its first). */
  indexToIova(index: number): number {
    const i = index - this.index;
    if (i === 0) return this.iova;
    return this.iova - this.pageOffset + i * PAGE_SIZE;
  }

  /** `iopt_area_index_to_iova_last` */
  indexToIovaLast(index: number): number {
    if (index === this.lastIndex) return this.lastIova;
    return this.iova - this.pageOffset + (index - this.index + 1) * PAGE_SIZE - 1;
  }
}

/** The part of `struct iommufd_access` an io_pagetable keeps in its access_list. */
export interface IoptAccessRef {
  readonly iovaAlignment: number;
  /** `ops->unmap`: the driver must unpin everything in [iova, iova + length). */
  notifyUnmap(iova: number, length: number): void;
}

/**
 * `struct io_pagetable`: the IOVA space of an IOAS — areas, allowed and reserved ranges, the
 * attached domains (kept dense: index 0 is the default storage domain) and accesses.
 */
export class IoPagetable {
  readonly areaItree = new IntervalTree<ItNode & { area: IoptArea }>();
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
  areaIterFirst(start: number, last: number): IoptArea | undefined {
    return this.areaItree.iterFirst(start, last)?.area;
  }
}
