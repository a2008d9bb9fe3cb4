/**
 * ioPgtableIovaToPhys: the address of the format's iova_to_phys_length, 0 when unmapped — on
 * LPAE, v7s and DART tables with known contents (the offset kept, PA 0 indistinguishable from a
 * hole, one walk per call).
 */
import { PhysLength } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { IoPgtableFmt } from "./io-pgtable.js";
import { ioPgtableIovaToPhys } from "./iova-to-phys.js";
import { alloc } from "./testing/lpae-harness.js";

describe("ioPgtableIovaToPhys", () => {
  it("answers the mapped address with its offset, 0 for a hole and for a mapping of PA 0", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1);
    const mapped = { value: 0 };
    expect(h.ops.mapPages(0x20_0000, 0x4000_0000, 0x20_0000, 1, 3, 0, mapped)).toBe(0);
    expect(h.ops.mapPages(0x1000, 0, 0x1000, 1, 3, 0, mapped)).toBe(0);
    expect(ioPgtableIovaToPhys(h.ops, 0x21_2345)).toBe(0x4001_2345);
    expect(ioPgtableIovaToPhys(h.ops, 0x40_0000)).toBe(0);
    // PA 0: the address is 0 like a hole's; only the length op's `mapped` tells them apart.
    expect(ioPgtableIovaToPhys(h.ops, 0x1000)).toBe(0);
    const out = new PhysLength();
    h.ops.iovaToPhysLength(0x1000, out);
    expect(out.mapped).toBe(true);
  });

  it("costs one walk: the same entries read as one iovaToPhysLength", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1);
    const mapped = { value: 0 };
    h.ops.mapPages(0x1000, 0x8000, 0x1000, 1, 3, 0, mapped);
    const reads = h.counters.pteReads;
    ioPgtableIovaToPhys(h.ops, 0x1000);
    const one = h.counters.pteReads - reads;
    h.ops.iovaToPhysLength(0x1000, new PhysLength());
    expect(one).toBeGreaterThan(0);
    expect(h.counters.pteReads - reads).toBe(2 * one);
  });
});
