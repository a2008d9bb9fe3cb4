// drivers/iommu/fsl_pamu_domain.c: the aperture-only domain through the core API — the
// kernel's errors for map/unmap (no map_pages, no pgsize_bitmap), fsl_pamu_iova_to_phys() at
// the aperture edges, the length-aware answer, and the LIODN attach model.
import {
  holeSpanOutside,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_READ,
  IommuCounters,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuPagingDomainAllocFlags,
  iommuUnmap,
  PhysLength,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PAACE_NUMBER_ENTRIES } from "./fsl-pamu.js";
import { FSL_PAMU_APERTURE_END, type FslDmaDomain, FslPamu } from "./fsl-pamu-domain.js";

const A = 2 ** 36;

function domain(): { pamu: FslPamu; d: FslDmaDomain } {
  const pamu = new FslPamu();
  const d = pamu.domainAllocPagingFlags(0, { counters: new IommuCounters() });
  if (typeof d === "number") throw new Error(String(d));
  return { pamu, d };
}

describe("fsl_pamu_domain_alloc()", () => {
  it("UNMANAGED, aperture [0, 2^36 − 1], force_aperture, no pgsize_bitmap", () => {
    const { d } = domain();
    expect(d.type).toBe(1);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 36 - 1, forceAperture: true });
    expect(FSL_PAMU_APERTURE_END).toBe(0xf_ffff_ffff);
    expect(d.pgsizeBitmap).toBe(0);
  });
  it("other types → NULL from domain_alloc (-ENOMEM); flags → -EOPNOTSUPP", () => {
    const pamu = new FslPamu();
    expect(pamu.domainAllocPagingFlags(0, { type: IOMMU_DOMAIN_IDENTITY })).toBe(-12);
    expect(pamu.domainAllocPagingFlags(1)).toBe(-95);
    expect(pamu.capable(0)).toBe(true);
    expect(pamu.capable(1)).toBe(false);
  });
  it("iommu_paging_domain_alloc_flags() hands out the domain", () => {
    const d = iommuPagingDomainAllocFlags(new FslPamu(), 0);
    expect(d.ops?.name).toBe("fsl-pamu");
  });
});

describe("map and unmap through the core: the kernel's errors", () => {
  it("iommu_map → WARN + -ENODEV (no map_pages, pgsize_bitmap 0)", () => {
    const { d } = domain();
    let err: unknown;
    try {
      iommuMap(d, 0, 0, 4096, IOMMU_READ);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IommuError);
    expect((err as IommuError).code).toBe("ENODEV");
    expect(d.counters.warns).toBe(1);
  });
  it("iommu_unmap → WARN + 0", () => {
    const { d } = domain();
    expect(iommuUnmap(d, 0, 4096)).toBe(0);
    expect(d.counters.warns).toBe(1);
  });
});

describe("fsl_pamu_iova_to_phys() at the aperture edges", () => {
  it("0 → 0 (identity; indistinguishable from a hole), 2^36 − 1 → itself, 2^36 → 0", () => {
    const { d } = domain();
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(iommuIovaToPhys(d, A - 1)).toBe(A - 1);
    expect(iommuIovaToPhys(d, A)).toBe(0);
    expect(iommuIovaToPhys(d, 0x1234_5678)).toBe(0x1234_5678);
    expect(iommuIovaToPhys(d, (1n << 64n) - 1n)).toBe(0);
  });
});

