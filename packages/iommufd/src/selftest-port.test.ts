// tools/testing/selftests/iommu/iommufd.c: the map/unmap/copy/access groups of the kernel's
// iommufd selftest (kernel-callers.md §4.3), run against the model in both read-back modes.
// Each case names its kernel test; `teardown` is the fixture teardown (nothing left pinned).
import { PAGE_SIZE, SZ_2M } from "@iommu/core";
import { describe, expect, it } from "vitest";
import type { ReadBackMode } from "./context.js";
import type { Iommufd } from "./iommufd.js";
import { MOCK_APERTURE_LAST, MOCK_APERTURE_START, MOCK_PAGE_SIZE } from "./selftest.js";
import {
  BUFFER,
  BUFFER_SIZE,
  HUGEPAGE_SIZE,
  ioasAlloc,
  mapAuto,
  mapFixed,
  openIommufd,
  teardown,
  unmap,
} from "./testing/harness.js";
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
} from "./uapi.js";
import {
  IOMMU_VFIO_IOAS_CLEAR,
  IOMMU_VFIO_IOAS_GET,
  IOMMU_VFIO_IOAS_SET,
  iommufdVfioIoas,
  iommufdVfioMapDma,
  iommufdVfioSetIommu,
  iommufdVfioUnmapDma,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from "./vfio-compat.js";

const U64_MAX = (1n << 64n) - 1n;
const MODES: readonly ReadBackMode[] = ["legacy", "length", "runs"];

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expectClean(ictx: Iommufd): void {
  expect(teardown(ictx)).toEqual({ pinned: 0, lockedVm: 0, pinnedVm: 0, warns: 0 });
}

describe.each(MODES)("iommufd (%s read-back)", (mode) => {
  it("cmd_fail: IOMMU_DESTROY of id 0 is ENOENT", () => {
    const ictx = openIommufd({ readBack: mode });
    expect(ictx.destroy(0)).toBe(-2);
  });

  it("cmd_length: short struct EINVAL, non-zero trailing byte E2BIG, zero trailing byte as exact", () => {
    const ictx = openIommufd({ readBack: mode });
    const extra = new Uint8Array([0xff]);
    const zero = new Uint8Array([0]);
    // TEST_LENGTH(iommu_ioas_alloc, IOMMU_IOAS_ALLOC, out_ioas_id)
    expect(ictx.ioasAlloc({ flags: 0, size: 11, trailing: extra })).toBe(-22);
    expect(ictx.ioasAlloc({ flags: 0, size: 13, trailing: extra })).toBe(-7);
    expect(ictx.ioasAlloc({ flags: 0, size: 13, trailing: zero })).toBe(0);
    // TEST_LENGTH(iommu_ioas_map, IOMMU_IOAS_MAP, iova)
    const map = { flags: 0, ioasId: 0, userVa: 0, length: 0, iova: 0 };
    expect(ictx.ioasMap({ ...map, size: 39, trailing: extra })).toBe(-22);
    expect(ictx.ioasMap({ ...map, size: 41, trailing: extra })).toBe(-7);
    const exact = ictx.ioasMap({ ...map });
    expect(ictx.ioasMap({ ...map, size: 41, trailing: zero })).toBe(exact);
    // TEST_LENGTH(iommu_ioas_unmap, IOMMU_IOAS_UNMAP, length)
    expect(ictx.ioasUnmap({ ioasId: 0, iova: 0, length: 0, size: 23, trailing: extra })).toBe(-22);
    expect(ictx.ioasUnmap({ ioasId: 0, iova: 0, length: 0, size: 25, trailing: extra })).toBe(-7);
    // TEST_LENGTH(iommu_ioas_copy, IOMMU_IOAS_COPY, src_iova)
    const copy = { flags: 0, dstIoasId: 0, srcIoasId: 0, length: 0, dstIova: 0, srcIova: 0 };
    expect(ictx.ioasCopy({ ...copy, size: 39, trailing: extra })).toBe(-22);
    expect(ictx.ioasCopy({ ...copy, size: 41, trailing: extra })).toBe(-7);
    // TEST_LENGTH(iommu_option, IOMMU_OPTION, val64)
    const opt = { optionId: 0, op: 0, objectId: 0, val64: 0 };
    expect(ictx.option({ ...opt, size: 23, trailing: extra })).toBe(-22);
    expect(ictx.option({ ...opt, size: 25, trailing: extra })).toBe(-7);
    // TEST_LENGTH(iommu_ioas_iova_ranges, ...) and (iommu_ioas_allow_iovas, ...)
    expect(ictx.ioasIovaRanges({ ioasId: 0, numIovas: 0, allowedIovas: [], size: 31, trailing: extra })).toBe(
      -22,
    );
    expect(ictx.ioasAllowIovas({ ioasId: 0, allowedIovas: [], size: 25, trailing: extra })).toBe(-7);
  });

  it("cmd_ex_fail: a longer IOMMU_DESTROY works until its future area is non-zero", () => {
    const ictx = openIommufd({ readBack: mode });
    const future = new Uint8Array(8);
    expect(ictx.destroy({ id: 0, size: 16, trailing: future })).toBe(-2);
    future[0] = 1;
    expect(ictx.destroy({ id: 0, size: 16, trailing: future })).toBe(-7);
    expect(ictx.destroy({ id: 0, size: 8 })).toBe(-2);
    expect(ictx.destroy({ id: 0, size: 7 })).toBe(-22);
  });

  it("global_options: RLIMIT_MODE get/set, HUGE_PAGES needs an IOAS", () => {
    const ictx = openIommufd({ readBack: mode });
    const cmd = {
      optionId: IOMMU_OPTION_RLIMIT_MODE,
      op: IOMMU_OPTION_OP_GET,
      objectId: 0,
      val64: 1 as number | bigint,
    };
    expect(ictx.option(cmd)).toBe(0);
    expect(cmd.val64).toBe(0);
    cmd.op = IOMMU_OPTION_OP_SET;
    cmd.val64 = 1;
    expect(ictx.option(cmd)).toBe(0);
    cmd.val64 = 2;
    expect(ictx.option(cmd)).toBe(-22);
    cmd.op = IOMMU_OPTION_OP_GET;
    expect(ictx.option(cmd)).toBe(0);
    expect(cmd.val64).toBe(1);
    cmd.op = IOMMU_OPTION_OP_SET;
    cmd.val64 = 0;
    expect(ictx.option(cmd)).toBe(0);
    cmd.op = IOMMU_OPTION_OP_GET;
    cmd.optionId = IOMMU_OPTION_HUGE_PAGES;
    expect(ictx.option(cmd)).toBe(-2);
    cmd.op = IOMMU_OPTION_OP_SET;
    expect(ictx.option(cmd)).toBe(-2);
  });
});

/** FIXTURE_VARIANT(iommufd_ioas) */
const IOAS_VARIANTS = [
  { name: "no_domain", mockDomains: 0, memoryLimit: 0 },
  { name: "mock_domain", mockDomains: 1, memoryLimit: 0 },
  { name: "two_mock_domain", mockDomains: 2, memoryLimit: 0 },
  { name: "mock_domain_limit", mockDomains: 1, memoryLimit: 16 },
] as const;

interface IoasFixture {
  ictx: Iommufd;
  ioasId: number;
  hwptIds: number[];
  baseIova: number;
}

/** FIXTURE_SETUP(iommufd_ioas) */
function ioasFixture(variant: (typeof IOAS_VARIANTS)[number], mode: ReadBackMode): IoasFixture {
  const ictx = openIommufd({ readBack: mode });
  const ioasId = ioasAlloc(ictx);
  if (variant.memoryLimit) ictx.setTempMemoryLimit(variant.memoryLimit);
  const hwptIds: number[] = [];
  let baseIova = 0;
  for (let i = 0; i < variant.mockDomains; i++) {
    const id = ictx.mockDomain(ioasId);
    expect(id).toBeGreaterThan(0);
    hwptIds.push(id);
    baseIova = MOCK_APERTURE_START;
  }
  return { ictx, ioasId, hwptIds, baseIova };
}

describe.each(IOAS_VARIANTS.flatMap((v) => MODES.map((m) => [v.name, m, v] as const)))(
  "iommufd_ioas.%s (%s read-back)",
  (_name, mode, variant) => {
    const hasDomain = variant.mockDomains > 0;

    it("ioas_destroy: EBUSY while a HWPT uses the IOAS, else destroyed", () => {
      const f = ioasFixture(variant, mode);
      expect(f.ictx.destroy(f.ioasId)).toBe(hasDomain ? -16 : 0);
      expectClean(f.ictx);
    });

    it("ioas_area_destroy / ioas_area_auto_destroy: areas do not change destroy", () => {
      const f = ioasFixture(variant, mode);
      expect(mapFixed(f.ictx, f.ioasId, BUFFER, PAGE_SIZE, f.baseIova)).toBe(0);
      expect(f.ictx.destroy(f.ioasId)).toBe(hasDomain ? -16 : 0);
      const g = ioasFixture(variant, mode);
      for (let i = 0; i < 10; i++)
        expect(mapFixed(g.ictx, g.ioasId, BUFFER, PAGE_SIZE, g.baseIova + i * PAGE_SIZE)).toBe(0);
      expectClean(f.ictx);
      expectClean(g.ictx);
    });

    it("area: ENOENT on empty and split unmaps, EEXIST on overmap, unmap-all", () => {
      const { ictx, ioasId, baseIova } = ioasFixture(variant, mode);
      for (let i = 0; i < 10; i++) expect(unmap(ictx, ioasId, i * PAGE_SIZE, PAGE_SIZE).rc).toBe(-2);
      for (let i = 0; i < 10; i++)
        expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, baseIova + i * PAGE_SIZE)).toBe(0);
      for (let i = 0; i < 10; i++)
        expect(unmap(ictx, ioasId, baseIova + i * PAGE_SIZE, PAGE_SIZE).rc).toBe(0);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE * 2, baseIova + 16 * PAGE_SIZE)).toBe(0);
      expect(unmap(ictx, ioasId, baseIova + 16 * PAGE_SIZE, PAGE_SIZE).rc).toBe(-2);
      expect(unmap(ictx, ioasId, baseIova + 17 * PAGE_SIZE, PAGE_SIZE).rc).toBe(-2);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE * 2, baseIova + 16 * PAGE_SIZE)).toBe(-17);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, baseIova + 16 * PAGE_SIZE)).toBe(-17);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, baseIova + 17 * PAGE_SIZE)).toBe(-17);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE * 2, baseIova + 15 * PAGE_SIZE)).toBe(-17);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE * 3, baseIova + 15 * PAGE_SIZE)).toBe(-17);
      expect(unmap(ictx, ioasId, 0, U64_MAX).rc).toBe(0);
      expect(unmap(ictx, ioasId, 0, U64_MAX).rc).toBe(0);
      expectClean(ictx);
    });

    it("unmap_fully_contained_areas: partial areas ENOENT, a covering range unmaps all", () => {
      const f = ioasFixture(variant, mode);
      const base = f.baseIova + 4 * PAGE_SIZE;
      for (let i = 0; i < 4; i++)
        expect(mapFixed(f.ictx, f.ioasId, BUFFER, 8 * PAGE_SIZE, base + i * 16 * PAGE_SIZE)).toBe(0);
      expect(unmap(f.ictx, f.ioasId, base - 4 * PAGE_SIZE, 8 * PAGE_SIZE).rc).toBe(-2);
      expect(
        unmap(f.ictx, f.ioasId, base + 3 * 16 * PAGE_SIZE + 8 * PAGE_SIZE - 4 * PAGE_SIZE, 8 * PAGE_SIZE).rc,
      ).toBe(-2);
      const r = unmap(
        f.ictx,
        f.ioasId,
        base - 4 * PAGE_SIZE,
        3 * 16 * PAGE_SIZE + 8 * PAGE_SIZE + 4 * PAGE_SIZE,
      );
      expect(r).toEqual({ rc: 0, length: 32 * PAGE_SIZE });
      expectClean(f.ictx);
    });

    it("area_auto_iova: automatic IOVAs are aligned, avoid reserved, stay in allowed", () => {
      const { ictx, ioasId } = ioasFixture(variant, mode);
      const iovas: number[] = [];
      for (let i = 0; i < 10; i++) {
        const r = mapAuto(ictx, ioasId, BUFFER, PAGE_SIZE);
        expect(r.rc).toBe(0);
        iovas[i] = r.iova;
      }
      for (let i = 0; i < 10; i++) expect(unmap(ictx, ioasId, iovas[i]!, PAGE_SIZE).rc).toBe(0);
      // Kernel automatically aligns IOVAs properly (a 2 GiB uptr without a domain).
      if (!hasDomain) ictx.mm.memory.addRegion({ vaddr: 2 ** 31, size: 16 * PAGE_SIZE, kind: "scattered" });
      for (let i = 0; i < 10; i++) {
        const length = PAGE_SIZE * (i + 1);
        const r = mapAuto(ictx, ioasId, hasDomain ? BUFFER : 2 ** 31, length);
        expect(r.rc).toBe(0);
        iovas[i] = r.iova;
        expect(r.iova % 2 ** Math.log2(length & -length)).toBe(0);
      }
      for (let i = 0; i < 10; i++) expect(unmap(ictx, ioasId, iovas[i]!, PAGE_SIZE * (i + 1)).rc).toBe(0);
      // Avoids a reserved region
      expect(ictx.addReserved(ioasId, PAGE_SIZE * 4, PAGE_SIZE * 100)).toBe(0);
      for (let i = 0; i < 10; i++) {
        const length = PAGE_SIZE * (i + 1);
        const r = mapAuto(ictx, ioasId, BUFFER, length);
        expect(r.rc).toBe(0);
        iovas[i] = r.iova;
        expect(r.iova % (length & -length)).toBe(0);
        expect(r.iova > PAGE_SIZE * 4 && r.iova < PAGE_SIZE * 104).toBe(false);
      }
      for (let i = 0; i < 10; i++) expect(unmap(ictx, ioasId, iovas[i]!, PAGE_SIZE * (i + 1)).rc).toBe(0);
      // Allowed region intersects with a reserved region
      expect(
        ictx.ioasAllowIovas({ ioasId, allowedIovas: [{ start: PAGE_SIZE, last: PAGE_SIZE * 600 }] }),
      ).toBe(-98);
      // Allocate from an allowed region
      const range = hasDomain
        ? { start: MOCK_APERTURE_START + PAGE_SIZE, last: MOCK_APERTURE_START + PAGE_SIZE * 600 - 1 }
        : { start: PAGE_SIZE * 200, last: PAGE_SIZE * 600 - 1 };
      expect(ictx.ioasAllowIovas({ ioasId, allowedIovas: [range] })).toBe(0);
      for (let i = 0; i < 10; i++) {
        const length = PAGE_SIZE * (i + 1);
        const r = mapAuto(ictx, ioasId, BUFFER, length);
        expect(r.rc).toBe(0);
        iovas[i] = r.iova;
        expect(r.iova % (length & -length)).toBe(0);
        expect(r.iova >= range.start && r.iova + length <= range.last + 1).toBe(true);
      }
      for (let i = 0; i < 10; i++) expect(unmap(ictx, ioasId, iovas[i]!, PAGE_SIZE * (i + 1)).rc).toBe(0);
      expectClean(ictx);
    });

    it("area_allowed: reserved and allowed ranges may not intersect (EADDRINUSE)", () => {
      const { ictx, ioasId, baseIova } = ioasFixture(variant, mode);
      const ranges = [{ start: baseIova, last: baseIova + PAGE_SIZE * 600 }];
      expect(ictx.ioasAllowIovas({ ioasId, allowedIovas: ranges })).toBe(0);
      expect(ictx.addReserved(ioasId, baseIova + PAGE_SIZE, PAGE_SIZE)).toBe(-98);
      expect(ictx.ioasAllowIovas({ ioasId, allowedIovas: [] })).toBe(0);
      expect(ictx.addReserved(ioasId, baseIova + PAGE_SIZE, PAGE_SIZE)).toBe(0);
      expect(ictx.ioasAllowIovas({ ioasId, allowedIovas: ranges })).toBe(-98);
      expectClean(ictx);
    });

    it("copy_area: copy inside one IOAS and into a new one", () => {
      const { ictx, ioasId, baseIova } = ioasFixture(variant, mode);
      expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, baseIova)).toBe(0);
      const pinned = ictx.mm.memory.pinned;
      const copy = {
        flags: IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
        dstIoasId: ioasId,
        srcIoasId: ioasId,
        length: PAGE_SIZE,
        srcIova: baseIova,
        dstIova: baseIova + PAGE_SIZE,
      };
      // Neither READABLE nor WRITEABLE: EINVAL, as IOAS_MAP ("Do not allow creating areas
      // without READ or WRITE").
      expect(ictx.ioasCopy({ ...copy, flags: IOMMU_IOAS_MAP_FIXED_IOVA })).toBe(-22);
      expect(ictx.ioasCopy(copy)).toBe(0);
      // The copy shares the pages: no new pin.
      expect(ictx.mm.memory.pinned).toBe(pinned);
      copy.dstIova = 0;
      copy.dstIoasId = ioasAlloc(ictx);
      expect(ictx.ioasCopy(copy)).toBe(0);
      expectClean(ictx);
    });

    it("iova_ranges: the holes of the reserved ranges, EMSGSIZE when the buffer is short", () => {
      const { ictx, ioasId } = ioasFixture(variant, mode);
      const cmd = {
        ioasId,
        numIovas: 16,
        allowedIovas: [] as { start: number | bigint; last: number | bigint }[],
        outIovaAlignment: 0,
      };
      expect(ictx.ioasIovaRanges(cmd)).toBe(0);
      expect(cmd.numIovas).toBe(1);
      if (!hasDomain) {
        expect(cmd.allowedIovas[0]).toEqual({ start: 0, last: U64_MAX });
        expect(cmd.outIovaAlignment).toBe(1);
      } else {
        expect(cmd.allowedIovas[0]).toEqual({ start: MOCK_APERTURE_START, last: MOCK_APERTURE_LAST });
        expect(cmd.outIovaAlignment).toBe(MOCK_PAGE_SIZE);
      }
      cmd.numIovas = 0;
      expect(ictx.ioasIovaRanges(cmd)).toBe(-90);
      expect(cmd.numIovas).toBe(1);
      expect(cmd.allowedIovas).toEqual([]);
      expect(ictx.addReserved(ioasId, PAGE_SIZE, PAGE_SIZE)).toBe(0);
      cmd.numIovas = 16;
      expect(ictx.ioasIovaRanges(cmd)).toBe(0);
      if (!hasDomain)
        expect(cmd.allowedIovas).toEqual([
          { start: 0, last: PAGE_SIZE - 1 },
          { start: PAGE_SIZE * 2, last: U64_MAX },
        ]);
      else expect(cmd.allowedIovas).toEqual([{ start: MOCK_APERTURE_START, last: MOCK_APERTURE_LAST }]);
      cmd.numIovas = 1;
      expect(ictx.ioasIovaRanges(cmd)).toBe(hasDomain ? 0 : -90);
      expect(cmd.numIovas).toBe(hasDomain ? 1 : 2);
      expect(cmd.allowedIovas.length).toBe(1);
      expectClean(ictx);
    });

    it("access_domain_destory: unpin across a huge page boundary when the domain goes", () => {
      const { ictx, ioasId, hwptIds, baseIova } = ioasFixture(variant, mode);
      const buf = 0x20_0000_0000;
      const bufSize = 2 * HUGEPAGE_SIZE;
      ictx.mm.memory.addRegion({ vaddr: buf, size: bufSize, kind: "hugetlb2m", seed: 3 });
      expect(mapFixed(ictx, ioasId, buf, bufSize, baseIova)).toBe(0);
      const access = ictx.accessCreate(ioasId);
      const item = ictx.accessPages(access, baseIova + PAGE_SIZE, PAGE_SIZE, { uptr: buf + PAGE_SIZE });
      expect(item).toBeGreaterThan(0);
      if (hwptIds.length) for (const id of [...hwptIds].reverse()) expect(ictx.destroy(id)).toBe(0);
      // The accessed page stays pinned (the xarray holds it), everything else went.
      expect(ictx.mm.memory.pinCount(buf + PAGE_SIZE)).toBe(1);
      expect(ictx.accessDestroyPages(access, item)).toBe(0);
      expect(ictx.destroy(access)).toBe(0);
      expect(ictx.mm.memory.pinned).toBe(0);
      expect(ictx.user.lockedVm).toBe(0);
      expectClean(ictx);
    });

    it.skipIf(!hasDomain)(
      `access_pin: accesses and domains come and go, MD_CHECK_MAP holds${hasDomain ? "" : " — skipped: the variant has no mock domain to check against (as in the kernel test)"}`,
      () => {
        const { ictx, ioasId } = ioasFixture(variant, mode);
        const access = ictx.accessCreate(ioasId);
        for (let npages = 1; npages < BUFFER_SIZE / PAGE_SIZE; npages++) {
          const len = npages * PAGE_SIZE;
          expect(mapFixed(ictx, ioasId, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)).toBe(0);
          let item = ictx.accessPages(access, MOCK_APERTURE_START, len, { uptr: BUFFER });
          expect(item).toBeGreaterThan(0);
          expect(ictx.accessDestroyPages(access, item)).toBe(0);
          // Double user
          const first = ictx.accessPages(access, MOCK_APERTURE_START, len, { uptr: BUFFER });
          item = ictx.accessPages(access, MOCK_APERTURE_START, len, { uptr: BUFFER });
          expect(first).toBeGreaterThan(0);
          expect(item).toBeGreaterThan(0);
          expect(ictx.accessDestroyPages(access, item)).toBe(0);
          expect(ictx.accessDestroyPages(access, first)).toBe(0);
          // Add/remove a domain with a user
          item = ictx.accessPages(access, MOCK_APERTURE_START, len, { uptr: BUFFER });
          const hwpt = ictx.mockDomain(ioasId);
          expect(hwpt).toBeGreaterThan(0);
          expect(ictx.mdCheckMap(hwpt, MOCK_APERTURE_START, BUFFER_SIZE, BUFFER)).toBe(0);
          expect(ictx.destroy(hwpt)).toBe(0);
          expect(ictx.accessDestroyPages(access, item)).toBe(0);
          expect(unmap(ictx, ioasId, MOCK_APERTURE_START, BUFFER_SIZE).rc).toBe(0);
          expect(ictx.mm.memory.pinned).toBe(0);
        }
        expectClean(ictx);
      },
    );

    it.skipIf(!hasDomain)(
      `access_pin_unmap: IOAS_UNMAP makes the access driver unpin${hasDomain ? "" : " — skipped: the variant has no mock domain (as in the kernel test)"}`,
      () => {
        const { ictx, ioasId } = ioasFixture(variant, mode);
        const access = ictx.accessCreate(ioasId);
        expect(mapFixed(ictx, ioasId, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)).toBe(0);
        const item = ictx.accessPages(access, MOCK_APERTURE_START, BUFFER_SIZE, { uptr: BUFFER });
        expect(item).toBeGreaterThan(0);
        expect(unmap(ictx, ioasId, MOCK_APERTURE_START, BUFFER_SIZE).rc).toBe(0);
        expect(ictx.accessDestroyPages(access, item)).toBe(-2);
        expectClean(ictx);
      },
    );

    /** check_access_rw */
    function checkAccessRw(ictx: Iommufd, access: number, iova: number, defFlags: number): void {
      const fill = new Uint8Array(BUFFER_SIZE);
      for (let i = 0; i < fill.length; i++) fill[i] = (i * 131 + 7) & 0xff;
      expect(ictx.mm.memory.copyToUser(BUFFER, fill)).toBe(0);
      const tmp = new Uint8Array(64);
      for (let at = iova + PAGE_SIZE - 50; at < iova + PAGE_SIZE + 50; at += 7)
        for (let length = 1; length < 64; length += 5) {
          const out = tmp.subarray(0, length);
          expect(ictx.accessRw(access, at, out, defFlags)).toBe(0);
          const want = new Uint8Array(length);
          ictx.mm.memory.copyFromUser(want, BUFFER + (at - iova));
          expect(sameBytes(out, want)).toBe(true);
          for (let i = 0; i < length; i++) out[i] = (at + i * 3) & 0xff;
          expect(ictx.accessRw(access, at, out, defFlags | MOCK_ACCESS_RW_WRITE)).toBe(0);
          ictx.mm.memory.copyFromUser(want, BUFFER + (at - iova));
          expect(sameBytes(want, out)).toBe(true);
        }
      const all = new Uint8Array(BUFFER_SIZE);
      expect(ictx.accessRw(access, iova, all, defFlags)).toBe(0);
      const want = new Uint8Array(BUFFER_SIZE);
      ictx.mm.memory.copyFromUser(want, BUFFER);
      expect(sameBytes(all, want)).toBe(true);
    }

    it("access_rw: fast and slow (pfn_reader) paths read and write the user pages", () => {
      const { ictx, ioasId } = ioasFixture(variant, mode);
      const access = ictx.accessCreate(ioasId, false);
      const r = mapAuto(ictx, ioasId, BUFFER, BUFFER_SIZE);
      expect(r.rc).toBe(0);
      checkAccessRw(ictx, access, r.iova, 0);
      checkAccessRw(ictx, access, r.iova, MOCK_ACCESS_RW_SLOW_PATH);
      expect(unmap(ictx, ioasId, r.iova, BUFFER_SIZE).rc).toBe(0);
      expect(ictx.destroy(access)).toBe(0);
      expectClean(ictx);
    });

    it("access_rw_unaligned: IOVA a mock page off the user page", () => {
      const { ictx, ioasId, baseIova } = ioasFixture(variant, mode);
      const access = ictx.accessCreate(ioasId, false);
      const iova = baseIova + MOCK_PAGE_SIZE;
      expect(mapFixed(ictx, ioasId, BUFFER, BUFFER_SIZE, iova)).toBe(0);
      checkAccessRw(ictx, access, iova, 0);
      expect(unmap(ictx, ioasId, iova, BUFFER_SIZE).rc).toBe(0);
      expect(ictx.destroy(access)).toBe(0);
      expectClean(ictx);
    });

    it("ioas_option_huge_pages: get, disable, bad value EINVAL, enable", () => {
      const { ictx, ioasId } = ioasFixture(variant, mode);
      const cmd = {
        optionId: IOMMU_OPTION_HUGE_PAGES,
        op: IOMMU_OPTION_OP_GET,
        objectId: ioasId,
        val64: 3 as number | bigint,
      };
      expect(ictx.option(cmd)).toBe(0);
      expect(cmd.val64).toBe(1);
      expect(ictx.option({ ...cmd, op: IOMMU_OPTION_OP_SET, val64: 0 })).toBe(0);
      cmd.val64 = 3;
      expect(ictx.option(cmd)).toBe(0);
      expect(cmd.val64).toBe(0);
      expect(ictx.option({ ...cmd, op: IOMMU_OPTION_OP_SET, val64: 2 })).toBe(-22);
      expect(ictx.option({ ...cmd, op: IOMMU_OPTION_OP_SET, val64: 1 })).toBe(0);
      expectClean(ictx);
    });

    it("ioas_iova_alloc: every length up to 2 pages (EINVAL off the mock's 2 KiB)", () => {
      const { ictx, ioasId } = ioasFixture(variant, mode);
      for (let length = 1; length < PAGE_SIZE * 2; length += hasDomain ? 1 : 97) {
        const r = mapAuto(ictx, ioasId, BUFFER, length);
        if (hasDomain && length % MOCK_PAGE_SIZE) expect(r.rc).toBe(-22);
        else {
          expect(r.rc).toBe(0);
          expect(unmap(ictx, ioasId, r.iova, length).rc).toBe(0);
        }
      }
      expectClean(ictx);
    });

    it.skipIf(hasDomain)(
      `ioas_align_change: HUGE_PAGES=0 raises the alignment to PAGE_SIZE${hasDomain ? " — skipped: the kernel test returns at once with a domain attached (alignment cannot be raised over a domain and a map)" : ""}`,
      () => {
        const { ictx, ioasId } = ioasFixture(variant, mode);
        const cmd = {
          optionId: IOMMU_OPTION_HUGE_PAGES,
          op: IOMMU_OPTION_OP_SET,
          objectId: ioasId,
          val64: 0,
        };
        expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, MOCK_APERTURE_START)).toBe(0);
        expect(ictx.option(cmd)).toBe(0);
        expect(
          mapFixed(ictx, ioasId, BUFFER + MOCK_PAGE_SIZE, PAGE_SIZE, MOCK_APERTURE_START + PAGE_SIZE),
        ).toBe(-22);
        expect(ictx.option(cmd)).toBe(0);
        expect(ictx.option({ ...cmd, val64: 1 })).toBe(0);
        expect(
          mapFixed(ictx, ioasId, BUFFER + MOCK_PAGE_SIZE, PAGE_SIZE, MOCK_APERTURE_START + PAGE_SIZE),
        ).toBe(0);
        expect(ictx.option(cmd)).toBe(-98);
        expect(unmap(ictx, ioasId, MOCK_APERTURE_START + PAGE_SIZE, PAGE_SIZE).rc).toBe(0);
        expect(unmap(ictx, ioasId, MOCK_APERTURE_START, PAGE_SIZE).rc).toBe(0);
        expectClean(ictx);
      },
    );

    it("copy_sweep: copies of every 511-byte step, ENOENT outside the source", () => {
      const { ictx, ioasId } = ioasFixture(variant, mode);
      const dst = ioasAlloc(ictx);
      const lastIova = hasDomain
        ? MOCK_APERTURE_START + BUFFER_SIZE - 1
        : MOCK_APERTURE_START + BUFFER_SIZE - 2;
      expect(mapFixed(ictx, ioasId, BUFFER, lastIova - MOCK_APERTURE_START + 1, MOCK_APERTURE_START)).toBe(0);
      const copy = {
        flags: IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
        srcIoasId: ioasId,
        dstIoasId: dst,
        dstIova: MOCK_APERTURE_START,
        length: MOCK_PAGE_SIZE,
        srcIova: 0,
      };
      for (let iova = MOCK_APERTURE_START - PAGE_SIZE; iova <= lastIova; iova += 511) {
        copy.srcIova = iova;
        if (iova < MOCK_APERTURE_START || iova + copy.length - 1 > lastIova)
          expect(ictx.ioasCopy(copy)).toBe(-2);
        else {
          expect(ictx.ioasCopy(copy)).toBe(0);
          expect(unmap(ictx, dst, copy.dstIova, copy.length).rc).toBe(0);
        }
      }
      expect(ictx.destroy(dst)).toBe(0);
      expectClean(ictx);
    });
  },
);

