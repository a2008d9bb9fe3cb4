/**
 * drivers/iommu/mtk_iommu.c test helpers: an M4U with an attached domain, and the raw ops.
 * Test-only (excluded from the published files).
 */
import { type Addr, IommuCounters, PhysLength, SizeOut } from "@iommu/core";
import { MtkIommu, type MtkIommuDomainAllocOptions, type MtkIommuOptions } from "../mtk-iommu.js";
import type { MtkIommuDomain } from "../mtk-iommu-domain.js";

/** A new M4U and one domain from it (attached unless `alloc.attach === false`). */
export function setup(
  options: MtkIommuOptions = {},
  alloc: MtkIommuDomainAllocOptions = {},
): { m4u: MtkIommu; d: MtkIommuDomain } {
  const m4u = new MtkIommu(options);
  const d = m4u.domainAllocPagingFlags(0, { counters: new IommuCounters(), ...alloc });
  if (typeof d === "number") throw new Error(`domain allocation failed: ${d}`);
  return { m4u, d };
}

/** One `map_pages` call through the domain's ops. */
export function rawMap(d: MtkIommuDomain, iova: Addr, pa: Addr, pgsize: number, pgcount = 1, prot = 3) {
  const m = new SizeOut();
  const ret = d.ops!.mapPages(d, iova, pa, pgsize, pgcount, prot, 0, m);
  return { ret, mapped: m.value };
}

/** `iova_to_phys_length` as a plain record. */
export function lookup(d: MtkIommuDomain, iova: Addr): { mapped: boolean; phys: bigint; length: number } {
  const out = new PhysLength();
  d.ops!.iovaToPhysLength!(d, iova, out);
  return { mapped: out.mapped, phys: out.physBigInt, length: out.length };
}