describe("iova_to_phys_length: identity over the whole aperture in one step", () => {
  it("iova 0: mapped, phys 0, length 2^36 (mapped tells it from a hole)", () => {
    const { d } = domain();
    const out = iommuIovaToPhysLength(d, 0);
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0, A]);
  });
  it("2^36 − 1: mapped to itself, same unit", () => {
    const { d } = domain();
    const out = iommuIovaToPhysLength(d, A - 1);
    expect([out.mapped, out.phys, out.length]).toEqual([true, A - 1, A]);
  });
  it("2^36: unmapped, the 2^36 block above the aperture; the core's holeSpanOutside agrees everywhere", () => {
    const { d } = domain();
    const out = new PhysLength();
    iommuIovaToPhysLength(d, A, out);
    expect([out.mapped, out.length]).toEqual([false, A]);
    const range = [[0n, BigInt(A - 1)]] as const;
    for (const iova of [A, A + 4096, 2 ** 37 - 4096, 2 ** 40 + 12345, 2 ** 53, 2 ** 63, (1n << 64n) - 1n]) {
      iommuIovaToPhysLength(d, iova, out);
      expect([out.mapped, out.length]).toEqual([false, holeSpanOutside(iova, range)]);
    }
  });
  it("a caller stepping by length crosses all of 2^64 in 29 lookups (1 in the aperture)", () => {
    const { d } = domain();
    const out = new PhysLength();
    let iova = 0n;
    let walks = 0;
    const mappedBytes: number[] = [];
    while (iova < 1n << 64n) {
      iommuIovaToPhysLength(d, iova, out);
      walks++;
      if (out.mapped) mappedBytes.push(out.length);
      iova = (iova / BigInt(out.length)) * BigInt(out.length) + BigInt(out.length);
    }
    expect(walks).toBe(29);
    expect(mappedBytes).toEqual([A]);
    expect(d.counters.walks).toBe(29);
  });
});

describe("LIODN attach (PAACE programming)", () => {
  it("attach opens the window for each LIODN: identity below 2^36, blocked above", () => {
    const { pamu, d } = domain();
    expect(pamu.attachDevice(d, { liodns: [3, 7] })).toBe(0);
    expect(pamu.paact.dma(3, 0x1000n)).toBe(0x1000n);
    expect(pamu.paact.dma(7, BigInt(A - 1))).toBe(BigInt(A - 1));
    expect(pamu.paact.dma(7, BigInt(A))).toBeNull();
    expect(pamu.paact.dma(4, 0x1000n)).toBeNull();
  });
  it("no fsl,liodn property → -EINVAL; a LIODN ≥ PAACE_NUMBER_ENTRIES → -EINVAL (earlier ones stay)", () => {
    const { pamu, d } = domain();
    expect(pamu.attachDevice(d, {})).toBe(-22);
    expect(PAACE_NUMBER_ENTRIES).toBe(0x500);
    expect(pamu.attachDevice(d, { liodns: [1, 0x500] })).toBe(-22);
    expect(pamu.paact.entries[1]!.valid).toBe(true);
  });
  it("moving a LIODN to another domain detaches it from the first; free invalidates the PAACEs", () => {
    const pamu = new FslPamu();
    const a = pamu.domainAllocPagingFlags(0) as FslDmaDomain;
    const b = pamu.domainAllocPagingFlags(0) as FslDmaDomain;
    pamu.attachDevice(a, { liodns: [5] });
    pamu.attachDevice(b, { liodns: [5] });
    expect([...a.liodns]).toEqual([]);
    expect([...b.liodns]).toEqual([5]);
    b.ops!.free!(b);
    expect(pamu.paact.dma(5, 0n)).toBeNull();
  });
  it("fsl_pamu_configure_l1_stash() reprograms every attached LIODN; ~0 → -EINVAL", () => {
    const { pamu, d } = domain();
    pamu.attachDevice(d, { liodns: [9] });
    expect(pamu.configureL1Stash(d, 0x20)).toBe(0);
    expect(pamu.paact.entries[9]!.stashId).toBe(0x20);
    expect(pamu.configureL1Stash(d, 0xffffffff)).toBe(-22);
  });
});

describe("property: every 64-bit IOVA", () => {
  it("iommu_iova_to_phys and iova_to_phys_length agree with the aperture rule (fast-check, 5,000 IOVAs)", () => {
    const { d } = domain();
    const out = new PhysLength();
    const range = [[0n, BigInt(A - 1)]] as const;
    // Bias half the IOVAs to the aperture's neighbourhood, the rest anywhere in 2^64.
    const iova = fc.oneof(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: BigInt(A) - 0x10000n, max: BigInt(A) + 0x10000n }),
    );
    fc.assert(
      fc.property(iova, (v) => {
        const inside = v < BigInt(A);
        iommuIovaToPhysLength(d, v, out);
        expect(out.mapped).toBe(inside);
        expect(BigInt(out.phys)).toBe(inside ? v : 0n);
        expect(out.length).toBe(inside ? A : holeSpanOutside(v, range));
        expect(BigInt(iommuIovaToPhys(d, v))).toBe(inside ? v : 0n);
      }),
      { numRuns: 5000, seed: 36 },
    );
  });
});
