/**
 * drivers/iommu/rockchip-iommu.c test helpers: an IOMMU and a domain, raw calls, entry reads
 * and leaf snapshots. Test-only (excluded from the published files).
 */
import { type Addr, IommuCounters, iommuDomainInspector, PhysLength, SizeOut } from "@iommu/core";
import { RockchipIommu, type RockchipIommuOptions } from "../driver.js";
import type { RockchipDomain } from "../rockchip-iommu.js";

export interface Harness {
  readonly iommu: RockchipIommu;
  readonly d: RockchipDomain;
}

/** An IOMMU (default v1) and one domain with its own counters. */
export function setup(options: RockchipIommuOptions = {}, strict = false): Harness {
  const iommu = new RockchipIommu(options);
  const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters(), strict });
  if (typeof d === "number") throw new Error(`domain allocation failed: ${d}`);
  return { iommu, d };
}

/** One raw `map_pages` call. */
export function rawMap(
  d: RockchipDomain,
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

/** One raw `unmap_pages` call. */
export function rawUnmap(d: RockchipDomain, iova: Addr, size: number, count = 1): number {
  return d.ops!.unmapPages(d, iova, size, count, null);
}

/** The DTE of slot i. */
export function dte(d: RockchipDomain, i: number): number {
  return d.dtWords[d.dtOff + i]!;
}

/** The PTE for `iova` (0 when its DTE is not valid). */
export function pte(d: RockchipDomain, iova: number): number {
  const w = iommuDomainInspector(d)!.walk(iova);
  return w.steps.length === 2 ? Number(w.steps[1]!.raw) : 0;
}

/** `iova_to_phys_length` as a plain record. */
export function lookup(d: RockchipDomain, iova: Addr): { mapped: boolean; phys: bigint; length: number } {
  const out = new PhysLength();
  d.ops!.iovaToPhysLength!(d, iova, out);
  return { mapped: out.mapped, phys: out.physBigInt, length: out.length };
}

/** Every leaf the inspector finds: `iova → raw`. */
export function leaves(d: RockchipDomain): Map<bigint, bigint> {
  const m = new Map<bigint, bigint>();
  iommuDomainInspector(d)!.visit((e) => {
    if (e.kind === "leaf") m.set(e.iova, e.raw);
  });
  return m;
}
