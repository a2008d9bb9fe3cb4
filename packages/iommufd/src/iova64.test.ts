// drivers/iommu/iommufd/{ioas.c,io_pagetable.c,pages.c}: IOVAs are `unsigned long` — the IOAS
// ioctls, the area/allowed/reserved trees, the read-back loops and the accesses at 2^53 − 1,
// 2^53, 2^63 and up to 2^64 − 1, with -EOVERFLOW / -EINVAL where the kernel's checks put them.
import {
  type Addr,
  iommuIovaToPhysLength,
  PAGE_SIZE,
  SZ_2M,
  SZ_4K,
  TableAllocator,
  toBigInt,
  UserMm,
} from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import { describe, expect, it } from "vitest";
import { READ_BACK_MODES, type ReadBackMode } from "./context.js";
import { Iommufd } from "./iommufd.js";
import { IOVA_MAX, ioptAllocIova } from "./iopt.js";
import { ioasAlloc, RW, teardown, unmap } from "./testing/harness.js";
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  type IommuIoasIovaRanges,
  type IommuIovaRange,
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
} from "./uapi.js";
import {
  IOMMU_VFIO_IOAS_SET,
  iommufdVfioIoas,
  iommufdVfioMapDma,
  iommufdVfioUnmapDma,
} from "./vfio-compat.js";

const EPERM = -1;
const ENOENT = -2;
const EFAULT = -14;
const EINVAL = -22;
const ENOSPC = -28;
const EOVERFLOW = -75;

const U64_MAX = (1n << 64n) - 1n;
const P53 = 2n ** 53n;
const P63 = 2n ** 63n;
const P64 = 2n ** 64n;
const VA = 0x40_0000_0000;
const LOW_IOVA = 0x80_0000_0000;

function fixture(mode: ReadBackMode = "legacy", kind: "hugetlb2m" | "scattered" = "hugetlb2m") {
  const mm = new UserMm();
  mm.memory.addRegion({ vaddr: VA, size: 2 * SZ_2M, kind, seed: 3 });
  const ictx = new Iommufd({ mm, readBack: mode });
  const ioas = ioasAlloc(ictx);
  return { ictx, ioas };
}

/** generic_pt AMDv1 (64-bit IOVA, aperture [0, 2^64 − 1]) limited to 4 KiB | 2 MiB pages. */
function amdv1() {
  const d = createPtDomain("amdv1", { allocator: new TableAllocator() });
  d.pgsizeBitmap = SZ_4K | SZ_2M;
  return d;
}

function mapAt(ictx: Iommufd, ioasId: number, uptr: Addr, length: Addr, iova: Addr): number {
  return ictx.ioasMap({ flags: RW | IOMMU_IOAS_MAP_FIXED_IOVA, ioasId, userVa: uptr, length, iova });
}

function mapAuto(ictx: Iommufd, ioasId: number, uptr: number, length: number): { rc: number; iova: bigint } {
  const cmd = { flags: RW, ioasId, userVa: uptr, length, iova: 0 as Addr };
  const rc = ictx.ioasMap(cmd);
  return { rc, iova: toBigInt(cmd.iova) };
}

function ranges(ictx: Iommufd, ioasId: number): IommuIovaRange[] {
  const cmd: IommuIoasIovaRanges = { ioasId, numIovas: 8, allowedIovas: [] };
  expect(ictx.ioasIovaRanges(cmd)).toBe(0);
  return cmd.allowedIovas;
}

