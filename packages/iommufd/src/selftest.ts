// drivers/iommu/iommufd/selftest.c + iommufd_test.h: the mock IOMMU domain the kernel's
// iommufd selftests attach (`mock_domain_alloc_pgtable`: MOCK_IOMMUPT_DEFAULT / _HUGE on the
// generic_pt `amdv1_mock` format, MOCK_IOMMUPT_AMDV1 on real AMDv1).
//
// This package depends on @iommu/core only: the page-table constructor is injected
// ({@link MockPagetableInit}); the selftest's own settings (the DEFAULT aperture, the HUGE page
// sizes) are applied here, as selftest.c applies them after `pt_iommu_amdv1_mock_init`.
import { type IommuDomain, IommuError, PAGE_SIZE } from "@iommu/core";
import type { FailNth } from "./fail-nth.js";

/** `MOCK_APERTURE_START` / `MOCK_APERTURE_LAST` (MOCK_IOMMUPT_DEFAULT overrides the aperture). */
export const MOCK_APERTURE_START = 1 << 24;
export const MOCK_APERTURE_LAST = 2 ** 31 - 1;
/** `MOCK_PAGE_SIZE`: the amdv1_mock granule (`MOCK_IO_PAGE_SIZE` = PAGE_SIZE / 2 in older trees). */
export const MOCK_PAGE_SIZE = 2048;
/** `MOCK_HUGE_PAGE_SIZE` */
export const MOCK_HUGE_PAGE_SIZE = 512 * MOCK_PAGE_SIZE;

/** `enum MOCK_IOMMUPT_*` (`iommu_hwpt_selftest.pagetable_type`): the mock's page-table type. */
export type MockPagetableType = "default" | "huge" | "amdv1";

/**
 * Model-only: the page-table constructor `mock_domain_alloc_pgtable` calls —
 * `pt_iommu_amdv1_mock_init` (hw VA 56, OA 51, starting level 2) for `default` and `huge`,
 * `pt_iommu_amdv1_init` (VA 64, OA 52, dynamic top) for `amdv1` — with its page-table
 * allocations failing under `fault` (`fault.wrapAlloc`). Returns a paging domain or throws an
 * `IommuError` (e.g. ENOMEM for the top table). Whoever builds the {@link Iommufd} passes one
 * (the generic_pt one lives in this package's tests and in @iommu/script).
 */
export type MockPagetableInit = (type: MockPagetableType, fault: FailNth) => IommuDomain;

/**
 * `mock_domain_alloc_pgtable` after the page-table init: HUGE limits the page sizes to
 * `MOCK_HUGE_PAGE_SIZE | PAGE_SIZE`, DEFAULT narrows the aperture to
 * [MOCK_APERTURE_START, MOCK_APERTURE_LAST]. The domain, or -errno when `init` failed.
 */
export function mockDomainAllocPgtable(
  init: MockPagetableInit,
  type: MockPagetableType,
  fault: FailNth,
): IommuDomain | number {
  let domain: IommuDomain;
  try {
    domain = init(type, fault);
  } catch (e) {
    if (e instanceof IommuError) return -e.errno;
    throw e;
  }
  if (type === "huge") domain.pgsizeBitmap = MOCK_HUGE_PAGE_SIZE | PAGE_SIZE;
  else if (type === "default")
    domain.geometry = {
      apertureStart: MOCK_APERTURE_START,
      apertureEnd: MOCK_APERTURE_LAST,
      forceAperture: true,
    };
  return domain;
}
