/**
 * drivers/iommu/sprd-iommu.c test helpers: an IOMMU and an attached domain, raw calls, entry
 * reads and leaf snapshots. Test-only (excluded from the published files).
 */
import { type Addr, IommuCounters, iommuDomainInspector, PhysLength, SizeOut } from "@iommu/core";
import { SprdIommu, type SprdIommuOptions } from "../driver.js";
import type { SprdDomain } from "../sprd-iommu.js";

export interface Harness {
  readonly iommu: SprdIommu;
  readonly d: SprdDomain;
}

export function setup(options: SprdIommuOptions = {}, strict = false): Harness {
  const iommu = new SprdIommu(options);
  const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters(), strict });
  if (typeof d === "number") throw new Error(`domain allocation failed: ${d}`);
  return { iommu, d };
}

export function rawMap(
  d: SprdDomain,
  iova: Addr,
  pa: Addr,
  size: number,
  prot: number,
  count = 1,
): { ret: number; mapped: number } {
  const m = new SizeOut();
  const ret = d.ops!.mapPages(d, iova, pa, size, count, prot, 0, m);
  return { ret, mapped: m.value };
}

export function rawUnmap(d: SprdDomain, iova: Addr, size: number, count = 1): number {
  return d.ops!.unmapPages(d, iova, size, count, null);
}

/** Entry i of the flat table. */
export function entry(d: SprdDomain, i: number): number {
  return d.pgtWords[d.pgtOff + i]!;
}

export function lookup(d: SprdDomain, iova: Addr): { mapped: boolean; phys: bigint; length: number } {
  const out = new PhysLength();
  d.ops!.iovaToPhysLength!(d, iova, out);
  return { mapped: out.mapped, phys: out.physBigInt, length: out.length };
}

export function leaves(d: SprdDomain): Map<bigint, bigint> {
  const m = new Map<bigint, bigint>();
  iommuDomainInspector(d)!.visit((e) => {
    if (e.kind === "leaf") m.set(e.iova, e.raw);
  });
  return m;
}