/** The IOVA as the core's Addr: a number up to 2^53 − 1, a bigint above. */
function addr(v: bigint): Addr {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Map `length` bytes of the user region at `iova` into an IOAS with one AMDv1 domain, then run
 * every read-back path over it: md_check_pa, a second domain attached to the populated IOAS
 * (filled from the first by read-back), an access pin with the pfns checked against the user
 * pages, access_rw of the first and last byte (both paths), and the unmap. Returns the counters
 * of each step, so the same map at a low IOVA can be compared.
 */
function scenario(mode: ReadBackMode, iova: bigint, length: number) {
  const { ictx, ioas } = fixture(mode);
  const d1 = amdv1();
  const hwpt1 = ictx.attachDomain(ioas, d1);
  expect(hwpt1).toBeGreaterThan(0);
  expect(mapAt(ictx, ioas, VA, length, addr(iova))).toBe(0);
  const area = ictx.ioasOf(ioas).iopt.areas[0]!;
  expect(toBigInt(area.iova)).toBe(iova);
  expect(toBigInt(area.lastIova)).toBe(iova + BigInt(length) - 1n);
  // The domain maps the first and the last byte to the user pages behind them.
  for (const [off, va] of [
    [0n, VA],
    [BigInt(length) - 1n, VA + length - 1],
  ] as const) {
    const r = iommuIovaToPhysLength(d1, addr(iova + off));
    expect(r.mapped).toBe(true);
    expect(r.physNumber).toBe(ictx.mm.memory.translate(va));
  }
  const steps: Record<string, number> = {};
  const walks = { n: 0 };
  expect(ictx.mdCheckMap(hwpt1, addr(iova), length, VA, walks)).toBe(0);
  steps.mdCheckWalks = walks.n;
  ictx.counters.reset();
  const d2 = amdv1();
  const hwpt2 = ictx.attachDomain(ioas, d2);
  expect(hwpt2).toBeGreaterThan(0);
  steps.attachWalks = ictx.counters.iovaToPhys;
  steps.attachMaps = ictx.counters.mapCalls;
  expect(ictx.mdCheckMap(hwpt2, addr(iova), length, VA)).toBe(0);
  // Detach the first: the second becomes the storage domain the access and unmap read back.
  expect(ictx.destroy(hwpt1)).toBe(0);
  ictx.counters.reset();
  const access = ictx.accessCreate(ioas);
  expect(access).toBeGreaterThan(0);
  if (length > SZ_2M) {
    // Read back from the domain across a 2 MiB leaf's end (two leaves, not contiguous).
    const at = SZ_2M - SZ_4K;
    const straddle = ictx.accessPages(access, addr(iova + BigInt(at)), 2 * SZ_4K, { uptr: VA + at });
    expect(straddle).toBeGreaterThan(0);
    expect(ictx.accessDestroyPages(access, straddle)).toBe(0);
  }
  const item = ictx.accessPages(access, addr(iova), length, { uptr: VA });
  expect(item).toBeGreaterThan(0);
  steps.pinWalks = ictx.counters.iovaToPhys;
  for (const flags of [0, MOCK_ACCESS_RW_SLOW_PATH])
    for (const off of [0, length - 1]) {
      const w = new Uint8Array([0x5a ^ off ^ flags]);
      expect(ictx.accessRw(access, addr(iova + BigInt(off)), w, flags | MOCK_ACCESS_RW_WRITE)).toBe(0);
      const r = new Uint8Array(1);
      expect(ictx.accessRw(access, addr(iova + BigInt(off)), r, flags)).toBe(0);
      expect(r[0]).toBe(w[0]);
      const back = new Uint8Array(1);
      expect(ictx.mm.memory.copyFromUser(back, VA + off)).toBe(0);
      expect(back[0]).toBe(w[0]);
    }
  expect(ictx.accessDestroyPages(access, item)).toBe(0);
  expect(ictx.destroy(access)).toBe(0);
  ictx.counters.reset();
  const u = { ioasId: ioas, iova: addr(iova), length: length as Addr };
  expect(ictx.ioasUnmap(u)).toBe(0);
  expect(u.length).toBe(length);
  steps.unmapWalks = ictx.counters.iovaToPhys;
  steps.unmapCalls = ictx.counters.unmapCalls;
  expect(iommuIovaToPhysLength(d2, addr(iova)).mapped).toBe(false);
  expect(teardown(ictx)).toEqual({ pinned: 0, lockedVm: 0, pinnedVm: 0, warns: 0 });
  return steps;
}

describe("areas, read-back and accesses above 2^53 (AMDv1, 64-bit aperture)", () => {
  const placements: [string, bigint, number][] = [
    ["an area whose last byte is 2^53 − 1", P53 - BigInt(SZ_2M), SZ_2M],
    ["an area at 2^53", P53, SZ_2M],
    ["an area at 2^53 + 4K (4 KiB leaves)", P53 + 4096n, SZ_2M],
    ["an area crossing 2^53", P53 - BigInt(SZ_2M / 2), SZ_2M],
    ["an area at 2^63", P63, 2 * SZ_2M],
    ["the last 2 MiB, ending at 2^64 − 1", P64 - BigInt(SZ_2M), SZ_2M],
    ["the last page, 2^64 − 4K .. 2^64 − 1", P64 - 4096n, SZ_4K],
  ];
  for (const mode of READ_BACK_MODES)
    it.each(placements)(`${mode}: %s reads back like the same map at a low IOVA`, (_, iova, length) => {
      const high = scenario(mode, iova, length);
      const low = scenario(mode, BigInt(LOW_IOVA) + (iova % BigInt(SZ_2M)), length);
      expect(high).toEqual(low);
      // The read-back really ran: the attach read the pages back from the first domain.
      expect(high.attachWalks).toBeGreaterThan(0);
    });
});

describe("IOMMU_IOAS_IOVA_RANGES over the 64-bit space", () => {
  it("an empty IOAS and one with an AMDv1 domain report [0, 2^64 − 1]", () => {
    const { ictx, ioas } = fixture();
    expect(ranges(ictx, ioas)).toEqual([{ start: 0, last: U64_MAX }]);
    expect(ictx.attachDomain(ioas, amdv1())).toBeGreaterThan(0);
    expect(ranges(ictx, ioas)).toEqual([{ start: 0, last: U64_MAX }]);
  });

  it("a reserved page at 2^63 and one at 2^64 − 4K split it exactly", () => {
    const { ictx, ioas } = fixture();
    expect(ictx.addReserved(ioas, P63, 4096)).toBe(0);
    expect(ictx.addReserved(ioas, P64 - 4096n, 4096)).toBe(0);
    expect(ranges(ictx, ioas)).toEqual([
      { start: 0, last: P63 - 1n },
      { start: P63 + 4096n, last: P64 - 4097n },
    ]);
  });

  it("a VT-d second-stage domain (48-bit aperture) reserves [2^48, 2^64 − 1]", () => {
    const { ictx, ioas } = fixture();
    expect(
      ictx.attachDomain(ioas, createPtDomain("vtdss", { allocator: new TableAllocator() })),
    ).toBeGreaterThan(0);
    expect(ranges(ictx, ioas)).toEqual([{ start: 0, last: 2 ** 48 - 1 }]);
    expect(mapAt(ictx, ioas, VA, SZ_2M, P53)).toBe(EINVAL);
  });
});

describe("automatic IOVA above 2^53", () => {
  it("allowed [2^63, 2^64 − 1]: areas are placed from 2^63, unmap-all takes them all", () => {
    const { ictx, ioas } = fixture();
    expect(ictx.attachDomain(ioas, amdv1())).toBeGreaterThan(0);
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [{ start: P63, last: U64_MAX }] })).toBe(0);
    const a = mapAuto(ictx, ioas, VA, SZ_2M);
    const b = mapAuto(ictx, ioas, VA + SZ_2M, SZ_2M);
    expect(a).toEqual({ rc: 0, iova: P63 });
    expect(b).toEqual({ rc: 0, iova: P63 + BigInt(SZ_2M) });
    const cmd = { ioasId: ioas, iova: 0 as Addr, length: U64_MAX as Addr };
    expect(ictx.ioasUnmap(cmd)).toBe(0);
    expect(cmd.length).toBe(2 * SZ_2M);
    expect(ictx.ioasOf(ioas).iopt.areas).toEqual([]);
    expect(ictx.mm.memory.pinned).toBe(0);
  });

  it("allowed [2^53 + 4K, 2^53 + 8M]: the first 2 MiB aligned IOVA is 2^53 + 2M", () => {
    const { ictx, ioas } = fixture();
    const allowed = [{ start: P53 + 4096n, last: P53 + 8n * BigInt(SZ_2M / 2) }];
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: allowed })).toBe(0);
    expect(mapAuto(ictx, ioas, VA, SZ_2M)).toEqual({ rc: 0, iova: P53 + BigInt(SZ_2M) });
  });

  it("the top page is never allocated (the span ends at ULONG_MAX − PAGE_SIZE): -ENOSPC", () => {
    const { ictx, ioas } = fixture();
    const start = P64 - 4n * BigInt(SZ_2M);
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [{ start, last: U64_MAX }] })).toBe(0);
    expect(mapAuto(ictx, ioas, VA, SZ_2M)).toEqual({ rc: 0, iova: start });
    expect(mapAuto(ictx, ioas, VA, SZ_2M)).toEqual({ rc: 0, iova: start + BigInt(SZ_2M) });
    expect(mapAuto(ictx, ioas, VA, SZ_2M)).toEqual({ rc: 0, iova: start + 2n * BigInt(SZ_2M) });
    // [2^64 − 2M, 2^64 − 1] minus the last page holds no 2 MiB.
    expect(mapAuto(ictx, ioas, VA, SZ_2M).rc).toBe(ENOSPC);
    expect(mapAuto(ictx, ioas, VA, SZ_2M - SZ_4K).rc).toBe(0);
  });

  it("iopt_alloc_iova: length ≥ ULONG_MAX / 2 is -EOVERFLOW (roundup_pow_of_two guard); below it the alignment caps at HPAGE_SIZE", () => {
    const { ictx, ioas } = fixture();
    const iopt = ictx.ioasOf(ioas).iopt;
    const out = { iova: 0n };
    expect(ioptAllocIova(iopt, out, 0, P63 - 1n)).toBe(EOVERFLOW);
    expect(ioptAllocIova(iopt, out, 0, P63 - 2n)).toBe(0);
    // roundup_pow_of_two(2^63 − 2) = 2^63, capped to 2 MiB: the first 2 MiB step above PAGE_SIZE.
    expect(out.iova).toBe(BigInt(SZ_2M));
  });

  it("ALIGN() wraps past 2^64 − 1: an allowed hole just below the top yields IOVA 0 (kernel arithmetic, reproduced)", () => {
    // __alloc_iova_check_used: ALIGN(2^64 − 1 MiB − 8K, 2 MiB) is 0 in u64, which then passes
    // both checks; the area lands at 0, outside the allowed range (HPAGE_SIZE capping the
    // alignment does not prevent this).
    const { ictx, ioas } = fixture();
    const start = P64 - BigInt(SZ_2M / 2) - 8192n;
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [{ start, last: U64_MAX }] })).toBe(0);
    expect(mapAuto(ictx, ioas, VA, SZ_2M / 2 + SZ_4K)).toEqual({ rc: 0, iova: 0n });
    expect(ictx.warns.warns).toBe(0);
  });
});

