import {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IommuCounters,
  iommuMap,
  iommuPagingDomainAllocFlags,
  iommuUnmap,
} from "@iommu/core";
import { IoPgtableFmt } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { PtDriver } from "./generic-pt.js";
import { IoPgtableDriver, ioPgtableDriverOps } from "./io-pgtable.js";
import { restrictDriver } from "./restrict.js";

const EOPNOTSUPP = -95;
const ENOMEM = -12;
const LPAE = { name: "lpae0", fmt: IoPgtableFmt.ARM_64_LPAE_S1, ias: 48, oas: 48, pgsizeBitmap: 0x40201000 };

describe("IoPgtableDriver", () => {
  it("builds a table per domain from its cfg; one ops table per instance unless shared", () => {
    const a = new IoPgtableDriver(LPAE);
    const d = iommuPagingDomainAllocFlags(a, 0);
    expect(d.pgsizeBitmap).toBe(0x40201000);
    expect(d.geometry.apertureEnd).toBe(2 ** 48 - 1);
    iommuMap(d, 0x200000, 0x4000_0000, 0x200000, 3);
    expect(iommuUnmap(d, 0x200000, 0x200000)).toBe(0x200000);
    expect(iommuPagingDomainAllocFlags(a, 0).ops).toBe(d.ops);
    expect(iommuPagingDomainAllocFlags(new IoPgtableDriver(LPAE), 0).ops).not.toBe(d.ops);
    const ops = ioPgtableDriverOps("shared");
    const [b, c] = [new IoPgtableDriver({ ...LPAE, ops }), new IoPgtableDriver({ ...LPAE, ias: 32, ops })];
    expect(iommuPagingDomainAllocFlags(b, 0).ops).toBe(iommuPagingDomainAllocFlags(c, 0).ops);
    expect(a.capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(true);
    expect(new IoPgtableDriver({ ...LPAE, coherentWalk: false }).capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(
      false,
    );
  });

  it("refuses flags (EOPNOTSUPP) and a cfg the format cannot build (ENOMEM); WARNs reach `warn`", () => {
    const warns: string[] = [];
    const a = new IoPgtableDriver({ ...LPAE, warn: (m) => warns.push(m) });
    expect(a.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(EOPNOTSUPP);
    expect(new IoPgtableDriver({ ...LPAE, pgsizeBitmap: 0x40000000 }).domainAllocPagingFlags(0)).toBe(ENOMEM);
    const d = iommuPagingDomainAllocFlags(a, 0, { type: IOMMU_DOMAIN_UNMANAGED });
    expect(d.type).toBe(IOMMU_DOMAIN_UNMANAGED);
    iommuMap(d, 0x1000, 0x1000, 0x1000, 3);
    expect(() => iommuMap(d, 0x1000, 0x1000, 0x1000, 3)).toThrow();
    expect(warns.length).toBeGreaterThan(0);
    expect(d.counters.warns).toBe(warns.length);
    // Caller-supplied counters are used as given.
    const counters = new IommuCounters();
    expect(iommuPagingDomainAllocFlags(a, 0, { counters }).counters).toBe(counters);
  });
});

describe("PtDriver", () => {
  it("gives each instance its own copy of the format's ops; the bitmap is the default domain's", () => {
    const a = new PtDriver("amdv1");
    const b = new PtDriver("amdv1");
    const [d1, d2, d3] = [a, a, b].map((x) => iommuPagingDomainAllocFlags(x, 0));
    expect(d1!.ops).toBe(d2!.ops);
    expect(d1!.ops).not.toBe(d3!.ops);
    expect(d1!.ops.mapPages).toBe(d3!.ops.mapPages);
    expect(a.pgsizeBitmap).toBe(d1!.pgsizeBitmap);
    expect(a.name).toBe("generic_pt-amdv1");
    expect(new PtDriver("x86_64", { name: "AMD-Vi.0" }).name).toBe("AMD-Vi.0");
    expect(a.capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(true);
    expect(typeof a.capable(IOMMU_CAP_DIRTY_TRACKING)).toBe("boolean");
  });

  it("returns the init errno for a config the format refuses, EOPNOTSUPP for flags", () => {
    const bad = new PtDriver("x86_64", { vaBits: 99 });
    const r = bad.domainAllocPagingFlags(0);
    expect(typeof r).toBe("number");
    expect(r as number).toBeLessThan(0);
    expect(new PtDriver("vtdss").domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(EOPNOTSUPP);
  });
});

describe("restrictDriver", () => {
  it("narrows page sizes and aperture of the inner driver's domains, keeping its ops", () => {
    const inner = new IoPgtableDriver(LPAE);
    const warns: string[] = [];
    const r = restrictDriver(inner, { ias: 40, pgsizes: 0x201000, warn: (m) => warns.push(m) });
    expect(r.name).toBe("lpae0");
    expect(r.pgsizeBitmap).toBe(0x201000);
    const d = iommuPagingDomainAllocFlags(r, 0);
    expect(d.ops).toBe(iommuPagingDomainAllocFlags(inner, 0).ops);
    expect(d.pgsizeBitmap).toBe(0x201000);
    expect(d.geometry.apertureEnd).toBe(2 ** 40 - 1);
    expect(restrictDriver(inner, { ias: 52 }).domainAllocPagingFlags(0)).toMatchObject({
      geometry: { apertureEnd: 2 ** 48 - 1 },
    });
    iommuMap(d, 0, 0, 0x1000, 3);
    expect(() => iommuMap(d, 0, 0, 0x1000, 3)).toThrow();
    expect(warns.length).toBeGreaterThan(0);
  });

  it("fails with ENOMEM when no 4 KiB page is left, freeing the domain", () => {
    const inner = new IoPgtableDriver(LPAE);
    expect(restrictDriver(inner, { pgsizes: 0x200000 }).domainAllocPagingFlags(0)).toBe(ENOMEM);
    expect(restrictDriver(inner, { pgsizes: 0x1000 }).domainAllocPagingFlags(0)).toMatchObject({
      pgsizeBitmap: 0x1000,
    });
  });
});
