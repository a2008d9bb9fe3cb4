// drivers/iommu/s390-iommu.c: the model's walk cache must be invisible — same answers, same PTE reads as the kernel's full walk.
import {
  IOMMU_READ,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { S390Iommu } from "./s390-iommu.js";
import { iovaOf, makeS390 } from "./testing/make.js";

const pl = new PhysLength();

describe("s390 walk cache", () => {
  for (const levels of [3, 4, 5] as const) {
    it(`${levels} levels: every successful lookup reads ${levels} entries, cached or not`, () => {
      const t = makeS390(levels);
      const base = 0x1_0000_0000 / 4096;
      for (const pfn of [base, base + 1, base + 256])
        iommuMap(t.d, iovaOf(pfn), 0x9000_0000 + (pfn - base) * 4096, 0x1000, IOMMU_READ);
      // block 0 (a fresh walk after block 1's map), block 0 again (cached), block 1, block 0.
      for (const [pfn, pa] of [
        [base, 0x9000_0000],
        [base + 1, 0x9000_1000],
        [base + 256, 0x9010_0000],
        [base, 0x9000_0000],
      ] as const) {
        const before = t.d.counters.pteReads;
        iommuIovaToPhysLength(t.d, iovaOf(pfn, 0x10), pl);
        expect([pl.mapped, pl.phys, pl.length, t.d.counters.pteReads - before]).toEqual([
          true,
          pa + 0x10,
          0x1000,
          levels,
        ]);
      }
    });
  }

  it("a freed domain's cached walk does not answer for a new domain on the same table memory", () => {
    const allocator = new TableAllocator(new PhysMem());
    const zdev = new S390Iommu({ memoryBytes: 16 * 2 ** 30, apertureFactor: 1, allocator });
    const a = zdev.domainAllocPagingFlags(0);
    if (typeof a === "number") throw new Error(`alloc ${a}`);
    iommuMap(a, 0x1_0000_0000, 0x9000_0000, 0x1000, IOMMU_READ);
    iommuIovaToPhysLength(a, 0x1_0000_0000, pl);
    a.ops!.free!(a);
    const b = zdev.domainAllocPagingFlags(0);
    if (typeof b === "number") throw new Error(`alloc ${b}`);
    expect(b.dmaTable).toBe(a.dmaTable); // the allocator hands the same blocks out again
    iommuIovaToPhysLength(b, 0x1_0000_0000, pl);
    expect([pl.mapped, pl.length]).toEqual([false, 2 ** 31]); // an invalid RT entry: nothing below it
    iommuMap(b, 0x1_0000_0000, 0xa000_0000, 0x1000, IOMMU_READ);
    iommuIovaToPhysLength(b, 0x1_0000_0000, pl);
    expect(pl.phys).toBe(0xa000_0000);
  });

  it("unmap through the cache invalidates the PTE the walk found, and lookups see it", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x2000, IOMMU_READ);
    iommuIovaToPhysLength(t.d, 0x1_0000_1000, pl);
    expect(iommuUnmap(t.d, 0x1_0000_1000, 0x1000)).toBe(0x1000);
    iommuIovaToPhysLength(t.d, 0x1_0000_1000, pl);
    expect([pl.mapped, pl.length]).toEqual([false, 0x1000]);
    iommuIovaToPhysLength(t.d, 0x1_0000_0000, pl);
    expect(pl.phys).toBe(0x9000_0000);
  });
});
