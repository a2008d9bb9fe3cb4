// drivers/iommu/iommufd/selftest.c: the mock domain's map/unmap/lookup contract through the
// IOMMU core, its variants and the unmap-superset WARN, and IOMMU_TEST_OP_MD_CHECK_MAP walks.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PAGE_SIZE,
  PhysLength,
  SZ_1M,
  SZ_2M,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { READ_BACK_MODES } from "./context.js";
import { FailNth } from "./fail-nth.js";
import { Iommufd } from "./iommufd.js";
import {
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  MOCK_HUGE_PAGE_SIZE,
  MOCK_PAGE_SIZE,
  type MockPagetableType,
  mockDomainAllocPgtable,
} from "./selftest.js";
import { ioasAlloc, mapFixed, openIommufd } from "./testing/harness.js";
import { amdv1MockPagetableInit } from "./testing/mock-pagetable.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("mock_iommu_domain (generic_pt amdv1_mock)", () => {
  const fault = new FailNth();
  const alloc = (type: MockPagetableType) => {
    const d = mockDomainAllocPgtable(amdv1MockPagetableInit, type, fault);
    if (typeof d === "number") throw new Error(`mock_domain_alloc_pgtable: ${d}`);
    return d;
  };

  it("MOCK_IOMMUPT_DEFAULT: 2 KiB smallest page, the mock aperture; a 2 KiB-skewed map gets 2 KiB leaves", () => {
    const d = alloc("default");
    expect(d.pgsizeBitmap & -d.pgsizeBitmap).toBe(MOCK_PAGE_SIZE);
    expect(d.geometry).toMatchObject({ apertureStart: MOCK_APERTURE_START, apertureEnd: MOCK_APERTURE_LAST });
    // IOVA ≡ 2K and phys ≡ 0 (mod 4K): nothing larger than 2 KiB fits.
    iommuMap(d, MOCK_APERTURE_START + MOCK_PAGE_SIZE, 0x1_0000_0000, 3 * MOCK_PAGE_SIZE, RW);
    const r = iommuIovaToPhysLength(d, MOCK_APERTURE_START + 2 * MOCK_PAGE_SIZE + 5, new PhysLength());
    expect([r.mapped, r.physNumber, r.length]).toEqual([true, 0x1_0000_0805, MOCK_PAGE_SIZE]);
    // Aligned: the largest page size that fits (a 2 MiB amdv1 contiguous leaf).
    iommuMap(d, SZ_2M * 16, 0x2_0000_0000, SZ_2M, RW);
    expect(iommuIovaToPhysLength(d, SZ_2M * 16 + 4096, r).length).toBe(SZ_2M);
    expect(iommuUnmap(d, MOCK_APERTURE_START + MOCK_PAGE_SIZE, 3 * MOCK_PAGE_SIZE)).toBe(3 * MOCK_PAGE_SIZE);
    expect(iommuIovaToPhysLength(d, MOCK_APERTURE_START + 2 * MOCK_PAGE_SIZE, r).mapped).toBe(false);
    expect(d.counters.warns).toBe(0);
  });

  it("MOCK_IOMMUPT_HUGE: MOCK_HUGE_PAGE_SIZE | PAGE_SIZE leaves", () => {
    const d = alloc("huge");
    expect(d.pgsizeBitmap).toBe(MOCK_HUGE_PAGE_SIZE | PAGE_SIZE);
    iommuMap(d, SZ_2M, 0x2_0000_0000, SZ_2M, RW);
    const r = iommuIovaToPhysLength(d, SZ_2M + SZ_1M + 4096, new PhysLength());
    expect([r.physNumber, r.length]).toEqual([0x2_0010_1000, SZ_1M]);
  });

  it("MOCK_IOMMUPT_AMDV1: the real AMDv1 format, 4 KiB smallest page, no aperture override", () => {
    const d = alloc("amdv1");
    expect(d.pgsizeBitmap & -d.pgsizeBitmap).toBe(PAGE_SIZE);
    expect(d.geometry.apertureStart).toBe(0);
  });

  it("IOMMU_TEST_OP_MOCK_DOMAIN: -EOPNOTSUPP without an injected init; the top table's allocation fails cleanly", () => {
    const bare = new Iommufd();
    expect(bare.mockDomain(ioasAlloc(bare))).toBe(-95);
    const ictx = openIommufd();
    const ioas = ioasAlloc(ictx);
    const ids = ictx.objectIds;
    // 1: the mock_iommu_domain kzalloc; 2: the amdv1_mock top table.
    for (const n of [1, 2]) {
      ictx.fault.failNth(n);
      expect(ictx.mockDomain(ioas)).toBe(-12);
      expect(ictx.objectIds).toEqual(ids);
    }
    ictx.fault.failNth(0);
    expect(ictx.mockDomain(ioas)).toBeGreaterThan(0);
  });
});

describe("iommufd_test_md_check_pa", () => {
  for (const [type, legacy, length] of [
    // amdv1_mock maps each scattered 4 KiB page as one 4 KiB leaf (two 2 KiB entries, contiguous).
    ["default", 32, 16],
    ["huge", 16, 16],
  ] as const)
    it(`${type}: one walk per smallest page today; length-aware: one per leaf (${legacy} → ${length} over 64 KiB); runs: 1`, () => {
      for (const mode of READ_BACK_MODES) {
        const ictx = openIommufd({ readBack: mode });
        const ioas = ioasAlloc(ictx);
        const hwpt = ictx.mockDomain(ioas, type);
        expect(mapFixed(ictx, ioas, 0x10_0000_0000, 16 * PAGE_SIZE, MOCK_APERTURE_START)).toBe(0);
        const walks = { n: 0 };
        expect(ictx.mdCheckMap(hwpt, MOCK_APERTURE_START, 16 * PAGE_SIZE, 0x10_0000_0000, walks)).toBe(0);
        // Scattered 4 KiB user pages: 4 KiB leaves, one lookup per page length-aware.
        expect(walks.n).toBe(mode === "legacy" ? legacy : mode === "length" ? length : 1);
        expect(ictx.mdCheckMap(hwpt, MOCK_APERTURE_START, 16 * PAGE_SIZE, 0x10_0000_0000 + PAGE_SIZE)).toBe(
          -22,
        );
      }
    });

  it("huge leaves: 2 MiB hugetlb mapped by the huge mock as 1 MiB leaves, 512 → 2 walks (runs: 1)", () => {
    for (const mode of READ_BACK_MODES) {
      const ictx = openIommufd({ readBack: mode });
      ictx.mm.memory.addRegion({ vaddr: 0x40_0000_0000, size: SZ_2M, kind: "hugetlb2m" });
      const ioas = ioasAlloc(ictx);
      const hwpt = ictx.mockDomain(ioas, "huge");
      expect(mapFixed(ictx, ioas, 0x40_0000_0000, SZ_2M, SZ_2M)).toBe(0);
      const walks = { n: 0 };
      expect(ictx.mdCheckMap(hwpt, SZ_2M, SZ_2M, 0x40_0000_0000, walks)).toBe(0);
      expect(walks.n).toBe(mode === "legacy" ? 512 : mode === "length" ? 2 : 1);
    }
  });
});
