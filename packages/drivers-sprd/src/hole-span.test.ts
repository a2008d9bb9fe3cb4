/**
 * iova_to_phys_length beyond what the table reaches (docs/iova-to-phys-length.md, "Unmapped
 * IOVA"): unmapped, length = the largest naturally aligned block around the IOVA that misses
 * the aperture `[0, 2^28 − 1]`, so a scan crosses the unreachable top in a bounded number of steps.
 */
import { type IommuDomain, iommuIovaToPhysLength } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { setup } from "./testing/harness.js";

const hole = (d: IommuDomain, iova: number): [boolean, number] => {
  const out = iommuIovaToPhysLength(d, iova);
  return [out.mapped, out.length];
};

describe("iova_to_phys_length outside the table's reach (the 256 MiB aperture)", () => {
  it("edges: last reachable IOVA, first beyond, 2^63, 2^64 − 4K", () => {
    const d = setup().d;
    expect(hole(d, 2 ** 28 - 0x1000)).toEqual([false, 0x1000]);
    expect(hole(d, 2 ** 28)).toEqual([false, 2 ** 28]);
    expect(hole(d, 2 ** 28 * 1.5)).toEqual([false, 2 ** 28]);
    expect(hole(d, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(hole(d, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
  });

  it("stepping by length from the first unreachable IOVA to 2^64 takes ≤ 64 lookups", () => {
    const d = setup().d;
    let iova = 2 ** 28;
    let steps = 0;
    while (iova < 2 ** 64) {
      const [mapped, length] = hole(d, iova);
      expect(mapped).toBe(false);
      iova = Math.floor(iova / length) * length + length;
      steps++;
    }
    expect(iova).toBe(2 ** 64);
    expect(steps).toBeLessThanOrEqual(64);
  });
});
