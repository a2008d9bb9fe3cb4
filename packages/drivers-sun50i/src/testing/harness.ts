/**
 * drivers/iommu/sun50i-iommu.c test helpers: an IOMMU and a domain, raw calls, entry reads
 * and leaf snapshots. Test-only (excluded from the published files).
 */
import { type Addr, IommuCounters, iommuDomainInspector, PhysLength, SizeOut } from "@iommu/core";
import { Sun50iIommu, type Sun50iIommuOptions } from "../driver.js";
import type { Sun50iDomain } from "../sun50i-iommu.js";

export interface Harness {
  readonly iommu: Sun50iIommu;
  readonly d: Sun50iDomain;
}

export function setup(options: Sun50iIommuOptions = {}, strict = false): Harness {
  const iommu = new Sun50iIommu(options);
  const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters(), strict });
  if (typeof d === "number") throw new Error(`domain allocation failed: ${d}`);
  return { iommu, d };
}

export function rawMap(
  d: Sun50iDomain,
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

export function rawUnmap(d: Sun50iDomain, iova: Addr, size: number, count = 1): number {
  return d.ops!.unmapPages(d, iova, size, count, null);
}

/** The DTE of slot i. */
export function dte(d: Sun50iDomain, i: number): number {
  return d.dtWords[d.dtOff + i]!;
}

/** The PTE for `iova` (0 when its DTE is not valid). */
export function pte(d: Sun50iDomain, iova: number): number {
  const w = iommuDomainInspector(d)!.walk(iova);
  return w.steps.length === 2 ? Number(w.steps[1]!.raw) : 0;
}

export function lookup(d: Sun50iDomain, iova: Addr): { mapped: boolean; phys: bigint; length: number } {
  const out = new PhysLength();
  d.ops!.iovaToPhysLength!(d, iova, out);
  return { mapped: out.mapped, phys: out.physBigInt, length: out.length };
}

export function leaves(d: Sun50iDomain): Map<bigint, bigint> {
  const m = new Map<bigint, bigint>();
  iommuDomainInspector(d)!.visit((e) => {
    if (e.kind === "leaf") m.set(e.iova, e.raw);
  });
  return m;
}
