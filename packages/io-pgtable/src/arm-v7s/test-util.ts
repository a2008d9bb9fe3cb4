/** Test helpers: a v7s / DART table over fresh memory with a recording TLB (not exported by the package). */
import {
  IommuCounters,
  type IommuDomain,
  type IotlbGather,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  PhysLength,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { expect } from "vitest";
import type { IommuFlushOps, IoPgtableCfg } from "../io-pgtable.js";

export interface TlbLog extends IommuFlushOps {
  calls: string[];
}

export function recordingTlb(): TlbLog {
  const calls: string[] = [];
  return {
    calls,
    tlbFlushAll: () => calls.push("all"),
    tlbFlushWalk: (iova, size, granule) =>
      calls.push(`walk ${iova.toString(16)} ${size.toString(16)} ${granule.toString(16)}`),
    tlbAddPage: (_g: IotlbGather, iova, granule) =>
      calls.push(`page ${iova.toString(16)} ${granule.toString(16)}`),
  };
}

export interface TestCfg extends IoPgtableCfg {
  tlb: TlbLog;
}

/** A cfg over a fresh 2 GiB arena at `base`, counters shared by allocator and format. */
export function testCfg(over: Partial<IoPgtableCfg> = {}, base = 0x8000_0000): TestCfg {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { base, counters });
  return {
    quirks: 0,
    pgsizeBitmap: 0x111_1000,
    ias: 32,
    oas: 32,
    coherentWalk: true,
    allocator,
    counters,
    ...over,
    tlb: recordingTlb(),
  };
}

/** One mapping the reference knows about. */
export interface RefRegion {
  iova: number;
  pa: number;
  size: number;
}

/** The interval-map reference of the property tests: disjoint regions, linear inside each. */
export class RefMap {
  readonly regions: RefRegion[] = [];

  find(iova: number): RefRegion | undefined {
    for (const r of this.regions) if (iova >= r.iova && iova < r.iova + r.size) return r;
    return undefined;
  }

  isFree(iova: number, size: number): boolean {
    for (const r of this.regions) if (iova < r.iova + r.size && r.iova < iova + size) return false;
    return true;
  }

  add(r: RefRegion): void {
    this.regions.push(r);
  }

  remove(r: RefRegion): void {
    this.regions.splice(this.regions.indexOf(r), 1);
  }
}

export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}

const out = new PhysLength();

/** iova_to_phys_length at `iova` agrees with the reference (and the legacy op with it). */
export function checkLookup(domain: IommuDomain, ref: RefMap, iova: number): void {
  iommuIovaToPhysLength(domain, iova, out);
  const r = ref.find(iova);
  const len = out.length;
  expect(isPowerOfTwo(len), `length 0x${len.toString(16)} at 0x${iova.toString(16)}`).toBe(true);
  const base = iova - (iova % len);
  if (r) {
    expect(out.mapped, `mapped at 0x${iova.toString(16)}`).toBe(true);
    const phys = r.pa + (iova - r.iova);
    expect(out.phys).toBe(phys);
    expect(iommuIovaToPhys(domain, iova)).toBe(phys);
    // The whole unit translates linearly and lies inside the mapping.
    expect(base >= r.iova && base + len <= r.iova + r.size).toBe(true);
    expect(iommuIovaToPhys(domain, base)).toBe(phys - (iova - base));
    expect(iommuIovaToPhys(domain, base + len - 1)).toBe(phys - (iova - base) + len - 1);
  } else {
    expect(out.mapped, `unmapped at 0x${iova.toString(16)}`).toBe(false);
    expect(iommuIovaToPhys(domain, iova)).toBe(0);
    expect(ref.isFree(base, len), `hole 0x${base.toString(16)}+0x${len.toString(16)}`).toBe(true);
  }
}
