// drivers/iommu/intel/iommu.h `struct dmar_domain` (paging part): a first-stage (x86_64) or
// second-stage (vtdss) generic_pt table with the driver state around it.
import {
  __IOMMU_DOMAIN_PAGING,
  type IommuCounters,
  type IommuDirtyOps,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type TableAllocator,
} from "@iommu/core";
import type { PtIommu, PtTable } from "@iommu/generic-pt";
import type { CacheTag } from "./cache.js";

/** Which table a domain uses: `fspt` (first stage, x86_64) or `sspt` (second stage, vtdss). */
export type DmarDomainStage = "first" | "second";

/** `struct dmar_domain`: a paging domain of the VT-d driver. */
export class DmarDomain implements PtIommu {
  type = __IOMMU_DOMAIN_PAGING;
  ops: IommuDomainOps<DmarDomain>;
  dirtyOps: IommuDirtyOps<DmarDomain> | null = null;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  readonly isIommupt = true;
  readonly counters: IommuCounters;
  /** `fspt` / `sspt`: the generic_pt table. */
  readonly pt: PtTable;
  /** `intel_domain_is_fs_paging()` / `_ss_paging()` */
  readonly stage: DmarDomainStage;
  /** `iotlb_sync_map`: RWBF (or caching mode on a second stage) needs a flush after map. */
  iotlbSyncMap = false;
  /** `nested_parent` */
  nestedParent = false;
  /** `force_snooping` (enforce_cache_coherency was accepted). */
  forceSnooping = false;
  /** `dirty_tracking` */
  dirtyTracking = false;
  /** `cache_tags`: one per unit/domain-id/PASID the domain is attached through. */
  readonly cacheTags: CacheTag[] = [];
  /** Devices attached (`devices` list), by name. */
  readonly devices = new Set<string>();
  readonly allocator: TableAllocator;

  constructor(
    pt: PtTable,
    stage: DmarDomainStage,
    ops: IommuDomainOps<DmarDomain>,
    allocator: TableAllocator,
  ) {
    this.pt = pt;
    this.stage = stage;
    this.ops = ops;
    this.allocator = allocator;
    this.counters = pt.counters;
    this.pgsizeBitmap = pt.pgsizeBitmap;
    this.geometry = { apertureStart: pt.apertureStart, apertureEnd: pt.apertureEnd, forceAperture: true };
  }

  /** The generic_pt format name plus levels, as tables print it (`vtdss 4-level`). */
  get formatName(): string {
    return `${this.pt.fmt.name} ${this.pt.topLevel + 1}-level`;
  }
}