/** FIXTURE_VARIANT(iommufd_mock_domain) */
const MOCK_VARIANTS = [
  { name: "one_domain", mockDomains: 1, hugepages: false },
  { name: "two_domains", mockDomains: 2, hugepages: false },
  { name: "one_domain_hugepage", mockDomains: 1, hugepages: true },
  { name: "two_domains_hugepage", mockDomains: 2, hugepages: true },
] as const;

describe.each(MOCK_VARIANTS.flatMap((v) => MODES.map((m) => [v.name, m, v] as const)))(
  "iommufd_mock_domain.%s (%s read-back)",
  (_name, mode, variant) => {
    const setup = () => {
      const ictx = openIommufd({ readBack: mode });
      const ioasId = ioasAlloc(ictx);
      const hwptIds: number[] = [];
      for (let i = 0; i < variant.mockDomains; i++) hwptIds.push(ictx.mockDomain(ioasId));
      const bufSize = variant.hugepages ? HUGEPAGE_SIZE * 2 : PAGE_SIZE * 8;
      const buf = 0x30_0000_0000;
      ictx.mm.memory.addRegion({
        vaddr: buf,
        size: bufSize,
        kind: variant.hugepages ? "hugetlb2m" : "scattered",
        seed: 5,
      });
      /** check_mock_iova over every mock domain */
      const checkMockIova = (ptr: number, iova: number, length: number) => {
        for (const id of hwptIds) expect(ictx.mdCheckMap(id, iova, length, ptr)).toBe(0);
      };
      return { ictx, ioasId, hwptIds, buf, bufSize, checkMockIova };
    };

    it("basic: one page maps; EFAULT half way through and on the first page", () => {
      const { ictx, ioasId, bufSize, checkMockIova } = setup();
      const r = mapAuto(ictx, ioasId, BUFFER, PAGE_SIZE);
      expect(r.rc).toBe(0);
      checkMockIova(BUFFER, r.iova, PAGE_SIZE);
      // munmap(buf + buf_size / 2, buf_size / 2): only the first half is mapped.
      const half = 0x50_0000_0000;
      ictx.mm.memory.addRegion({
        vaddr: half,
        size: bufSize / 2,
        kind: variant.hugepages ? "hugetlb2m" : "scattered",
      });
      const before = ictx.mm.memory.pinned;
      expect(mapAuto(ictx, ioasId, half, bufSize).rc).toBe(-14);
      expect(ictx.mm.memory.pinned).toBe(before);
      expect(mapAuto(ictx, ioasId, 0x60_0000_0000, bufSize).rc).toBe(-14);
      expectClean(ictx);
    });

    it("all_aligns: every start/end at 2 KiB steps maps, checks, counts refs and unmaps", () => {
      const { ictx, ioasId, buf, bufSize, checkMockIova } = setup();
      const step = variant.hugepages ? bufSize / 16 : MOCK_PAGE_SIZE;
      expect(ictx.mdCheckRefs(buf, bufSize, 0)).toBe(0);
      for (let start = 0; start < bufSize; start += step) {
        for (
          let end = variant.hugepages ? bufSize : start + MOCK_PAGE_SIZE;
          end < bufSize;
          end += MOCK_PAGE_SIZE
        ) {
          const length = end - start;
          const r = mapAuto(ictx, ioasId, buf + start, length);
          expect(r.rc).toBe(0);
          checkMockIova(buf + start, r.iova, length);
          const s = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
          const e = Math.floor(end / PAGE_SIZE) * PAGE_SIZE;
          expect(ictx.mdCheckRefs(buf + s, e - s, 1)).toBe(0);
          expect(unmap(ictx, ioasId, r.iova, length).rc).toBe(0);
        }
      }
      expect(ictx.mdCheckRefs(buf, bufSize, 0)).toBe(0);
      expectClean(ictx);
    });

    it("all_aligns_copy: a domain added and destroyed while each area exists", () => {
      const { ictx, ioasId, hwptIds, buf, bufSize } = setup();
      const step = variant.hugepages ? bufSize / 16 : MOCK_PAGE_SIZE;
      for (let start = 0; start < bufSize; start += step) {
        for (
          let end = variant.hugepages ? bufSize : start + MOCK_PAGE_SIZE;
          end < bufSize;
          end += MOCK_PAGE_SIZE
        ) {
          const length = end - start;
          const r = mapAuto(ictx, ioasId, buf + start, length);
          expect(r.rc).toBe(0);
          const extra = ictx.mockDomain(ioasId);
          expect(extra).toBeGreaterThan(0);
          for (const id of [hwptIds[0]!, extra])
            expect(ictx.mdCheckMap(id, r.iova, length, buf + start)).toBe(0);
          const s = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
          const e = Math.floor(end / PAGE_SIZE) * PAGE_SIZE;
          expect(ictx.mdCheckRefs(buf + s, e - s, 1)).toBe(0);
          expect(ictx.destroy(extra)).toBe(0);
          expect(unmap(ictx, ioasId, r.iova, length).rc).toBe(0);
        }
      }
      expect(ictx.mdCheckRefs(buf, bufSize, 0)).toBe(0);
      expectClean(ictx);
    });

    it("user_copy: pages pinned by an access in a domain-less IOAS, copied into the mock's IOAS", () => {
      const { ictx, ioasId, checkMockIova } = setup();
      const src = ioasAlloc(ictx);
      const m = mapAuto(ictx, src, BUFFER, BUFFER_SIZE);
      expect(m.rc).toBe(0);
      const access = ictx.accessCreate(src);
      const item = ictx.accessPages(access, m.iova, BUFFER_SIZE, { uptr: BUFFER });
      expect(item).toBeGreaterThan(0);
      const copy = {
        flags: IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
        dstIoasId: ioasId,
        srcIoasId: src,
        dstIova: MOCK_APERTURE_START,
        srcIova: m.iova,
        length: BUFFER_SIZE,
      };
      expect(ictx.ioasCopy(copy)).toBe(0);
      checkMockIova(BUFFER, MOCK_APERTURE_START, BUFFER_SIZE);
      // Shared pages: pinned once, by the access.
      expect(ictx.mdCheckRefs(BUFFER, BUFFER_SIZE, 1)).toBe(0);
      expect(unmap(ictx, ioasId, MOCK_APERTURE_START, BUFFER_SIZE).rc).toBe(0);
      expect(ictx.accessDestroyPages(access, item)).toBe(0);
      expect(ictx.destroy(access)).toBe(0);
      expect(ictx.destroy(src)).toBe(0);
      expectClean(ictx);
    });

    it.skip("replace / alloc_hwpt / ro_unshare: HWPT replace, nesting and COW unshare are not modelled", () => {});
  },
);

