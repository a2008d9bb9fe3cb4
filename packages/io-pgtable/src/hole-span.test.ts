/**
 * iova_to_phys_length outside what a table translates (docs/iova-to-phys-length.md in
 * @iommu/core, "Unmapped IOVA"): unmapped, length = the largest naturally aligned block around
 * the IOVA that misses every translatable range (`holeSpanOutside`). The legacy iova_to_phys
 * keeps the kernel's behaviour (LPAE and DART alias through the masked top index).
 */

import { PhysLength } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { appleDartAllocPgtable } from "./apple-dart/apple-dart.js";
import { armV7sAllocPgtable } from "./arm-v7s/arm-v7s.js";
import {
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IoPgtableFmt,
} from "./io-pgtable.js";
import { ioPgtableIovaToPhys } from "./iova-to-phys.js";
import { alloc } from "./testing/lpae-harness.js";
import { testCfg } from "./testing/table-harness.js";

type Lookup = { iovaToPhysLength(iova: number | bigint, out: PhysLength): void };

const hole = (ops: Lookup, iova: number | bigint): [boolean, number] => {
  const out = new PhysLength();
  ops.iovaToPhysLength(iova, out);
  return [out.mapped, out.length];
};

/** Step by length from `from` until `to` (exclusive, ≤ 2^64); every answer must be unmapped. */
function stepsAcross(ops: Lookup, from: number, to: number): number {
  let iova = from;
  let steps = 0;
  while (iova < to) {
    const [mapped, length] = hole(ops, iova);
    expect(mapped).toBe(false);
    iova = Math.floor(iova / length) * length + length;
    steps++;
    if (steps > 64) break;
  }
  expect(iova).toBe(to);
  return steps;
}

