/**
 * drivers/iommu/rockchip-iommu.c: the PTEs of every page size (4 KiB … 4 MiB, all written as
 * 4 KiB PTEs) for every prot, in the v1 and v2 encodings, worked out by hand from
 * `rk_mk_pte`, `rk_mk_pte_v2` and `rk_mk_dte(_v2)`; and the prot the inspector reads back.
 */
import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuDomainInspector,
  iommuMap,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { rkDtePtAddressV2, rkMkDteV2 } from "./defs.js";
import { dte, pte, setup } from "./testing/harness.js";

const R = IOMMU_READ;
const W = IOMMU_WRITE;
const EXTRA = IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV;
const FLAGS = [0x1, 0x3, 0x5, 0x7]; // none, R, W, RW: valid | R<<1 | W<<2

describe.each([
  ["v1", 0x4567_8000, (k: number) => 0x4567_8000 + k * 0x1000],
  // PA 0x12_3456_7000: bits 31:12 as is, 35:32 (2) → 11:8, 39:36 (1) → 7:4
  ["v2", 0x12_3456_7000, (k: number) => 0x3456_7210 + k * 0x1000],
] as const)("%s PTEs", (variant, pa, addrBits) => {
  for (const [i, prot] of [0, R, W, R | W].entries()) {
    it(`prot 0x${prot.toString(16)} (and with CACHE|NOEXEC|MMIO|PRIV): every page size is 4 KiB PTEs`, () => {
      for (const extra of [0, EXTRA]) {
        const { d } = setup({ variant });
        for (let s = 12; s <= 22; s++) {
          const size = 2 ** s;
          const iova = 0x4000_0000 + (s - 12) * 0x40_0000; // one page table per size
          iommuMap(d, iova, pa, size, prot | extra);
          for (const k of [0, size / 0x1000 - 1])
            expect(pte(d, iova + k * 0x1000) >>> 0).toBe((addrBits(k) | FLAGS[i]!) >>> 0);
          expect(pte(d, iova + size)).toBe(0);
          const leaf = iommuDomainInspector(d)!.walk(iova).steps[1]!;
          expect(leaf.prot).toBe(prot);
          expect(leaf.phys).toBe(BigInt(pa));
        }
      }
    });
  }
});

describe("DTEs and DTE_ADDR", () => {
  it("v1: table PA bits 31:12 | valid", () => {
    const { d } = setup();
    expect(d.dteAddrReg).toBe(0x8000_0001);
    iommuMap(d, 0x40_0000, 0x1000, 0x1000, R);
    expect(dte(d, 1)).toBe(0x8000_1001);
  });

  it("v2: the 40-bit encoding, e.g. 0x1_0000_0000 → 0x00000101", () => {
    expect(rkMkDteV2(0x1_0000_0000 / 0x1000)).toBe(0x0000_0101);
    expect(rkMkDteV2(0x20_8000_0000 / 0x1000)).toBe(0x8000_0021);
    expect(rkDtePtAddressV2(0x8000_0021)).toBe(0x20_8000_0000);
    expect(rkMkDteV2(0x100_0000_0000 / 0x1000)).toBe(0x0000_0001); // bit 40 is lost
    const { d } = setup({ variant: "v2", ptbase: 0x20_8000_0000 });
    expect(d.dteAddrReg).toBe(0x8000_0021);
    iommuMap(d, 0, 0x1000, 0x1000, R);
    expect(dte(d, 0)).toBe(0x8000_1021);
  });
});
