// drivers/iommu/iommufd/pages.c read-back paths against kernel-callers.md §7 rows 3–5 on a
// generic_pt AMDv1 domain; expected counts are worked out by hand from the kernel loops.
import { PAGE_SIZE, SZ_2M, SZ_4K, TableAllocator, UserMm } from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import { describe, expect, it } from "vitest";
import type { ReadBackMode } from "./context.js";
import { Iommufd } from "./iommufd.js";
import { ioasAlloc, mapFixed, unmap } from "./testing/harness.js";

const VA = 0x40_0000_0000;
const IOVA = 0x80_0000_0000;

function setup(mode: ReadBackMode, kind: "hugetlb2m" | "scattered", size: number, limit = 0) {
  const mm = new UserMm();
  mm.memory.addRegion({ vaddr: VA, size, kind, seed: 1 });
  const ictx = new Iommufd({ mm, readBack: mode });
  if (limit) ictx.setTempMemoryLimit(limit);
  const ioas = ioasAlloc(ictx);
  const domain = createPtDomain("amdv1", { allocator: new TableAllocator() });
  domain.pgsizeBitmap = SZ_4K | SZ_2M;
  const hwpt = ictx.attachDomain(ioas, domain);
  expect(hwpt).toBeGreaterThan(0);
  expect(mapFixed(ictx, ioas, VA, size, IOVA)).toBe(0);
  ictx.counters.reset();
  return { ictx, ioas, hwpt };
}

describe("__iopt_area_unfill_domain (§7 row 3)", () => {
  it.each([
    ["legacy", 1024, 1],
    ["length", 2, 1],
    // One range lookup answers both runs.
    ["runs", 1, 1],
  ] as const)(
    "4 MiB of two non-adjacent 2 MiB pages, %s: %i walks, %i iommu_unmap",
    (mode, walks, unmaps) => {
      const { ictx, ioas } = setup(mode, "hugetlb2m", 2 * SZ_2M);
      expect(unmap(ictx, ioas, IOVA, 2 * SZ_2M).rc).toBe(0);
      expect(ictx.counters.iovaToPhys).toBe(walks);
      // One batch holds both runs: one unmap for the whole area, not one per run.
      expect(ictx.counters.unmapCalls).toBe(unmaps);
      expect(ictx.counters.iotlbSync).toBe(1);
      expect(ictx.mm.memory.pinned).toBe(0);
    },
  );

  it.each([
    ["legacy", 512 + 511],
    ["length", 512 + 511],
    // One range lookup per batch: it adds one run and stops at the next (batch full).
    ["runs", 512],
  ] as const)(
    "mock_domain_limit: 512 scattered 4 KiB pages, a 1-entry batch, %s: every run but the last re-walks once (%i)",
    (mode, walks) => {
      const { ictx, ioas } = setup(mode, "scattered", SZ_2M, 16);
      expect(unmap(ictx, ioas, IOVA, SZ_2M).rc).toBe(0);
      expect(ictx.counters.iovaToPhys).toBe(walks);
      expect(ictx.counters.batchFull).toBe(511);
      expect(ictx.counters.unmapCalls).toBe(512);
    },
  );

  it.each([
    // hole [0,99]: 100 walks; read-ahead 100..511 (412) and the breaking walk at 512 (1);
    // hole [101,1023]: 512..1023 (512): 1025.
    ["legacy", 1025],
    // hole [0,99]: 1 lookup (clamped to the span); read-ahead: 1 lookup to 511, 1 breaking;
    // hole [101,1023]: 1 lookup: 4.
    ["length", 4],
    // hole [0,99]: 1 range lookup; read-ahead from 100: 1 lookup that extends the carry to 511
    // and stops at the run starting at 512; hole [101,1023]: 512..1023 in 1 lookup: 3.
    ["runs", 3],
  ] as const)(
    "§7 row 3a: an access holds index 100 when the last domain goes, %s: %i walks (read-ahead, carry)",
    (mode, walks) => {
      const { ictx, ioas, hwpt } = setup(mode, "hugetlb2m", 2 * SZ_2M);
      const access = ictx.accessCreate(ioas);
      const item = ictx.accessPages(access, IOVA + 100 * PAGE_SIZE, PAGE_SIZE);
      expect(item).toBeGreaterThan(0);
      ictx.counters.reset();
      expect(ictx.destroy(hwpt)).toBe(0);
      expect(ictx.counters.iovaToPhys).toBe(walks);
      // Unmap at the cut points only: [0, 511] (read-ahead) and [512, 1023].
      expect(ictx.counters.unmapCalls).toBe(2);
      expect(ictx.mm.memory.pinned).toBe(1);
      expect(ictx.warns.warns).toBe(0);
    },
  );
});

describe("iopt_area_fill_domain (§7 row 4) and raw_pages_from_domain (§7 row 5)", () => {
  it.each([
    ["legacy", 1024, 2],
    ["length", 2, 2],
    ["runs", 1, 2],
  ] as const)(
    "attach a second domain to a populated IOAS, %s: %i walks, %i iommu_map",
    (mode, walks, maps) => {
      const { ictx, ioas } = setup(mode, "hugetlb2m", 2 * SZ_2M);
      const d2 = createPtDomain("amdv1", { allocator: new TableAllocator() });
      expect(ictx.attachDomain(ioas, d2)).toBeGreaterThan(0);
      expect(ictx.counters.iovaToPhys).toBe(walks);
      expect(ictx.counters.mapCalls).toBe(maps);
    },
  );

  it.each([
    ["legacy", 1024],
    ["length", 2],
    ["runs", 1],
  ] as const)(
    "an access pins a domain-held 4 MiB, %s: %i walks, pfns equal the user pages",
    (mode, walks) => {
      const { ictx, ioas } = setup(mode, "hugetlb2m", 2 * SZ_2M);
      const access = ictx.accessCreate(ioas);
      expect(ictx.accessPages(access, IOVA, 2 * SZ_2M, { uptr: VA })).toBeGreaterThan(0);
      expect(ictx.counters.iovaToPhys).toBe(walks);
      expect(ictx.mm.memory.pinned).toBe(1024);
    },
  );
});
