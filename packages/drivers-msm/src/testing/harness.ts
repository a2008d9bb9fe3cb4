/**
 * drivers/iommu/msm_iommu.c test helpers: an IOMMU with an attached domain, the raw lookup.
 * Test-only (excluded from the published files).
 */
import { type Addr, IommuCounters, PhysLength } from "@iommu/core";
import type { MsmPriv } from "../msm-domain.js";
import { type MsmDomainAllocOptions, MsmIommu, type MsmIommuOptions } from "../msm-iommu.js";

/** A new IOMMU and one domain from it (attached unless `alloc.attach === false`). */
export function setup(
  options: MsmIommuOptions = {},
  alloc: MsmDomainAllocOptions = {},
): { iommu: MsmIommu; d: MsmPriv } {
  const iommu = new MsmIommu(options);
  const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters(), ...alloc });
  if (typeof d === "number") throw new Error(`domain allocation failed: ${d}`);
  return { iommu, d };
}

/** `iova_to_phys_length` as a plain record. */
export function lookup(d: MsmPriv, iova: Addr): { mapped: boolean; phys: bigint; length: number } {
  const out = new PhysLength();
  d.ops!.iovaToPhysLength!(d, iova, out);
  return { mapped: out.mapped, phys: out.physBigInt, length: out.length };
}
