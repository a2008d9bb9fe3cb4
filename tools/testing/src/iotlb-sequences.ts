/**
 * packages/core/docs/iotlb-model.md: random map/unmap/device-access sequences for a driver's
 * domain under the IOTLB checker, shared by the drivers' IOTLB tests. The window is 8 MiB
 * (four 2 MiB blocks); pages cluster near each block's start so maps, unmaps, block maps and
 * accesses meet.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  IommuError,
  type IotlbChecker,
  PhysLength,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import fc from "fast-check";
import { expect } from "vitest";

/** One step of a sequence: a map/unmap of n pages (or of the page's whole 2 MiB block), or a device access. */
export type IotlbOp =
  | { t: "map" | "unmap"; page: number; n: number; block: boolean }
  | { t: "access"; page: number; write: boolean };

/** Pages in the window. */
export const IOTLB_WINDOW_PAGES = 2048;

const pageArb = fc.tuple(fc.nat(3), fc.nat(15)).map(([b, o]) => b * 512 + o);

/** Steps, accesses twice as likely as maps or unmaps. */
export const iotlbOpArb: fc.Arbitrary<IotlbOp> = fc.oneof(
  fc.record({
    t: fc.constantFrom("map" as const, "unmap" as const),
    page: pageArb,
    n: fc.integer({ min: 1, max: 16 }),
    block: fc.boolean(),
  }),
  fc.record({ t: fc.constant("access" as const), page: pageArb, write: fc.boolean() }),
  fc.record({ t: fc.constant("access" as const), page: pageArb, write: fc.boolean() }),
);

/**
 * Run `ops` through `checker` on `d` (maps to PA 0x80000000 + IOVA); every device access must
 * agree with a CPU walk of the table, and the checker must report nothing.
 */
export function runIotlbClean(d: IommuDomain, checker: IotlbChecker, ops: readonly IotlbOp[]): void {
  const truth = new PhysLength();
  for (const o of ops) {
    if (o.t === "access") {
      const va = o.page * SZ_4K + 0x10;
      const r = checker.access(va, o.write ? "write" : "read");
      d.ops!.iovaToPhysLength!(d, va, truth);
      expect(r.ok).toBe(truth.mapped);
      if (r.ok) expect(r.phys).toBe(truth.physNumber);
      continue;
    }
    const iova = o.block ? Math.floor(o.page / 512) * SZ_2M : o.page * SZ_4K;
    const size = o.block ? SZ_2M : Math.min(o.n, IOTLB_WINDOW_PAGES - o.page) * SZ_4K;
    if (o.t === "unmap") checker.unmap(iova, size);
    else
      try {
        checker.map(iova, 0x8000_0000 + iova, size, IOMMU_READ | IOMMU_WRITE);
      } catch (e) {
        if (!(e instanceof IommuError)) throw e;
      }
  }
  expect(checker.findings).toEqual([]);
}
