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
import {
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  MOCK_HUGE_PAGE_SIZE,
  MOCK_PAGE_SIZE,
  MockDomain,
} from "./selftest.js";
import { ioasAlloc, mapFixed, openIommufd } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("mock_iommu_domain", () => {
  it("MOCK_IOMMUPT_DEFAULT: 2 KiB pages, the mock aperture", () => {
    const d = new MockDomain("default");
    expect(d.pgsizeBitmap).toBe(MOCK_PAGE_SIZE);
    expect(d.geometry).toMatchObject({ apertureStart: MOCK_APERTURE_START, apertureEnd: MOCK_APERTURE_LAST });
    iommuMap(d, MOCK_APERTURE_START, 0x1_0000_0800, 3 * MOCK_PAGE_SIZE, RW);
    const r = iommuIovaToPhysLength(d, MOCK_APERTURE_START + MOCK_PAGE_SIZE + 5, new PhysLength());
    expect([r.mapped, r.physNumber, r.length]).toEqual([true, 0x1_0000_1005, MOCK_PAGE_SIZE]);
    expect(d.leaves().length).toBe(3);
    expect(iommuUnmap(d, MOCK_APERTURE_START, 3 * MOCK_PAGE_SIZE)).toBe(3 * MOCK_PAGE_SIZE);
    expect(d.counters.warns).toBe(0);
  });

  it("MOCK_IOMMUPT_HUGE: MOCK_HUGE_PAGE_SIZE | PAGE_SIZE leaves", () => {
    const d = new MockDomain("huge");
    expect(d.pgsizeBitmap).toBe(MOCK_HUGE_PAGE_SIZE | PAGE_SIZE);
    iommuMap(d, SZ_2M, 0x2_0000_0000, SZ_2M, RW);
    expect(d.leaves().map((l) => l.size)).toEqual([SZ_1M, SZ_1M]);
    const r = iommuIovaToPhysLength(d, SZ_2M + SZ_1M + 4096, new PhysLength());
    expect([r.physNumber, r.length]).toEqual([0x2_0010_1000, SZ_1M]);
  });

  it("an unmap that starts inside a map WARNs (iommufd unmaps are supersets of its maps)", () => {
    const d = new MockDomain("default");
    iommuMap(d, MOCK_APERTURE_START, 0x1_0000_0000, 4 * MOCK_PAGE_SIZE, RW);
    iommuUnmap(d, MOCK_APERTURE_START + MOCK_PAGE_SIZE, MOCK_PAGE_SIZE);
    expect(d.counters.warns).toBe(2);
  });

  it("mapping over a mapped slot is refused and rolled back", () => {
    const d = new MockDomain("default");
    iommuMap(d, MOCK_APERTURE_START + MOCK_PAGE_SIZE, 0x1_0000_0000, MOCK_PAGE_SIZE, RW);
    expect(() => iommuMap(d, MOCK_APERTURE_START, 0x1_0000_0000, 4 * MOCK_PAGE_SIZE, RW)).toThrow();
    expect(d.leaves().length).toBe(1);
  });
});

describe("iommufd_test_md_check_pa", () => {
  for (const [type, legacy, length] of [
    ["default", 32, 32],
    ["huge", 16, 16],
  ] as const)
    it(`${type}: one walk per smallest page today; length-aware: one per leaf (${legacy} → ${length} over 64 KiB)`, () => {
      for (const mode of ["legacy", "length"] as const) {
        const ictx = openIommufd({ readBack: mode });
        const ioas = ioasAlloc(ictx);
        const hwpt = ictx.mockDomain(ioas, type);
        expect(mapFixed(ictx, ioas, 0x10_0000_0000, 16 * PAGE_SIZE, MOCK_APERTURE_START)).toBe(0);
        const walks = { n: 0 };
        expect(ictx.mdCheckMap(hwpt, MOCK_APERTURE_START, 16 * PAGE_SIZE, 0x10_0000_0000, walks)).toBe(0);
        // Scattered 4 KiB user pages: leaves are 2 KiB (default) or 4 KiB (huge), so the
        // length-aware check saves nothing here.
        expect(walks.n).toBe(mode === "legacy" ? legacy : length);
        expect(ictx.mdCheckMap(hwpt, MOCK_APERTURE_START, 16 * PAGE_SIZE, 0x10_0000_0000 + PAGE_SIZE)).toBe(
          -22,
        );
      }
    });

  it("huge leaves: 2 MiB hugetlb mapped by the huge mock as 1 MiB leaves, 512 → 2 walks", () => {
    for (const mode of ["legacy", "length"] as const) {
      const ictx = openIommufd({ readBack: mode });
      ictx.mm.memory.addRegion({ vaddr: 0x40_0000_0000, size: SZ_2M, kind: "hugetlb2m" });
      const ioas = ioasAlloc(ictx);
      const hwpt = ictx.mockDomain(ioas, "huge");
      expect(mapFixed(ictx, ioas, 0x40_0000_0000, SZ_2M, SZ_2M)).toBe(0);
      const walks = { n: 0 };
      expect(ictx.mdCheckMap(hwpt, SZ_2M, SZ_2M, 0x40_0000_0000, walks)).toBe(0);
      expect(walks.n).toBe(mode === "legacy" ? 512 : 2);
    }
  });
});
