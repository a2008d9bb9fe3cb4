// drivers/iommu/iommu.c entry points counted at a caller: the per-call differences of the
// domain's counters land in the caller's fields, with or without the map-unroll unmap.
import { describe, expect, it } from "vitest";
import { IotlbGather } from "./gather.js";
import { CountedIommuCalls, type IommuCallCounterFields } from "./iommu-call-counts.js";
import { PhysLength } from "./phys-length.js";
import { IOMMU_READ, IOMMU_WRITE } from "./prot.js";
import { makeDomain } from "./testing/fake-pgtable.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const fields = (): IommuCallCounterFields => ({
  iovaToPhys: 0,
  unmapCalls: 0,
  mapCalls: 0,
  iotlbSync: 0,
  ptMapPages: 0,
  ptUnmapPages: 0,
});

describe("CountedIommuCalls", () => {
  it("counts calls and the core's map_pages / unmap_pages / syncs per call", () => {
    const d = makeDomain();
    const calls = new CountedIommuCalls(fields());
    expect(calls.map(d, 0x20_0000, 0x8000_0000, 0x3000, RW)).toBe(0);
    expect(calls.iovaToPhys(d, 0x20_1000)).toBe(0x8000_1000);
    expect(calls.iovaToPhysLength(d, 0x20_2000, new PhysLength()).physNumber).toBe(0x8000_2000);
    let runs = 0;
    calls.iovaToPhysRuns(d, 0x20_0000, 0x3000, () => {
      runs++;
    });
    expect(runs).toBe(1);
    expect(calls.unmap(d, 0x20_0000, 0x1000)).toBe(0x1000);
    const g = new IotlbGather();
    expect(calls.unmapFast(d, 0x20_1000, 0x2000, g)).toBe(0x2000);
    calls.sync(d, g);
    expect(calls.counters).toEqual({
      iovaToPhys: 3,
      unmapCalls: 2,
      mapCalls: 1,
      // one inside iommu_unmap, the caller's own
      iotlbSync: 2,
      ptMapPages: d.counters.mapPagesCalls,
      ptUnmapPages: d.counters.unmapPagesCalls,
    });
  });

  it("a failing iommu_map returns -errno; its unroll unmap counts only with countMapUnroll", () => {
    for (const countMapUnroll of [false, true]) {
      const d = makeDomain();
      const calls = new CountedIommuCalls(fields(), { countMapUnroll });
      expect(calls.map(d, 0x1000, 0x8000_0000, 0x1000, RW)).toBe(0);
      // The second page collides: the first is unrolled by the core.
      expect(calls.map(d, 0x0, 0x9000_0000, 0x2000, RW)).toBe(-17);
      expect(calls.counters.mapCalls).toBe(2);
      expect(calls.counters.unmapCalls).toBe(countMapUnroll ? d.counters.unmapCalls : 0);
      if (countMapUnroll) expect(calls.counters.unmapCalls).toBeGreaterThan(0);
    }
  });
});
