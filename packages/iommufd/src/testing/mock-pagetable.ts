// drivers/iommu/iommufd/selftest.c `mock_domain_alloc_pgtable`: the page-table inits the tests
// inject (generic_pt's `pt_iommu_amdv1_mock_init` and `pt_iommu_amdv1_init`).
import { TableAllocator } from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import type { FailNth } from "../fail-nth.js";
import type { MockPagetableInit, MockPagetableType } from "../selftest.js";

/**
 * `pt_iommu_amdv1_mock_init` (hw VA 56, OA 51, starting level 2) for DEFAULT and HUGE,
 * `pt_iommu_amdv1_init` with the AMD driver's defaults for AMDV1; every table page allocation
 * goes through the context's fault injection.
 */
export const amdv1MockPagetableInit: MockPagetableInit = (type: MockPagetableType, fault: FailNth) => {
  const allocator = new TableAllocator();
  allocator.alloc = fault.wrapAlloc(allocator.alloc.bind(allocator));
  if (type === "amdv1") return createPtDomain("amdv1", { allocator });
  return createPtDomain("amdv1_mock", { allocator, vaBits: 56, oaBits: 51, level: 2 });
};