describe("ARM LPAE: beyond ias (TTBR1: below the upper range)", () => {
  it("ARM_64_LPAE_S1 4K ias 48: edges", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1);
    expect(hole(h.ops, 2 ** 48 - 0x1000)).toEqual([false, 2 ** 39]); // last translatable: empty pgd slot
    expect(hole(h.ops, 2 ** 48)).toEqual([false, 2 ** 48]);
    expect(hole(h.ops, 2 ** 48 + 0x1000)).toEqual([false, 2 ** 48]);
    expect(hole(h.ops, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(hole(h.ops, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
    expect(hole(h.ops, (1n << 64n) - 1n)).toEqual([false, 2 ** 63]);
  });

  it("beyond ias the address is 0, not the alias the removed legacy op walked to", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1);
    const mapped = { value: 0 };
    expect(h.ops.mapPages(0x1000, 0x2000, 0x1000, 1, 3, 0, mapped)).toBe(0);
    expect(ioPgtableIovaToPhys(h.ops, 0x1000)).toBe(0x2000);
    expect(ioPgtableIovaToPhys(h.ops, 2 ** 48 + 0x1000)).toBe(0);
    expect(hole(h.ops, 2 ** 48 + 0x1000)).toEqual([false, 2 ** 48]);
  });

  it("TTBR1 ias 48: the lower 2^64 − 2^48 are out of range", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { quirks: IO_PGTABLE_QUIRK_ARM_TTBR1 });
    expect(hole(h.ops, 2 ** 64 - 2 ** 48)).toEqual([false, 2 ** 39]); // first translatable
    expect(hole(h.ops, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 39]); // last translatable
    expect(hole(h.ops, 2 ** 64 - 2 ** 48 - 0x1000)).toEqual([false, 2 ** 48]); // last one below
    expect(hole(h.ops, 0)).toEqual([false, 2 ** 63]);
    expect(hole(h.ops, 2 ** 48)).toEqual([false, 2 ** 63]);
    expect(hole(h.ops, 2 ** 63)).toEqual([false, 2 ** 62]);
    expect(stepsAcross(h.ops, 0, 2 ** 64 - 2 ** 48)).toBe(16);
  });

  it("ARM_32_LPAE_S1 ias 32 and ARM_64_LPAE_S2 ias 40: edges", () => {
    const s32 = alloc(IoPgtableFmt.ARM_32_LPAE_S1, { ias: 32, oas: 40 });
    expect(hole(s32.ops, 2 ** 32 - 0x1000)).toEqual([false, 2 ** 30]);
    expect(hole(s32.ops, 2 ** 32)).toEqual([false, 2 ** 32]);
    expect(hole(s32.ops, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(hole(s32.ops, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
    const s2 = alloc(IoPgtableFmt.ARM_64_LPAE_S2, { ias: 40, oas: 40 });
    expect(hole(s2.ops, 2 ** 40 - 0x1000)).toEqual([false, 2 ** 30]); // concatenated pgd, 1G slots
    expect(hole(s2.ops, 2 ** 40)).toEqual([false, 2 ** 40]);
    expect(hole(s2.ops, 3 * 2 ** 40)).toEqual([false, 2 ** 41]);
  });

  it("steps from 2^ias to 2^64 in 64 − ias lookups", () => {
    expect(stepsAcross(alloc(IoPgtableFmt.ARM_64_LPAE_S1).ops, 2 ** 48, 2 ** 64)).toBe(16);
    expect(stepsAcross(alloc(IoPgtableFmt.ARM_32_LPAE_S1, { ias: 32, oas: 40 }).ops, 2 ** 32, 2 ** 64)).toBe(
      32,
    );
  });
});

describe("ARMv7s: beyond 2^ias", () => {
  it("ias 32: edges, and 32 steps to 2^64", () => {
    const iop = armV7sAllocPgtable(testCfg(), null)!;
    expect(hole(iop, 2 ** 32 - 0x1000)).toEqual([false, 2 ** 20]); // empty L1 slot
    expect(hole(iop, 2 ** 32)).toEqual([false, 2 ** 32]);
    expect(hole(iop, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(hole(iop, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
    expect(ioPgtableIovaToPhys(iop, 2 ** 32)).toBe(0);
    expect(stepsAcross(iop, 2 ** 32, 2 ** 64)).toBe(32);
  });

  it("MTK ext, ias 34", () => {
    const quirks = IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS;
    const iop = armV7sAllocPgtable(testCfg({ quirks, ias: 34, oas: 35 }), null)!;
    expect(hole(iop, 2 ** 34 - 0x1000)).toEqual([false, 2 ** 20]);
    expect(hole(iop, 2 ** 34)).toEqual([false, 2 ** 34]);
    expect(hole(iop, 2 ** 35)).toEqual([false, 2 ** 35]);
    expect(stepsAcross(iop, 2 ** 34, 2 ** 64)).toBe(30);
  });
});

describe("Apple DART: a TTBR index ≥ n_ttbrs (the index masks, so the reach repeats)", () => {
  it("4K, ias 32 (4 TTBRs): [2^32, 2^39) is out of range, 2^39 aliases 0", () => {
    const cfg = testCfg({ pgsizeBitmap: 0x1000, ias: 32, oas: 36, fmt: IoPgtableFmt.APPLE_DART });
    const iop = appleDartAllocPgtable(cfg, null)!;
    expect(iop.nTtbrs).toBe(4);
    expect(hole(iop, 2 ** 32 - 0x1000)).toEqual([false, 2 ** 21]); // last translatable
    expect(hole(iop, 2 ** 32)).toEqual([false, 2 ** 32]);
    expect(hole(iop, 2 ** 38)).toEqual([false, 2 ** 38]);
    expect(hole(iop, 2 ** 39)).toEqual(hole(iop, 0)); // alias of 0: translatable
    expect(hole(iop, 2 ** 63)).toEqual(hole(iop, 0));
    expect(hole(iop, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 38]);
    expect(stepsAcross(iop, 2 ** 32, 2 ** 39)).toBe(7);
  });

  it("16K, ias 42 (1 TTBR, DART2): [2^47, 2^58) is out of range", () => {
    const cfg = testCfg({ pgsizeBitmap: 0x4000, ias: 42, oas: 42, fmt: IoPgtableFmt.APPLE_DART2 });
    const iop = appleDartAllocPgtable(cfg, null)!;
    expect(hole(iop, 2 ** 47 - 0x4000)).toEqual([false, 2 ** 36]);
    expect(hole(iop, 2 ** 47)).toEqual([false, 2 ** 47]);
    expect(hole(iop, 2 ** 57)).toEqual([false, 2 ** 57]);
    expect(hole(iop, 2 ** 63)).toEqual(hole(iop, 0));
    expect(hole(iop, 2 ** 64 - 0x4000)).toEqual([false, 2 ** 57]);
    expect(ioPgtableIovaToPhys(iop, 2 ** 47)).toBe(0);
    expect(stepsAcross(iop, 2 ** 47, 2 ** 58)).toBe(11);
  });
});
