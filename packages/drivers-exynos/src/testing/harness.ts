/**
 * drivers/iommu/exynos-iommu.c test helpers: a SysMMU and a domain, raw legacy calls, entry
 * reads and leaf snapshots. Test-only (excluded from the published files).
 */
import { type Addr, IommuCounters, iommuDomainInspector, PhysLength, SizeOut } from "@iommu/core";
import type { ExynosDomain } from "../exynos-iommu.js";
import { ExynosSysmmu, type ExynosSysmmuOptions } from "../sysmmu.js";

export interface Harness {
  readonly mmu: ExynosSysmmu;
  readonly d: ExynosDomain;
}

/** A SysMMU (default v5.0) and one UNMANAGED domain with its own counters. */
export function setup(options: ExynosSysmmuOptions = {}, strict = false): Harness {
  const mmu = new ExynosSysmmu(options);
  const d = mmu.domainAllocPagingFlags(0, { counters: new IommuCounters(), strict });
  if (typeof d === "number") throw new Error(`domain allocation failed: ${d}`);
  return { mmu, d };
}

/** One legacy `.map` through the ops (mapped = pgsize on success). */
export function rawMap(
  d: ExynosDomain,
  iova: Addr,
  pa: Addr,
  size: number,
  prot: number,
): { ret: number; mapped: number } {
  const m = new SizeOut();
  const ret = d.ops!.mapPages(d, iova, pa, size, 1, prot, 0, m);
  return { ret, mapped: m.value };
}

/** One legacy `.unmap` through the ops. */
export function rawUnmap(d: ExynosDomain, iova: Addr, size: number): number {
  return d.ops!.unmapPages(d, iova, size, 1, null);
}

/** Level-1 entry i. */
export function l1(d: ExynosDomain, i: number): number {
  return d.l1[d.l1Off + i]!;
}

/** Level-2 entry j under level-1 entry i (0 when i is not a table). */
export function l2(d: ExynosDomain, i: number, j: number): number {
  const w = iommuDomainInspector(d)!.walk(i * 0x10_0000 + j * 0x1000);
  return w.steps.length === 2 ? Number(w.steps[1]!.raw) : 0;
}

/** `iova_to_phys_length` as a plain record. */
export function lookup(d: ExynosDomain, iova: Addr): { mapped: boolean; phys: bigint; length: number } {
  const out = new PhysLength();
  d.ops!.iovaToPhysLength!(d, iova, out);
  return { mapped: out.mapped, phys: out.physBigInt, length: out.length };
}

/** Every leaf the inspector finds: `iova → raw`. */
export function leaves(d: ExynosDomain): Map<bigint, bigint> {
  const m = new Map<bigint, bigint>();
  iommuDomainInspector(d)!.visit((e) => {
    if (e.kind === "leaf") m.set(e.iova, e.raw);
  });
  return m;
}

/** Level-1 slots linking a level-2 table. */
export function tableSlots(d: ExynosDomain): number[] {
  const out: number[] = [];
  iommuDomainInspector(d)!.visit((e) => {
    if (e.kind === "table") out.push(e.index);
    return false;
  });
  return out;
}