describe("unmap-all over areas above 2^53", () => {
  it("areas at 2^53, 2^63 and the last page: every one unmapped, the byte count exact", () => {
    const { ictx, ioas } = fixture("length");
    const d = amdv1();
    expect(ictx.attachDomain(ioas, d)).toBeGreaterThan(0);
    expect(mapAt(ictx, ioas, VA, SZ_2M, P53)).toBe(0);
    expect(mapAt(ictx, ioas, VA + SZ_2M, SZ_2M, P63)).toBe(0);
    expect(mapAt(ictx, ioas, VA, SZ_4K, P64 - 4096n)).toBe(0);
    const cmd = { ioasId: ioas, iova: 0 as Addr, length: U64_MAX as Addr };
    expect(ictx.ioasUnmap(cmd)).toBe(0);
    expect(cmd.length).toBe(2 * SZ_2M + SZ_4K);
    for (const iova of [P53, P63, P64 - 1n]) expect(iommuIovaToPhysLength(d, iova).mapped).toBe(false);
    expect(ictx.mm.memory.pinned).toBe(0);
  });

  it("lazy areas (no domain) of 2^52 bytes each: the unmapped length 2^53 comes back as an exact bigint", () => {
    const { ictx, ioas } = fixture();
    expect(mapAt(ictx, ioas, VA, 2 ** 52, P63)).toBe(0);
    expect(mapAt(ictx, ioas, VA, 2 ** 52, P63 + 2n ** 52n)).toBe(0);
    // A range that only partly covers an area is -ENOENT.
    expect(unmap(ictx, ioas, P63 + 2n ** 52n, 4096).rc).toBe(ENOENT);
    const cmd = { ioasId: ioas, iova: 0 as Addr, length: U64_MAX as Addr };
    expect(ictx.ioasUnmap(cmd)).toBe(0);
    expect(cmd.length).toBe(P53);
  });
});