describe("iommufd (VFIO compat ioctls)", () => {
  const unmapCmd = () => ({ argsz: 24, flags: 0, iova: MOCK_APERTURE_START, size: PAGE_SIZE });
  const mapCmd = () => ({ argsz: 32, flags: 0, iova: MOCK_APERTURE_START, size: PAGE_SIZE, vaddr: BUFFER });

  it("unmap_cmd: short argsz and unknown flags EINVAL, no compat IOAS ENODEV", () => {
    const ictx = openIommufd();
    expect(iommufdVfioUnmapDma(ictx, { ...unmapCmd(), argsz: 1 })).toBe(-22);
    expect(iommufdVfioUnmapDma(ictx, { ...unmapCmd(), flags: 1 << 31 })).toBe(-22);
    expect(iommufdVfioUnmapDma(ictx, unmapCmd())).toBe(-19);
  });

  it("map_cmd: short argsz and unknown flags EINVAL, no compat IOAS ENODEV", () => {
    const ictx = openIommufd();
    expect(iommufdVfioMapDma(ictx, { ...mapCmd(), argsz: 1 })).toBe(-22);
    expect(iommufdVfioMapDma(ictx, { ...mapCmd(), flags: 1 << 31 })).toBe(-22);
    expect(
      iommufdVfioMapDma(ictx, { ...mapCmd(), flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE }),
    ).toBe(-19);
  });

  it("set_iommu_cmd: ENODEV without a compat IOAS", () => {
    const ictx = openIommufd();
    expect(iommufdVfioSetIommu(ictx, VFIO_TYPE1v2_IOMMU)).toBe(-19);
    expect(iommufdVfioSetIommu(ictx, VFIO_TYPE1_IOMMU)).toBe(-19);
  });

  it("vfio_ioas: get ENODEV, set ENOENT for a bad id, set/get/clear", () => {
    const ictx = openIommufd();
    const cmd = { op: IOMMU_VFIO_IOAS_GET, ioasId: 0 };
    expect(iommufdVfioIoas(ictx, cmd)).toBe(-19);
    cmd.op = IOMMU_VFIO_IOAS_SET;
    expect(iommufdVfioIoas(ictx, cmd)).toBe(-2);
    const id = ioasAlloc(ictx);
    cmd.ioasId = id;
    expect(iommufdVfioIoas(ictx, cmd)).toBe(0);
    cmd.op = IOMMU_VFIO_IOAS_GET;
    cmd.ioasId = 0;
    expect(iommufdVfioIoas(ictx, cmd)).toBe(0);
    expect(cmd.ioasId).toBe(id);
    expect(iommufdVfioIoas(ictx, { op: IOMMU_VFIO_IOAS_CLEAR, ioasId: 0 })).toBe(0);
    expect(iommufdVfioIoas(ictx, cmd)).toBe(-19);
  });
});

