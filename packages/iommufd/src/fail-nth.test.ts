// tools/testing/selftests/iommu/iommufd_fail_nth.c: every operation of a scenario is run with
// its N-th allocation failing, N = 1, 2, … until it succeeds; after each failure the IOAS, the
// domains' translations, pin counts and locked-memory accounting equal their state before the
// call, and tearing everything down leaves nothing pinned or charged and no WARN.
import { IommuError, PAGE_SIZE, SZ_2M, TableAllocator } from "@iommu/core";
import { createPtDomain, type PtDomain } from "@iommu/generic-pt";
import { afterAll, describe, expect, it } from "vitest";
import type { ReadBackMode } from "./context.js";
import type { Iommufd } from "./iommufd.js";
import { MOCK_APERTURE_START } from "./selftest.js";
import {
  BUFFER,
  BUFFER_SIZE,
  mapFixed,
  openIommufd,
  RW,
  setProbe,
  stateOf,
  teardown,
  unmap,
} from "./testing/harness.js";
import { IOMMU_IOAS_MAP_FIXED_IOVA, MOCK_ACCESS_RW_SLOW_PATH } from "./uapi.js";

/** The objects a scenario's steps share. */
interface Env {
  ictx: Iommufd;
  ids: Record<string, number>;
}

type Step = [name: string, run: (env: Env) => number];

const AMD_IOVA = 0x80_0000_0000;
const HUGE = 0x40_0000_0000;
/** 64-bit IOVAs: an area crossing 2^53, and the top 4 MiB of the space (ending at 2^64 − 1). */
const CROSS_53 = 2n ** 53n - BigInt(SZ_2M);
const TOP = 2n ** 64n - 4n * BigInt(SZ_2M / 2);

/**
 * Attach an AMDv1 domain whose page-table pages fail under the context's fault injection; the
 * driver's own allocation failing (the top table) is its domain_alloc's -ENOMEM.
 */
function attachAmdv1(e: Env, key: string): number {
  const allocator = new TableAllocator();
  allocator.alloc = e.ictx.fault.wrapAlloc(allocator.alloc.bind(allocator));
  let domain: PtDomain;
  try {
    domain = createPtDomain("amdv1", { allocator });
  } catch (err) {
    if (err instanceof IommuError) return -err.errno;
    throw err;
  }
  const id = e.ictx.attachDomain(e.ids.ioas!, domain);
  if (id > 0) e.ids[key] = id;
  return ok(id);
}

function ok(rc: number): number {
  return Math.min(rc, 0);
}

/** Record an object id returned by a step; the step's result is 0 or the errno. */
function keep(e: Env, key: string, id: number): number {
  if (id > 0) e.ids[key] = id;
  return ok(id);
}

const pinAt = (env: Env, iova: number | bigint, len: number) => {
  const id = env.ictx.accessPages(env.ids.access!, iova, len);
  if (id > 0) env.ids.item = id;
  return ok(id);
};

