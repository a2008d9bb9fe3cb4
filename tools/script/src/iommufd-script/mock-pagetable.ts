/**
 * drivers/iommu/iommufd/selftest.c `mock_domain_alloc_pgtable`: the page-table init the script
 * engine injects into @iommu/iommufd (which depends on @iommu/core only) — generic_pt's
 * `pt_iommu_amdv1_mock_init` (hw VA 56, OA 51, starting level 2) for MOCK_IOMMUPT_DEFAULT and
 * _HUGE, `pt_iommu_amdv1_init` for MOCK_IOMMUPT_AMDV1; table pages fail under the context's
 * fault injection.
 */
import { TableAllocator } from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import type { MockPagetableInit } from "@iommu/iommufd";

/** `pt_iommu_amdv1_mock_init` / `pt_iommu_amdv1_init` as iommufd's {@link MockPagetableInit}. */
export const amdv1MockPagetableInit: MockPagetableInit = (type, fault) => {
  const allocator = new TableAllocator();
  allocator.alloc = fault.wrapAlloc(allocator.alloc.bind(allocator));
  if (type === "amdv1") return createPtDomain("amdv1", { allocator });
  return createPtDomain("amdv1_mock", { allocator, vaBits: 56, oaBits: 51, level: 2 });
};
