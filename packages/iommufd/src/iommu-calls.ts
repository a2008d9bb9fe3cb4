// drivers/iommu/iommu.c entry points as iommufd (pages.c) calls them, counted per context.
import { CountedIommuCalls } from "@iommu/core";
import type { IommufdCounters } from "./counters.js";

/**
 * The IOMMU core calls pages.c makes, counted into {@link IommufdCounters} (core's
 * `CountedIommuCalls`; the unroll unmap inside a failing `iommu_map()` is not counted as an
 * iommufd unmap).
 */
export class IommuCalls extends CountedIommuCalls<IommufdCounters> {}