/** iommufd_fail_nth.c scenarios (and the attach-fill / amdv1 paths the model adds). */
const SCENARIOS: Record<string, Step[]> = {
  // TEST_FAIL_NTH(basic_fail_nth, basic)
  basic: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["map", (e) => mapFixed(e.ictx, e.ids.ioas!, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)],
    ["copy", (e) => copy(e, MOCK_APERTURE_START, MOCK_APERTURE_START + BUFFER_SIZE)],
    ["unmap", (e) => unmap(e.ictx, e.ids.ioas!, MOCK_APERTURE_START, BUFFER_SIZE).rc],
  ],
  // TEST_FAIL_NTH(basic_fail_nth, map_domain)
  map_domain: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["mock_domain", (e) => keep(e, "hwpt", e.ictx.mockDomain(e.ids.ioas!))],
    ["map", (e) => mapFixed(e.ictx, e.ids.ioas!, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)],
    ["destroy domain", (e) => e.ictx.destroy(e.ids.hwpt!)],
    ["mock_domain (fill)", (e) => keep(e, "hwpt", e.ictx.mockDomain(e.ids.ioas!))],
    ["unmap", (e) => unmap(e.ictx, e.ids.ioas!, MOCK_APERTURE_START, BUFFER_SIZE).rc],
  ],
  // TEST_FAIL_NTH(basic_fail_nth, map_two_domains)
  map_two_domains: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["mock_domain", (e) => keep(e, "hwpt", e.ictx.mockDomain(e.ids.ioas!))],
    ["mock_domain 2 (huge)", (e) => keep(e, "hwpt2", e.ictx.mockDomain(e.ids.ioas!, "huge"))],
    ["map", (e) => mapFixed(e.ictx, e.ids.ioas!, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)],
    ["destroy domain", (e) => e.ictx.destroy(e.ids.hwpt!)],
    ["unmap", (e) => unmap(e.ictx, e.ids.ioas!, MOCK_APERTURE_START, BUFFER_SIZE).rc],
  ],
  // TEST_FAIL_NTH(basic_fail_nth, access_rw)
  access_rw: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["map", (e) => mapFixed(e.ictx, e.ids.ioas!, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)],
    ["access_create", (e) => keep(e, "access", e.ictx.accessCreate(e.ids.ioas!, false))],
    ["rw", (e) => e.ictx.accessRw(e.ids.access!, MOCK_APERTURE_START + 100, new Uint8Array(PAGE_SIZE * 3))],
    [
      "rw slow",
      (e) =>
        e.ictx.accessRw(
          e.ids.access!,
          MOCK_APERTURE_START + 100,
          new Uint8Array(PAGE_SIZE * 3),
          MOCK_ACCESS_RW_SLOW_PATH,
        ),
    ],
  ],
  // TEST_FAIL_NTH(basic_fail_nth, access_pin)
  access_pin: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["map", (e) => mapFixed(e.ictx, e.ids.ioas!, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)],
    ["access_create", (e) => keep(e, "access", e.ictx.accessCreate(e.ids.ioas!))],
    ["access_pages", (e) => pinAt(e, MOCK_APERTURE_START, BUFFER_SIZE)],
    ["access_pages again", (e) => pinAt(e, MOCK_APERTURE_START + PAGE_SIZE, PAGE_SIZE * 2)],
  ],
  // TEST_FAIL_NTH(basic_fail_nth, access_pin_domain)
  access_pin_domain: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["mock_domain", (e) => keep(e, "hwpt", e.ictx.mockDomain(e.ids.ioas!))],
    ["map", (e) => mapFixed(e.ictx, e.ids.ioas!, BUFFER, BUFFER_SIZE, MOCK_APERTURE_START)],
    ["access_create", (e) => keep(e, "access", e.ictx.accessCreate(e.ids.ioas!))],
    ["access_pages (from domain)", (e) => pinAt(e, MOCK_APERTURE_START + PAGE_SIZE, PAGE_SIZE * 5)],
    ["destroy domain (carry)", (e) => e.ictx.destroy(e.ids.hwpt!)],
  ],
  // Model: generic_pt AMDv1 domains, whose page-table pages fail too (2 MiB hugetlb, a batch
  // limit of one entry, fill on attach, copy into a populated IOAS).
  amdv1_huge: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["attach amdv1", (e) => attachAmdv1(e, "hwpt")],
    ["map 4M hugetlb", (e) => mapFixed(e.ictx, e.ids.ioas!, HUGE, 2 * SZ_2M, AMD_IOVA)],
    ["attach amdv1 (fill)", (e) => attachAmdv1(e, "hwpt2")],
    // generic_pt refuses a prot without READ/WRITE (README, known quirks): copy readable+writeable.
    ["copy", (e) => copy(e, AMD_IOVA, AMD_IOVA + 4 * SZ_2M, 2 * SZ_2M, RW)],
    ["access_create", (e) => keep(e, "access", e.ictx.accessCreate(e.ids.ioas!))],
    ["access_pages", (e) => pinAt(e, AMD_IOVA + SZ_2M - PAGE_SIZE, 2 * PAGE_SIZE)],
    ["unmap copy", (e) => unmap(e.ictx, e.ids.ioas!, AMD_IOVA + 4 * SZ_2M, 2 * SZ_2M).rc],
  ],
  // Model: the same on 64-bit IOVAs — an area crossing 2^53, a copy onto the last 4 MiB.
  amdv1_64bit: [
    ["ioas_alloc", (e) => ok(allocIoas(e))],
    ["attach amdv1", (e) => attachAmdv1(e, "hwpt")],
    ["map 4M hugetlb across 2^53", (e) => mapFixed(e.ictx, e.ids.ioas!, HUGE, 2 * SZ_2M, CROSS_53)],
    ["attach amdv1 (fill)", (e) => attachAmdv1(e, "hwpt2")],
    ["copy to the top", (e) => copy(e, CROSS_53, TOP, 2 * SZ_2M, RW)],
    ["access_create", (e) => keep(e, "access", e.ictx.accessCreate(e.ids.ioas!))],
    ["access_pages across 2^53", (e) => pinAt(e, 2n ** 53n - BigInt(PAGE_SIZE), 2 * PAGE_SIZE)],
    ["unmap the top", (e) => unmap(e.ictx, e.ids.ioas!, TOP, 2 * SZ_2M).rc],
  ],
};