describe.each([
  ["Ver1v2", VFIO_TYPE1v2_IOMMU],
  ["Ver1v0", VFIO_TYPE1_IOMMU],
] as const)("vfio_compat_mock_domain.%s", (_name, version) => {
  /** FIXTURE_SETUP(vfio_compat_mock_domain) */
  const setup = () => {
    const ictx = openIommufd();
    const ioasId = ioasAlloc(ictx);
    expect(ictx.mockDomain(ioasId)).toBeGreaterThan(0);
    expect(iommufdVfioIoas(ictx, { op: IOMMU_VFIO_IOAS_SET, ioasId })).toBe(0);
    expect(iommufdVfioSetIommu(ictx, version)).toBe(0);
    return { ictx, ioasId };
  };
  const RWF = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

  it("option_huge_pages: type1 v1 disables large pages", () => {
    const { ictx, ioasId } = setup();
    const cmd = {
      optionId: IOMMU_OPTION_HUGE_PAGES,
      op: IOMMU_OPTION_OP_GET,
      objectId: ioasId,
      val64: 3 as number | bigint,
    };
    expect(ictx.option(cmd)).toBe(0);
    expect(cmd.val64).toBe(version === VFIO_TYPE1_IOMMU ? 0 : 1);
    expectClean(ictx);
  });

  it("map: map/unmap, UNMAP_FLAG_ALL needs 0 iova/size, page by page in shuffled order", () => {
    const { ictx } = setup();
    const map = { argsz: 32, flags: RWF, vaddr: BUFFER, size: BUFFER_SIZE, iova: MOCK_APERTURE_START };
    const unmapCmd = { argsz: 24, flags: 0, size: BUFFER_SIZE as number | bigint, iova: MOCK_APERTURE_START };
    expect(iommufdVfioMapDma(ictx, map)).toBe(0);
    expect(iommufdVfioUnmapDma(ictx, unmapCmd)).toBe(0);
    expect(unmapCmd.size).toBe(BUFFER_SIZE);
    expect(iommufdVfioMapDma(ictx, map)).toBe(0);
    unmapCmd.flags = VFIO_DMA_UNMAP_FLAG_ALL;
    expect(iommufdVfioUnmapDma(ictx, unmapCmd)).toBe(-22);
    unmapCmd.iova = 0;
    unmapCmd.size = 0;
    expect(iommufdVfioUnmapDma(ictx, unmapCmd)).toBe(0);
    expect(unmapCmd.size).toBe(BUFFER_SIZE);
    const pages: number[] = [];
    for (let i = 0; i < BUFFER_SIZE / PAGE_SIZE; i++) {
      pages.push(MOCK_APERTURE_START + i * PAGE_SIZE);
      expect(
        iommufdVfioMapDma(ictx, { ...map, iova: pages[i]!, vaddr: BUFFER + i * PAGE_SIZE, size: PAGE_SIZE }),
      ).toBe(0);
    }
    // shuffle_array with a fixed permutation
    const order = pages.map((p, i) => [(i * 7) % pages.length, p] as const).sort((a, b) => a[0] - b[0]);
    for (const [, iova] of order)
      expect(iommufdVfioUnmapDma(ictx, { argsz: 24, flags: 0, iova, size: PAGE_SIZE })).toBe(0);
    expectClean(ictx);
  });

  it("huge_map: type1 v1 cuts a 2 × hugepage map into 16 pieces; v2 gets ENOENT", () => {
    const { ictx } = setup();
    const buf = 0x20_0000_0000;
    const bufSize = HUGEPAGE_SIZE * 2;
    ictx.mm.memory.addRegion({ vaddr: buf, size: bufSize, kind: "hugetlb2m" });
    expect(
      iommufdVfioMapDma(ictx, {
        argsz: 32,
        flags: RWF,
        vaddr: buf,
        size: bufSize,
        iova: MOCK_APERTURE_START,
      }),
    ).toBe(0);
    const piece = bufSize / 16;
    const iovas = Array.from({ length: 16 }, (_, i) => MOCK_APERTURE_START + ((i * 5) % 16) * piece);
    for (const iova of iovas)
      expect(iommufdVfioUnmapDma(ictx, { argsz: 24, flags: 0, iova, size: piece })).toBe(
        version === VFIO_TYPE1_IOMMU ? 0 : -2,
      );
    expect(ictx.mm.memory.pinned).toBe(version === VFIO_TYPE1_IOMMU ? 0 : bufSize / PAGE_SIZE);
    expectClean(ictx);
  });
});

