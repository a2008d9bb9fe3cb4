/** -ENOMEM at each table allocation of one iommu_map(): rolled back, nothing leaked. */
import { IommuError, iommuIovaToPhys, iommuMap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import { testCfg } from "../testing/table-harness.js";
import type { ArmV7sIoPgtable } from "./arm-v7s.js";

// 0xff000 .. 0x401000 with a 4K-only aligned pa: small pages in five L1 slots, so five L2
// tables (from two 4 KiB slab blocks).
const IOVA = 0xf_f000;
const SIZE = 0x30_2000;
const PA = 0x4000_1000;

function setup() {
  const cfg = testCfg();
  const ops = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg)!;
  return { cfg, domain: createIoPgtableDomain(ops), iop: ioPgtableOpsToPgtable(ops) as ArmV7sIoPgtable };
}

function assertRolledBack(s: ReturnType<typeof setup>): void {
  for (let va = IOVA; va < IOVA + SIZE; va += 0x1000) expect(iommuIovaToPhys(s.domain, va)).toBe(0);
  let reachable = 0;
  for (let i = 0; i < s.iop.l1Entries; i++) if ((s.iop.l1Entry(i) & 3) === 1) reachable++;
  expect(s.iop.l2Slab.liveCount).toBe(reachable);
}

describe("ARM_V7S: allocation failure inside iommu_map", () => {
  for (let n = 1; n <= 5; n++) {
    it(`L2 table allocation ${n} of 5 fails`, () => {
      const s = setup();
      s.iop.l2Slab.failNth(n);
      const err = (() => {
        try {
          iommuMap(s.domain, IOVA, PA, SIZE, 3);
        } catch (e) {
          return e as IommuError;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(IommuError);
      expect(err!.code).toBe("ENOMEM");
      assertRolledBack(s);
    });
  }

  for (let n = 1; n <= 2; n++) {
    it(`slab block allocation ${n} of 2 fails`, () => {
      const s = setup();
      s.cfg.allocator.failNth(n);
      expect(() => iommuMap(s.domain, IOVA, PA, SIZE, 3)).toThrowError(/ENOMEM/);
      assertRolledBack(s);
      // The table still works afterwards.
      iommuMap(s.domain, IOVA, PA, SIZE, 3);
      expect(iommuIovaToPhys(s.domain, IOVA + 0x1234)).toBe(PA + 0x1234);
    });
  }
});