function allocIoas(e: Env): number {
  const cmd = { flags: 0, outIoasId: 0 };
  const rc = e.ictx.ioasAlloc(cmd);
  e.ids.ioas = cmd.outIoasId;
  return rc;
}

function copy(e: Env, src: number | bigint, dst: number | bigint, length = BUFFER_SIZE, flags = RW): number {
  return e.ictx.ioasCopy({
    flags: IOMMU_IOAS_MAP_FIXED_IOVA | flags,
    srcIoasId: e.ids.ioas!,
    dstIoasId: e.ids.ioas!,
    srcIova: src,
    dstIova: dst,
    length,
  });
}

function fresh(mode: ReadBackMode, limit: number): Env {
  const ictx = openIommufd({ readBack: mode });
  ictx.mm.memory.addRegion({ vaddr: HUGE, size: 2 * SZ_2M, kind: "hugetlb2m", seed: 11 });
  if (limit) ictx.setTempMemoryLimit(limit);
  return { ictx, ids: {} };
}

const totals = { runs: 0, failures: 0 };

describe.each([
  ["legacy", 0],
  ["length", 0],
  ["legacy", 16],
  ["length", 16],
  ["runs", 0],
  ["runs", 16],
] as const)("iommufd_fail_nth (%s read-back, temp limit %i)", (mode, limit) => {
  // The 16-byte limit makes every GUP call pin 2 pages: the 4 MiB scenario would take minutes.
  for (const [name, steps] of Object.entries(SCENARIOS).filter(([n]) => !limit || !n.startsWith("amdv1")))
    it(`${name}: every allocation of every step fails cleanly`, () => {
      if (name === "amdv1_64bit") setProbe([CROSS_53, TOP], 2 * SZ_2M);
      else setProbe([MOCK_APERTURE_START, AMD_IOVA], name === "amdv1_huge" ? 6 * SZ_2M : 2 * BUFFER_SIZE);
      for (let k = 0; k < steps.length; k++) {
        for (let n = 1; ; n++) {
          const env = fresh(mode, limit);
          for (let j = 0; j < k; j++) expect(steps[j]![1](env), `${steps[j]![0]} (setup)`).toBe(0);
          const before = stateOf(env.ictx);
          const warns = env.ictx.warns.warns;
          env.ictx.fault.failNth(n);
          const rc = steps[k]![1](env);
          const fired = !env.ictx.fault.armed;
          env.ictx.fault.failNth(0);
          totals.runs++;
          expect(env.ictx.warns.warns, `${steps[k]![0]} fail ${n}: WARN`).toBe(warns);
          if (!fired) {
            expect(rc, `${steps[k]![0]} without a failure`).toBe(0);
            expect(teardown(env.ictx)).toEqual({ pinned: 0, lockedVm: 0, pinnedVm: 0, warns: 0 });
            break;
          }
          totals.failures++;
          expect(rc, `${steps[k]![0]} fail ${n}`).toBeLessThan(0);
          expect(stateOf(env.ictx), `${steps[k]![0]} fail ${n}: state`).toEqual(before);
          expect(teardown(env.ictx)).toEqual({ pinned: 0, lockedVm: 0, pinnedVm: 0, warns: 0 });
        }
      }
    });
});

afterAll(() => {
  // The report quotes these: operations run and injected failures checked.
  console.log(`fail-nth: ${totals.runs} runs, ${totals.failures} injected failures`);
});
