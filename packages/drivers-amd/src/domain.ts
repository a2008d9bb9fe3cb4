// drivers/iommu/amd/amd_iommu_types.h `struct protection_domain` (paging part): a v1
// (amdv1) or v2 (x86_64) generic_pt table with its domain id and attached units.
import {
  __IOMMU_DOMAIN_PAGING,
  type IommuCounters,
  type IommuDirtyOps,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type TableAllocator,
} from "@iommu/core";
import type { PtIommu, PtTable } from "@iommu/generic-pt";

/** `enum protection_domain_mode`: `PD_MODE_V1` (host table) or `PD_MODE_V2` (guest/x86 table). */
export type AmdPdMode = "v1" | "v2";

/** The unit side of a domain's attachment (`struct pdom_iommu_info`). */
export interface PdomIommuInfo {
  refcnt: number;
}

/** `struct protection_domain`: a paging domain of the AMD-Vi driver. */
export class ProtectionDomain implements PtIommu {
  type = __IOMMU_DOMAIN_PAGING;
  ops: IommuDomainOps<ProtectionDomain>;
  dirtyOps: IommuDirtyOps<ProtectionDomain> | null = null;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  readonly isIommupt = true;
  readonly counters: IommuCounters;
  /** `amdv1` / `amdv2`: the generic_pt table. */
  readonly pt: PtTable;
  /** `pd_mode` */
  readonly pdMode: AmdPdMode;
  /** `id`: the domain id (from `pdom_ids`, allocated with the domain). */
  readonly id: number;
  /** `iommu_array`: the units devices are attached through, with their attach counts. */
  readonly iommus = new Map<object, PdomIommuInfo>();
  /** `dev_list`: attached devices (device id by name). */
  readonly devices = new Map<string, number>();
  readonly allocator: TableAllocator;

  constructor(
    pt: PtTable,
    pdMode: AmdPdMode,
    id: number,
    ops: IommuDomainOps<ProtectionDomain>,
    allocator: TableAllocator,
  ) {
    this.pt = pt;
    this.pdMode = pdMode;
    this.id = id;
    this.ops = ops;
    this.allocator = allocator;
    this.counters = pt.counters;
    this.pgsizeBitmap = pt.pgsizeBitmap;
    this.geometry = { apertureStart: pt.apertureStart, apertureEnd: pt.apertureEnd, forceAperture: true };
  }
}
