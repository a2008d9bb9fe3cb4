import {
  IommuCounters,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps } from "./alloc.js";
import { IO_PGTABLE_QUIRK_ARM_TTBR1, type IoPgtableCfg, IoPgtableFmt } from "./io-pgtable.js";
import { createIoPgtableDomain, IO_PGTABLE_DOMAIN_OPS } from "./io-pgtable-domain.js";

function ops(quirks = 0) {
  const counters = new IommuCounters();
  const c: IoPgtableCfg = {
    quirks,
    pgsizeBitmap: 0x40201000,
    ias: 48,
    oas: 48,
    coherentWalk: true,
    allocator: new TableAllocator(new PhysMem(), { counters }),
    counters,
  };
  return allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, c)!;
}

describe("createIoPgtableDomain", () => {
  it("takes bitmap and aperture from the cfg and shares one ops table", () => {
    const a = createIoPgtableDomain(ops());
    const b = createIoPgtableDomain(ops());
    expect(a.ops).toBe(IO_PGTABLE_DOMAIN_OPS);
    expect(b.ops).toBe(a.ops);
    expect(a.pgsizeBitmap).toBe(0x40201000);
    expect(a.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true });
    expect(createIoPgtableDomain(ops(IO_PGTABLE_QUIRK_ARM_TTBR1)).geometry).toEqual({
      apertureStart: (1n << 64n) - (1n << 48n),
      apertureEnd: (1n << 64n) - 1n,
      forceAperture: true,
    });
  });

  it("runs the core's map/unmap/lookup through the format", () => {
    const d = createIoPgtableDomain(ops());
    iommuMap(d, 0x1ff000, 0x1ff000, 0x402000, 3);
    const r = iommuIovaToPhysLength(d, 0x234567);
    expect([r.mapped, r.phys, r.length]).toEqual([true, 0x234567, 0x200000]);
    expect(iommuUnmap(d, 0x1ff000, 0x402000)).toBe(0x402000);
    expect(iommuIovaToPhysLength(d, 0x234567).mapped).toBe(false);
    expect(d.dirtyOps).not.toBeNull();
  });
});