describe("hugepage areas keep 2 MiB alignment", () => {
  it("area_auto_iova keeps a 2 MiB aligned uptr's alignment up to HPAGE_SIZE", () => {
    const ictx = openIommufd();
    ictx.mm.memory.addRegion({ vaddr: 0x40_0000_0000, size: 2 * SZ_2M, kind: "hugetlb2m" });
    const ioasId = ioasAlloc(ictx);
    const r = mapAuto(ictx, ioasId, 0x40_0000_0000, 2 * SZ_2M);
    expect(r.rc).toBe(0);
    expect(r.iova % SZ_2M).toBe(0);
    expect(r.iova).toBe(SZ_2M);
    expectClean(ictx);
  });
});

describe("check_area_prot (device.c)", () => {
  it("a write pin of a read-only area and a read of a write-only area are EPERM", () => {
    const ictx = openIommufd();
    const ioasId = ioasAlloc(ictx);
    expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, PAGE_SIZE, IOMMU_IOAS_MAP_READABLE)).toBe(0);
    expect(mapFixed(ictx, ioasId, BUFFER, PAGE_SIZE, 2 * PAGE_SIZE, IOMMU_IOAS_MAP_WRITEABLE)).toBe(0);
    const pinner = ictx.accessCreate(ioasId);
    expect(ictx.accessPages(pinner, PAGE_SIZE, PAGE_SIZE, { write: true })).toBe(-1);
    expect(ictx.accessPages(pinner, PAGE_SIZE, PAGE_SIZE)).toBeGreaterThan(0);
    const rw = ictx.accessCreate(ioasId, false);
    expect(ictx.accessRw(rw, 2 * PAGE_SIZE, new Uint8Array(8))).toBe(-1);
    expect(ictx.accessRw(rw, 2 * PAGE_SIZE, new Uint8Array(8), MOCK_ACCESS_RW_WRITE)).toBe(0);
    expectClean(ictx);
  });
});
