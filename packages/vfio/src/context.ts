import type { IommuCounters, IommuDomain } from "@iommu/core";
import type { IommuCalls } from "./iommu-calls.js";
import type { IommuResvRegion } from "./iova-list.js";
import type { UserMm } from "./mm.js";

/**
 * How type1 finds physical runs when it reads mappings back from a domain
 * (vfio_unmap_unpin, vfio_iommu_replay):
 * - `legacy`: today's kernel, one iommu_iova_to_phys() per PAGE_SIZE plus the mismatching probe;
 * - `length`: the series' version, one iommu_iova_to_phys_length() per leaf (or empty span),
 *   the lookup that ends a run reused as the start of the next one;
 * - `length-naive`: as `length`, but the run-ending lookup is repeated as today's loop does;
 * - `runs` (issue 17, beyond the series): one core range lookup (`iommuIovaToPhysRuns`) per
 *   batch of up to 512 runs — one walk per vfio_dma region for drivers with the one-descent op.
 *   The unmap calls and IOTLB syncs are those of `length`.
 */
export type UnmapMode = "legacy" | "length" | "length-naive" | "runs";

export const UNMAP_MODES: readonly UnmapMode[] = ["legacy", "length", "length-naive", "runs"];

/** `struct vfio_iommu_group` */
export interface VfioIommuGroup {
  readonly id: number;
  pinnedPageDirtyScope: boolean;
  readonly resvRegions: readonly IommuResvRegion[];
}

/** `struct vfio_domain` */
export interface VfioDomain {
  readonly domain: IommuDomain;
  readonly groups: VfioIommuGroup[];
  readonly enforceCacheCoherency: boolean;
}

/** What the pin / unmap / replay helpers need from the container. */
export interface Type1Context {
  readonly mm: UserMm;
  readonly calls: IommuCalls;
  /** `iommu->domain_list`, first entry first (new domains are added at the head). */
  readonly domainList: readonly VfioDomain[];
  readonly unmapMode: UnmapMode;
  /** The `disable_hugepages` module parameter. */
  readonly disableHugepages: boolean;
  /** WARN sink. */
  readonly counters: IommuCounters;
}
