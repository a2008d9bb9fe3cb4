import {
  IOMMU_DOMAIN_UNMANAGED,
  IommuCounters,
  iommuDomainInspector,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps } from "./alloc.js";
import { IO_PGTABLE_QUIRK_ARM_TTBR1, type IoPgtableCfg, IoPgtableFmt } from "./io-pgtable.js";
import { createIoPgtableDomain, IO_PGTABLE_DOMAIN_OPS } from "./io-pgtable-domain.js";
import { IO_PGTABLE_DIRTY_OPS, type IoPgtableDomain, ioPgtableDomainOps } from "./io-pgtable-domain-ops.js";

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

describe("ioPgtableDomainOps: the io-pgtable drivers' shared domain ops", () => {
  it("forwards to pgtblOps; without one answers as the kernel's guards do", () => {
    const driverOps = ioPgtableDomainOps<IoPgtableDomain>("drv", {
      free(d) {
        d.pgtblOps = null;
      },
    });
    const d = createIoPgtableDomain(ops());
    d.ops = driverOps;
    iommuMap(d, 0x20_0000, 0x40_0000, 0x20_0000, 3);
    expect(iommuIovaToPhys(d, 0x20_1234)).toBe(0x40_1234);
    expect(iommuDomainInspector(d)!.walk(0x20_1234).end).toBe("leaf");
    driverOps.free!(d);
    expect(d.pgtblOps).toBeNull();
    expect(driverOps.mapPages(d, 0, 0, 0x1000, 1, 3, 0, new SizeOut())).toBe(-19); // -ENODEV
    expect(driverOps.unmapPages(d, 0, 0x1000, 1, null)).toBe(0);
    expect(iommuIovaToPhys(d, 0x20_1234)).toBe(0);
    const out = new PhysLength();
    driverOps.iovaToPhysLength(d, 0x20_1234, out);
    expect([out.mapped, out.length]).toEqual([false, 0x1000]);
    expect(iommuDomainInspector(d)).toBeNull();
    expect(IO_PGTABLE_DIRTY_OPS.readAndClearDirty(d, 0, 0x1000, 0, { record: () => {} })).toBe(-95);
  });

  it("shares the forwarding functions between drivers; a driver's members are its own", () => {
    const sync = () => {};
    const a = ioPgtableDomainOps("a", { iotlbSync: sync });
    const b = ioPgtableDomainOps("b");
    expect([a.name, b.name]).toEqual(["a", "b"]);
    expect(a.mapPages).toBe(b.mapPages);
    expect(a.iovaToPhysLength).toBe(IO_PGTABLE_DOMAIN_OPS.iovaToPhysLength);
    expect([a.iotlbSync, b.iotlbSync]).toEqual([sync, undefined]);
    expect(IO_PGTABLE_DOMAIN_OPS.inspect).toBe(a.inspect);
  });

  it("IO_PGTABLE_DOMAIN_OPS: flush_iotlb_all through the format, free through free_io_pgtable_ops", () => {
    let flushed = 0;
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const pgtbl = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, {
      quirks: 0,
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      coherentWalk: true,
      tlb: { tlbFlushAll: () => flushed++, tlbFlushWalk: () => {} },
      allocator,
      counters,
    })!;
    const d = createIoPgtableDomain(pgtbl);
    iommuMap(d, 0, 0, 0x1000, 3);
    d.ops!.flushIotlbAll!(d);
    expect(flushed).toBe(1);
    d.ops!.free!(d);
    expect([flushed, allocator.liveCount, d.pgtblOps]).toEqual([2, 0, null]);
    d.ops!.free!(d);
    d.ops!.flushIotlbAll!(d);
    expect(flushed).toBe(2);
  });
});

describe("ioPgtableDomainOps before the driver allocates a table", () => {
  it("iovaToPhysLength answers unmapped with the smallest page, 4 KiB when no page size is set yet", () => {
    const ops = ioPgtableDomainOps("pre-finalise");
    const make = (pgsizeBitmap: number) => ({
      type: IOMMU_DOMAIN_UNMANAGED,
      ops,
      pgsizeBitmap,
      geometry: { apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true },
      counters: new IommuCounters(),
      pgtblOps: null,
    });
    const out = new PhysLength();
    ops.iovaToPhysLength!(make(0) as never, 0x1234, out);
    expect([out.mapped, out.length]).toEqual([false, 0x1000]);
    ops.iovaToPhysLength!(make(0x4000) as never, 0x1234, out);
    expect([out.mapped, out.length]).toEqual([false, 0x4000]);
  });
});
