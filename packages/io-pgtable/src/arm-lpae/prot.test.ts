import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  SizeOut,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import {
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IoPgtableFmt,
} from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { alloc, type CfgInput, leafPte } from "../testing/lpae-harness.js";

const R = IOMMU_READ;
const W = IOMMU_WRITE;
const C = IOMMU_CACHE;
const X = IOMMU_NOEXEC;
const M = IOMMU_MMIO;
const P = IOMMU_PRIV;

/** The descriptor written for one 4K page (level 3) or 2M block (level 2) at PA 0x1234_5000. */
function pte(fmt: IoPgtableFmt, prot: number, input: CfgInput = {}, size = 0x1000): bigint {
  const h = alloc(fmt, { oas: fmt === IoPgtableFmt.ARM_MALI_LPAE ? 40 : 48, ...input });
  const iova = size === 0x1000 ? 0x4000_1000 : 0x4020_0000;
  const pa = size === 0x1000 ? 0x1234_5000 : 0x1240_0000;
  expect(h.ops.mapPages(iova, pa, size, 1, prot, 0, new SizeOut())).toBe(0);
  const { pte: v, ret } = leafPte(h, iova);
  expect(ret).toBe(0);
  return v;
}

const PA4K = 0x1234_5000n;

describe("stage 1 (ARM_64_LPAE_S1 and ARM_32_LPAE_S1)", () => {
  const base = 0x800n | 0x400n | 0x3n; // nG | AF | page
  for (const fmt of [IoPgtableFmt.ARM_64_LPAE_S1, IoPgtableFmt.ARM_32_LPAE_S1]) {
    const input = fmt === IoPgtableFmt.ARM_32_LPAE_S1 ? { ias: 32, oas: 40 } : {};
    it(`fmt ${fmt}: AP, SH, AttrIndx, XN`, () => {
      // AP[1] (unprivileged) unless PRIV; AP[2] (read-only) for read without write.
      expect(pte(fmt, R | W, input)).toBe(PA4K | base | 0x200n | 0x40n);
      expect(pte(fmt, R, input)).toBe(PA4K | base | 0x200n | 0x40n | 0x80n);
      expect(pte(fmt, W, input)).toBe(PA4K | base | 0x200n | 0x40n);
      expect(pte(fmt, R | W | P, input)).toBe(PA4K | base | 0x200n);
      // CACHE: AttrIndx 1 and inner shareable; MMIO: AttrIndx 2 and wins over CACHE.
      expect(pte(fmt, R | W | C, input)).toBe(PA4K | base | 0x300n | 0x40n | 0x4n);
      expect(pte(fmt, R | W | M, input)).toBe(PA4K | base | 0x200n | 0x40n | 0x8n);
      expect(pte(fmt, R | W | M | C, input)).toBe(PA4K | base | 0x300n | 0x40n | 0x8n);
      // NOEXEC: UXN|PXN (bits 54:53).
      expect(pte(fmt, R | W | X, input)).toBe(PA4K | base | 0x200n | 0x40n | (3n << 53n));
    });
  }
  it("ARM_NS sets NS (bit 5) on leaves and NSTABLE (bit 63) on tables", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { quirks: IO_PGTABLE_QUIRK_ARM_NS });
    h.ops.mapPages(0x1000, 0x2000, 0x1000, 1, R | W, 0, new SizeOut());
    const wd = { ptes: [0n, 0n, 0n, 0n], level: 0 };
    h.ops.pgtableWalk!(0x1000, wd);
    expect(wd.ptes[3]).toBe(0x2000n | 0xe63n);
    for (const t of wd.ptes.slice(0, 3)) expect(t >> 63n).toBe(1n);
  });
  it("ARM_HD: writable leaves get DBM (bit 51), read-only ones do not", () => {
    const hd = { quirks: IO_PGTABLE_QUIRK_ARM_HD };
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S1, R | W, hd)).toBe(PA4K | base | 0x240n | (1n << 51n));
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S1, W, hd)).toBe(PA4K | base | 0x240n | (1n << 51n));
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S1, R, hd)).toBe(PA4K | base | 0x2c0n);
  });
  it("blocks use type 1", () => {
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S1, R | W, {}, 0x200000)).toBe(0x1240_0000n | 0xe41n);
  });
});

