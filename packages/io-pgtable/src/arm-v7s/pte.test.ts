import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { IO_PGTABLE_QUIRK_ARM_NS, IO_PGTABLE_QUIRK_NO_PERMS } from "../io-pgtable.js";
import {
  armV7sIopteToPaddr,
  armV7sPaddrToIopte,
  armV7sProtToPte,
  armV7sPteIsCont,
  armV7sPteIsTable,
  armV7sPteIsValid,
  armV7sPteToCont,
} from "./pte.js";

const bit = (n: number, on: unknown): number => (on ? 2 ** n : 0);

/**
 * The expected leaf bits, written from the architecture's short-descriptor layout (ARM ARM
 * B3.5.1 as the kernel uses it) rather than from the format code: per level, where each
 * field sits, for a plain leaf and for its 16-entry contiguous form.
 */
function expected(prot: number, lvl: 1 | 2, quirks: number, cont: boolean): number {
  const ap = !(quirks & IO_PGTABLE_QUIRK_NO_PERMS);
  const mmio = prot & IOMMU_MMIO;
  const b = bit(2, mmio || prot & IOMMU_CACHE);
  const c = bit(3, !mmio && prot & IOMMU_CACHE);
  const xn = ap && prot & IOMMU_NOEXEC;
  const af = ap;
  const unpriv = ap && !(prot & IOMMU_PRIV);
  const rdonly = ap && !(prot & IOMMU_WRITE);
  if (lvl === 1) {
    return (
      0x2 +
      b +
      c +
      bit(4, xn) +
      bit(10, af) +
      bit(11, unpriv) +
      bit(12, !mmio) +
      bit(15, rdonly) +
      bit(16, 1) +
      bit(17, 1) +
      bit(18, cont) +
      bit(19, quirks & IO_PGTABLE_QUIRK_ARM_NS)
    );
  }
  const common = b + c + bit(4, af) + bit(5, unpriv) + bit(9, rdonly) + bit(10, 1) + bit(11, 1);
  if (cont) return 0x1 + common + bit(12, !mmio) + bit(15, xn);
  return 0x2 + common + bit(0, xn) + bit(6, !mmio);
}

const QUIRK_SETS = [
  0,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS,
];

describe("arm_v7s_prot_to_pte / arm_v7s_pte_to_cont", () => {
  for (const quirks of QUIRK_SETS) {
    for (const lvl of [1, 2] as const) {
      it(`every prot combination, lvl ${lvl}, quirks 0x${quirks.toString(16)}`, () => {
        for (let prot = 0; prot < 64; prot++) {
          const pte = armV7sProtToPte(prot, lvl, quirks);
          expect(pte, `prot 0x${prot.toString(16)}`).toBe(expected(prot, lvl, quirks, false));
          expect(armV7sPteToCont(pte, lvl), `cont prot 0x${prot.toString(16)}`).toBe(
            expected(prot, lvl, quirks, true),
          );
        }
      });
    }
  }

  it("IOMMU_READ changes nothing: a write-only mapping is readable", () => {
    for (const lvl of [1, 2])
      expect(armV7sProtToPte(IOMMU_WRITE, lvl, 0)).toBe(armV7sProtToPte(IOMMU_READ | IOMMU_WRITE, lvl, 0));
  });

  it("matches raw entries the kernel wrote in the golden vectors", () => {
    // L2 small page rw at PA 0 (misc-commands), L1 section rw at 1M.
    expect(armV7sProtToPte(IOMMU_READ | IOMMU_WRITE, 2, 0)).toBe(0xc72);
    expect(armV7sProtToPte(IOMMU_READ | IOMMU_WRITE, 1, 0) | 0x100000).toBe(0x131c02);
    // 64K large page rwx at 0x200000 (SCRIPT-FORMAT example 2).
    const large = armV7sPteToCont(armV7sProtToPte(IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC, 2, 0), 2);
    expect((large | armV7sPaddrToIopte(0x200000, 2, false)) >>> 0).toBe(0x00209c31);
    // 16M supersection rwc at 0x5000000.
    const sup = armV7sPteToCont(armV7sProtToPte(IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE, 1, 0), 1);
    expect((sup | armV7sPaddrToIopte(0x5000000, 1, false)) >>> 0).toBe(0x05071c0e);
    // MTK noperms small page at PA 0 (misc-commands).
    expect(armV7sProtToPte(IOMMU_READ | IOMMU_WRITE, 2, IO_PGTABLE_QUIRK_NO_PERMS)).toBe(0xc42);
  });
});

describe("entry classification", () => {
  it("type bits", () => {
    expect(armV7sPteIsValid(0)).toBe(false);
    expect(armV7sPteIsValid(0x4_0000)).toBe(false);
    expect(armV7sPteIsTable(0x8000_0001, 1)).toBe(true);
    expect(armV7sPteIsTable(0x8000_0001, 2)).toBe(false); // a large page at L2
    expect(armV7sPteIsCont(0x0504_0002, 1)).toBe(true);
    expect(armV7sPteIsCont(0x0504_0001, 1)).toBe(false); // a table's bit 18 is address
    expect(armV7sPteIsCont(0x0000_0c31, 2)).toBe(true);
    expect(armV7sPteIsCont(0x0000_0c72, 2)).toBe(false);
  });
});

describe("PA <-> PTE", () => {
  it("plain: the address is masked to the level and truncated to 32 bits", () => {
    expect(armV7sPaddrToIopte(0x1_2345_6789, 1, false)).toBe(0x2340_0000);
    expect(armV7sPaddrToIopte(0x1_2345_6789, 2, false)).toBe(0x2345_6000);
  });

  it("MediaTek: PA bits 32/33/34 in PTE bits 9/4/5 and back", () => {
    for (const hi of [0, 1, 2, 3, 4, 5, 6, 7]) {
      const pa = hi * 2 ** 32 + 0x8765_4000;
      const pte = armV7sPaddrToIopte(pa, 2, true);
      expect((pte & ~0x230) >>> 0).toBe(0x8765_4000);
      expect(!!(pte & 0x200)).toBe(!!(hi & 1));
      expect(!!(pte & 0x10)).toBe(!!(hi & 2));
      expect(!!(pte & 0x20)).toBe(!!(hi & 4));
      expect(armV7sIopteToPaddr((pte | 2) >>> 0, 2, true)).toBe(pa);
    }
    // PA bit 35 and up cannot be represented at all.
    expect(armV7sPaddrToIopte(2 ** 35 + 0x1000, 2, true)).toBe(0x1000);
  });

  it("iopte_to_paddr masks: table 1K, section 1M, supersection 16M, small 4K, large 64K", () => {
    expect(armV7sIopteToPaddr(0x8000_4c09, 1, false)).toBe(0x8000_4c00);
    expect(armV7sIopteToPaddr(0x1238_1c02, 1, false)).toBe(0x1230_0000);
    expect(armV7sIopteToPaddr(0x1238_1c02 | 0x4_0000, 1, false)).toBe(0x1200_0000);
    expect(armV7sIopteToPaddr(0x1234_5c72, 2, false)).toBe(0x1234_5000);
    expect(armV7sIopteToPaddr(0x1234_5c31, 2, false)).toBe(0x1234_0000);
  });
});