describe("-EOVERFLOW / -EINVAL at the top of the 64-bit space (ioas.c, io_pagetable.c, pages.c)", () => {
  function withDomain() {
    const f = fixture();
    expect(f.ictx.attachDomain(f.ioas, amdv1())).toBeGreaterThan(0);
    return f;
  }

  it("IOAS_MAP: iova or length ≥ ULONG_MAX, or iova + length − 1 past 2^64 − 1, is -EOVERFLOW", () => {
    const { ictx, ioas } = withDomain();
    expect(mapAt(ictx, ioas, VA, SZ_4K, U64_MAX)).toBe(EOVERFLOW);
    expect(mapAt(ictx, ioas, VA, U64_MAX, 0)).toBe(EOVERFLOW);
    expect(mapAt(ictx, ioas, VA, 2 * SZ_4K, P64 - 4096n)).toBe(EOVERFLOW);
    // Ending exactly at 2^64 − 1 is fine.
    expect(mapAt(ictx, ioas, VA, SZ_4K, P64 - 4096n)).toBe(0);
    expect(ictx.ioasOf(ioas).iopt.areas.map((a) => a.lastIova)).toEqual([U64_MAX]);
  });

  it("IOAS_MAP without a domain (alignment 1): a byte at 2^64 − 1, two bytes there wrap", () => {
    const { ictx, ioas } = fixture();
    expect(mapAt(ictx, ioas, VA, 2, U64_MAX - 1n)).toBe(0);
    expect(mapAt(ictx, ioas, VA, 2, P53 - 1n)).toBe(0);
    expect(ictx.ioasOf(ioas).iopt.areas.map((a) => [a.iova, a.lastIova])).toEqual([
      [Number.MAX_SAFE_INTEGER, P53],
      [U64_MAX - 1n, U64_MAX],
    ]);
    // iova = ULONG_MAX itself is refused by the ioctl before the range check.
    expect(mapAt(ictx, ioas, VA, 1, U64_MAX)).toBe(EOVERFLOW);
  });

  it("user_va: uptr + length past 2^64 − 1 is -EOVERFLOW, a length above SIZE_MAX − PAGE_SIZE -EINVAL, above the model's user space -EFAULT", () => {
    const { ictx, ioas } = withDomain();
    expect(mapAt(ictx, ioas, P64 - 4096n, 2 * SZ_4K, LOW_IOVA)).toBe(EOVERFLOW);
    expect(mapAt(ictx, ioas, 0, U64_MAX - 1n, LOW_IOVA)).toBe(EINVAL);
    expect(mapAt(ictx, ioas, 2n ** 60n, SZ_4K, LOW_IOVA)).toBe(EFAULT);
  });

  it("IOAS_UNMAP: wrap, iova = ULONG_MAX, length = U64_MAX without iova 0 → -EOVERFLOW; nothing there → -ENOENT", () => {
    const { ictx, ioas } = withDomain();
    expect(unmap(ictx, ioas, P64 - 4096n, 2 * SZ_4K).rc).toBe(EOVERFLOW);
    expect(unmap(ictx, ioas, U64_MAX, 1).rc).toBe(EOVERFLOW);
    expect(unmap(ictx, ioas, 1, U64_MAX).rc).toBe(EOVERFLOW);
    expect(unmap(ictx, ioas, P64 - 4096n, SZ_4K).rc).toBe(ENOENT);
    expect(mapAt(ictx, ioas, VA, SZ_4K, P64 - 4096n)).toBe(0);
    expect(unmap(ictx, ioas, P64 - 4096n, SZ_4K)).toEqual({ rc: 0, length: SZ_4K });
  });

  it("IOAS_COPY: a source or destination range past 2^64 − 1 is -EOVERFLOW; the last page copies", () => {
    const { ictx, ioas } = withDomain();
    const dst = ioasAlloc(ictx);
    const d = amdv1();
    expect(ictx.attachDomain(dst, d)).toBeGreaterThan(0);
    expect(mapAt(ictx, ioas, VA, SZ_4K, P64 - 4096n)).toBe(0);
    expect(mapAt(ictx, ioas, VA, 2 * SZ_4K, P63)).toBe(0);
    const copy = (srcIova: Addr, dstIova: Addr, length: number) =>
      ictx.ioasCopy({
        flags: RW | IOMMU_IOAS_MAP_FIXED_IOVA,
        srcIoasId: ioas,
        dstIoasId: dst,
        srcIova,
        dstIova,
        length,
      });
    expect(copy(P64 - 4096n, LOW_IOVA, 2 * SZ_4K)).toBe(EOVERFLOW);
    expect(copy(P63, P64 - 4096n, 2 * SZ_4K)).toBe(EOVERFLOW);
    expect(copy(U64_MAX, LOW_IOVA, 1)).toBe(EOVERFLOW);
    // Two maps of VA: two pins; the copy shares the pages and adds none.
    expect(ictx.mm.memory.pinCount(VA)).toBe(2);
    expect(copy(P64 - 4096n, P64 - 4096n, SZ_4K)).toBe(0);
    expect(iommuIovaToPhysLength(d, U64_MAX).physNumber).toBe(ictx.mm.memory.translate(VA + SZ_4K - 1));
    expect(ictx.mm.memory.pinCount(VA)).toBe(2);
  });

  it("IOAS_ALLOW_IOVAS: u64 ranges up to 2^64 − 1; start ≥ last is -EINVAL", () => {
    const { ictx, ioas } = fixture();
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [{ start: P64 - 2n, last: U64_MAX }] })).toBe(0);
    expect(ictx.ioasOf(ioas).iopt.allowedItree.nodes).toEqual([{ start: P64 - 2n, last: U64_MAX }]);
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [{ start: U64_MAX, last: U64_MAX }] })).toBe(
      EINVAL,
    );
    // Overlapping with a reserved range at the top: -EADDRINUSE.
    expect(ictx.addReserved(ioas, U64_MAX, 1)).toBe(-98);
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [] })).toBe(0);
    expect(ictx.addReserved(ioas, U64_MAX, 1)).toBe(0);
    expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: [{ start: P63, last: U64_MAX }] })).toBe(-98);
  });

  it("access pin and access_rw: iova + length − 1 past 2^64 − 1 is -EOVERFLOW; a write to a read-only area -EPERM", () => {
    const { ictx, ioas } = withDomain();
    expect(mapAt(ictx, ioas, VA, SZ_4K, P64 - 4096n)).toBe(0);
    const access = ictx.accessCreate(ioas);
    const out = new Float64Array(2);
    const a = ictx.access(access)!;
    expect(ictx.accessPinPages(a, P64 - 4096n, 2 * SZ_4K, out, false)).toBe(EOVERFLOW);
    expect(ictx.accessRw(access, U64_MAX, new Uint8Array(2))).toBe(EOVERFLOW);
    expect(ictx.accessRw(access, U64_MAX, new Uint8Array(1))).toBe(0);
    expect(
      ictx.ioasMap({
        flags: 4 | IOMMU_IOAS_MAP_FIXED_IOVA,
        ioasId: ioas,
        userVa: VA,
        length: SZ_4K,
        iova: P63,
      }),
    ).toBe(0);
    expect(ictx.accessRw(access, P63, new Uint8Array(1), MOCK_ACCESS_RW_WRITE)).toBe(EPERM);
  });
});

describe("VFIO compat at 64-bit IOVAs", () => {
  it("VFIO_IOMMU_MAP_DMA / UNMAP_DMA at 2^63 with bigint fields", () => {
    const { ictx, ioas } = fixture();
    const d = amdv1();
    expect(ictx.attachDomain(ioas, d)).toBeGreaterThan(0);
    expect(iommufdVfioIoas(ictx, { op: IOMMU_VFIO_IOAS_SET, ioasId: ioas })).toBe(0);
    expect(iommufdVfioMapDma(ictx, { argsz: 32, flags: 3, vaddr: VA, iova: P63, size: SZ_2M })).toBe(0);
    expect(iommuIovaToPhysLength(d, P63 + 4096n).physNumber).toBe(ictx.mm.memory.translate(VA + PAGE_SIZE));
    const un = { argsz: 24, flags: 0, iova: P63 as Addr, size: SZ_2M as Addr };
    expect(iommufdVfioUnmapDma(ictx, un)).toBe(0);
    expect(un.size).toBe(SZ_2M);
    expect(IOVA_MAX).toBe(U64_MAX);
  });
});