describe("stage 2 (ARM_64_LPAE_S2 and ARM_32_LPAE_S2)", () => {
  for (const fmt of [IoPgtableFmt.ARM_64_LPAE_S2, IoPgtableFmt.ARM_32_LPAE_S2]) {
    const input = fmt === IoPgtableFmt.ARM_32_LPAE_S2 ? { ias: 40, oas: 40 } : {};
    it(`fmt ${fmt}: HAP, MemAttr, SH, XN`, () => {
      const page = 0x400n | 0x3n; // AF | page; no nG at stage 2
      expect(pte(fmt, R | W, input)).toBe(PA4K | page | 0x200n | 0xc0n | 0x14n);
      expect(pte(fmt, R, input)).toBe(PA4K | page | 0x200n | 0x40n | 0x14n);
      expect(pte(fmt, W, input)).toBe(PA4K | page | 0x200n | 0x80n | 0x14n);
      expect(pte(fmt, R | W | C, input)).toBe(PA4K | page | 0x300n | 0xc0n | 0x3cn);
      expect(pte(fmt, R | W | M, input)).toBe(PA4K | page | 0x200n | 0xc0n | 0x4n);
      expect(pte(fmt, R | W | P, input)).toBe(PA4K | page | 0x200n | 0xc0n | 0x14n);
      expect(pte(fmt, R | X, input)).toBe(PA4K | page | 0x200n | 0x40n | 0x14n | (3n << 53n));
    });
  }
  it("S2FWB: cacheable is MemAttr 0b0110", () => {
    const fwb = { quirks: IO_PGTABLE_QUIRK_ARM_S2FWB };
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S2, R | W | C, fwb)).toBe(PA4K | 0x403n | 0x300n | 0xc0n | 0x18n);
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S2, R | W, fwb)).toBe(PA4K | 0x403n | 0x200n | 0xc0n | 0x14n);
  });
});

describe("ARM_MALI_LPAE", () => {
  it("S1 attributes, S2 permissions, outer shareable, no AF, type 1 at level 3", () => {
    const f = IoPgtableFmt.ARM_MALI_LPAE;
    expect(pte(f, R | W)).toBe(PA4K | 0x2c1n);
    expect(pte(f, R | W | C)).toBe(PA4K | 0x2c5n);
    expect(pte(f, R | M)).toBe(PA4K | 0x249n);
    expect(pte(f, W | X)).toBe(PA4K | 0x281n | (3n << 53n));
    expect(pte(f, R | W, {}, 0x200000)).toBe(0x1240_0000n | 0x2c1n);
  });
});

describe("output address encoding", () => {
  it("64K granule: PA bits 51:48 live in descriptor bits 15:12", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { pgsizeBitmap: 0x20010000 + 2 ** 42, ias: 52, oas: 52 });
    const pa = 0xa_bcde_f012_0000;
    expect(h.ops.mapPages(0x10000, pa, 0x10000, 1, R | W, 0, new SizeOut())).toBe(0);
    expect(leafPte(h, 0x10000).pte).toBe(0xbcde_f012_0000n | (0xan << 12n) | 0xe43n);
    expect(ioPgtableIovaToPhys(h.ops, 0x1abcd)).toBe(pa + 0xabcd);
    // A 4T block at level 1.
    expect(h.ops.mapPages(2 ** 46, 2 ** 51, 2 ** 42, 1, R, 0, new SizeOut())).toBe(0);
    expect(leafPte(h, 2 ** 46)).toEqual({ pte: (0x8n << 12n) | 0xec1n, level: 1, ret: 0 });
    expect(ioPgtableIovaToPhys(h.ops, 2 ** 46 + 0x123_4567_8000)).toBe(2 ** 51 + 0x123_4567_8000);
  });
  it("oas 48 with 4K: the full 47:12 field", () => {
    const pa = 0xffff_ffff_f000;
    expect(pte(IoPgtableFmt.ARM_64_LPAE_S1, R | W).toString(16)).toBe((PA4K | 0xe43n).toString(16));
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1);
    h.ops.mapPages(0x1000, pa, 0x1000, 1, R | W, 0, new SizeOut());
    expect(leafPte(h, 0x1000).pte).toBe(BigInt(pa) | 0xe43n);
  });
});
