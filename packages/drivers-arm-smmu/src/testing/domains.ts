/**
 * Test helpers: attached paging domains of an SMMU built from a hardware description, each
 * with its own counters and allocator (the conformance kit's factory shape).
 */
import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { ArmSmmu, ArmSmmuMaster, type ArmSmmuOptions } from "../arm-smmu.js";
import type { ArmSmmuDomain } from "../domain.js";
import { QcomIommu, type QcomIommuDomain, QcomIommuMaster } from "../qcom-iommu.js";

export interface AttachedDomain {
  smmu: ArmSmmu;
  domain: ArmSmmuDomain;
  allocator: TableAllocator;
  counters: IommuCounters;
}

/** A fresh SMMU and one attached domain on it. */
export function attachedDomain(hw: ArmSmmuOptions = {}): AttachedDomain {
  const smmu = new ArmSmmu(hw);
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  const d = new ArmSmmuMaster(smmu).domainAllocPagingFlags(0, { allocator, counters });
  if (typeof d === "number") throw new Error(`attach failed: ${d}`);
  return { smmu, domain: d, allocator, counters };
}

/** A fresh qcom_iommu and one attached domain on context banks `asids`. */
export function attachedQcomDomain(asids: readonly number[] = [1]) {
  const iommu = new QcomIommu({ logCapacity: 0 });
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  const d = new QcomIommuMaster(iommu, asids).domainAllocPagingFlags(0, { allocator, counters });
  if (typeof d === "number") throw new Error(`attach failed: ${d}`);
  return { iommu, domain: d as QcomIommuDomain, allocator, counters };
}
