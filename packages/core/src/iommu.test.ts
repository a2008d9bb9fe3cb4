import { describe, expect, it } from "vitest";
import { toBigInt } from "./addr.js";
import { IommuError } from "./errno.js";
import { IotlbGather } from "./gather.js";
import {
  createBlockedDomain,
  createIdentityDomain,
  identityUnitLength,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  iommuUnmapFast,
} from "./iommu.js";
import { PhysLength } from "./phys-length.js";
import { __GFP_HIGHMEM, IOMMU_READ, IOMMU_WRITE } from "./prot.js";
import { makeDomain, makeOps } from "./testing/fake-pgtable.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const K4 = 0x1000;
const M2 = 0x200000;

function leaves(d: ReturnType<typeof makeDomain>) {
  return [...d.leaves.values()].map((l) => [l.iova, l.pa, l.size]).sort((a, b) => a[0]! - b[0]!);
}

function catchErr(f: () => void): IommuError {
  try {
    f();
  } catch (e) {
    if (e instanceof IommuError) return e;
    throw e;
  }
  throw new Error("expected an IommuError");
}

describe("iommuMap", () => {
  it("maps with the largest pages iommu_pgsize allows", () => {
    const d = makeDomain();
    iommuMap(d, 0x1ff000, 0x1ff000, 0x402000, RW);
    expect(leaves(d)).toEqual([
      [0x1ff000, 0x1ff000, K4],
      [0x200000, 0x200000, M2],
      [0x400000, 0x400000, M2],
      [0x600000, 0x600000, K4],
    ]);
    expect(d.counters.mapCalls).toBe(1);
    expect(d.counters.mapPagesCalls).toBe(3);
  });

  it("rejects misaligned iova, paddr or size with EINVAL and touches nothing", () => {
    const d = makeDomain();
    for (const [iova, pa, size] of [
      [0x1001, 0, K4],
      [0, 0x800, K4],
      [0, 0, 0x1800],
    ] as const) {
      const e = catchErr(() => iommuMap(d, iova, pa, size, RW));
      expect(e.code).toBe("EINVAL");
      expect([e.mapped, e.unrolled]).toEqual([0, 0]);
    }
    expect(d.counters.mapPagesCalls).toBe(0);
    expect(d.leaves.size).toBe(0);
  });

  it("refuses non-paging domains (EINVAL), empty bitmaps (ENODEV + WARN) and bad gfp", () => {
    expect(catchErr(() => iommuMap(createIdentityDomain(), 0, 0, K4, RW)).code).toBe("EINVAL");
    const empty = makeDomain(makeOps(), 0);
    expect(catchErr(() => iommuMap(empty, 0, 0, K4, RW)).code).toBe("ENODEV");
    expect(empty.counters.warns).toBe(1);
    const d = makeDomain();
    expect(catchErr(() => iommuMap(d, 0, 0, K4, RW, __GFP_HIGHMEM)).code).toBe("EINVAL");
    expect(d.counters.warns).toBe(1);
  });

  it("rolls back what it mapped when a later allocation fails: state identical to before", () => {
    const d = makeDomain();
    iommuMap(d, 0x10000000, 0x20000000, M2, RW);
    const before = leaves(d);
    const liveBefore = d.allocator.liveCount;
    // Three 2 MiB regions need three new tables: fail the third.
    d.allocator.failNth(3);
    const e = catchErr(() => iommuMap(d, 0x1000, 0x1000, 0x600000 - 0x1000, RW));
    expect(e.code).toBe("ENOMEM");
    expect(e.mapped).toBe(0x400000 - 0x1000);
    expect(e.unrolled).toBe(0x400000 - 0x1000);
    expect(leaves(d)).toEqual(before);
    // Like the kernel, tables allocated on the way stay (only leaves are rolled back).
    expect(d.allocator.liveCount).toBe(liveBefore + 2);
  });

  it("rolls back exactly at the top of the 64-bit space (values above 2^53)", () => {
    const d = makeDomain();
    d.allocator.failNth(2);
    const e = catchErr(() => iommuMap(d, 0xffff_ffff_ffc0_0000n, 0x4000_0000, 0x400000, RW));
    expect(e.code).toBe("ENOMEM");
    expect([e.mapped, e.unrolled]).toEqual([M2, M2]);
    expect(d.leaves.size).toBe(0);
  });

  it("reports EEXIST from the driver and unrolls the partial progress", () => {
    const d = makeDomain();
    iommuMap(d, 0x3000, 0x3000, K4, RW);
    const e = catchErr(() => iommuMap(d, 0x1000, 0x1000, 0x4000, RW));
    expect(e.code).toBe("EEXIST");
    expect([e.mapped, e.unrolled]).toEqual([0x2000, 0x2000]);
    expect(leaves(d)).toEqual([[0x3000, 0x3000, K4]]);
  });

  it("accepts bigint addresses and is exact at 2^52, 2^57 and 2^64 - 4K", () => {
    const d = makeDomain(makeOps(), 0x1000);
    for (const a of [1n << 52n, 1n << 57n, (1n << 64n) - 0x1000n]) {
      iommuMap(d, a, a - 0x1000n, 0x1000, RW);
      expect(toBigInt(iommuIovaToPhys(d, a + 0xabcn))).toBe(a - 0x1000n + 0xabcn);
      const r = iommuIovaToPhysLength(d, a + 0xfffn);
      expect(r.mapped).toBe(true);
      expect(r.physBigInt).toBe(a - 0x1000n + 0xfffn);
    }
  });

  it("rejects unsafe numbers instead of silently rounding", () => {
    const d = makeDomain();
    expect(catchErr(() => iommuMap(d, 2 ** 60 + 1, 0, K4, RW)).code).toBe("EINVAL");
    expect(catchErr(() => iommuMap(d, -4096, 0, K4, RW)).code).toBe("EINVAL");
    expect(catchErr(() => iommuMap(d, 1n << 64n, 0, K4, RW)).code).toBe("EINVAL");
  });
});

describe("iommuUnmap", () => {
  it("loops in pgsize steps, gathers and syncs once", () => {
    const d = makeDomain();
    iommuMap(d, 0x1ff000, 0x1ff000, 0x402000, RW);
    expect(iommuUnmap(d, 0x1ff000, 0x402000)).toBe(0x402000);
    expect(d.leaves.size).toBe(0);
    // add_page syncs on each page-size change: 4K, then 2M x2, then 4K at the end.
    expect(d.synced).toEqual([
      { start: 0x1ff000, endExcl: 0x200000 },
      { start: 0x200000, endExcl: 0x600000 },
      { start: 0x600000, endExcl: 0x601000 },
    ]);
    expect(d.counters.syncs).toBe(3);
  });

  it("returns more than asked when a larger leaf goes, and stops at a hole", () => {
    const d = makeDomain();
    iommuMap(d, 0x200000, 0x400000, M2, RW);
    iommuMap(d, 0x600000, 0x600000, K4, RW);
    expect(iommuUnmap(d, 0x200000, K4)).toBe(M2);
    expect(iommuUnmap(d, 0x400000, 0x400000)).toBe(0); // hole first: nothing
  });

  it("returns 0 for misaligned requests and non-paging domains", () => {
    const d = makeDomain();
    iommuMap(d, 0, 0, K4, RW);
    expect(iommuUnmap(d, 0x800, K4)).toBe(0);
    expect(iommuUnmap(d, 0, 0x800)).toBe(0);
    expect(iommuUnmap(createIdentityDomain(), 0, K4)).toBe(0);
    expect(d.leaves.size).toBe(1);
  });

  it("adds the whole range to the gather when the driver does not use it, so iotlb_sync runs", () => {
    const d = makeDomain(makeOps({ useGather: false }));
    iommuMap(d, 0x1000, 0x1000, 0x3000, RW);
    expect(iommuUnmap(d, 0x1000, 0x3000)).toBe(0x3000);
    expect(d.synced).toEqual([{ start: 0x1000, endExcl: 0x4000 }]);
  });

  it("models an errno returned through size_t: the sum wraps like the kernel's", () => {
    const d = makeDomain();
    iommuMap(d, 0x1000, 0x1000, K4, RW);
    const ops = d.ops!;
    const real = ops.unmapPages;
    ops.unmapPages = (dom, iova, pgsize, count, g) => {
      const r = real.call(ops, dom, iova, pgsize, count, g);
      return r === 0 ? -2 : r; // io-pgtable-arm's -ENOENT for an empty entry
    };
    const n = iommuUnmap(d, 0x1000, 0x3000);
    expect(n).toBe(0xffe); // 0x1000 + (2^64 - 2) mod 2^64
    expect(d.counters.bugs).toBe(1); // then no page size fits 0x1ffe
    expect(iommuUnmap(d, 0x5000, 0x1000)).toBe(-2); // printed as 0xfffffffffffffffe
  });

  it("wraps an errno return exactly at the top of the address space (TTBR1 IOVAs above 2^63)", () => {
    // Kernel vector: arm64-s1 ttbr1, map ffff000280200000 (2 pages), unmap 0x4000
    // → unmapped=0x1ffe warn=2 BUG: 0x2000, then -ENOENT, then no page size fits.
    const d = makeDomain(makeOps(), 0x40201000);
    const base = 0xffff_0002_8020_0000n;
    const calls: Array<[number, number]> = [];
    const ops = d.ops!;
    ops.unmapPages = (_dom, iova, pgsize, count) => {
      calls.push([Number(iova), count]);
      expect(pgsize).toBe(0x1000);
      return calls.length === 1 ? 0x2000 : -2;
    };
    expect(iommuUnmap(d, base, 0x4000)).toBe(0x1ffe);
    expect(d.counters.bugs).toBe(1);
    expect(calls).toEqual([
      [Number(base), 4],
      [Number(base + 0x2000n), 2],
    ]);
    // The same at the last page below 2^64: the errno ends the loop, no BUG once done ≥ size.
    calls.length = 0;
    ops.unmapPages = () => {
      calls.push([0, 0]);
      return -2;
    };
    expect(iommuUnmap(d, 0xffff_ffff_ffff_f000n, 0x1000)).toBe(-2);
    expect(calls.length).toBe(1);
    expect(d.counters.bugs).toBe(1);
  });

  it("unmap_fast leaves syncing to the caller", () => {
    const d = makeDomain(makeOps({ useGather: false }));
    iommuMap(d, 0, 0, 0x2000, RW);
    const g = new IotlbGather();
    expect(iommuUnmapFast(d, 0, 0x2000, g)).toBe(0x2000);
    expect(d.synced).toEqual([]);
    iommuIotlbSync(d, g);
    expect(d.synced).toEqual([{ start: 0, endExcl: 0x2000 }]);
    expect(g.hasRange).toBe(false);
    expect([d.counters.unmapCalls, d.counters.unmapFastCalls, d.counters.syncs]).toEqual([1, 1, 1]);
  });
});

describe("iova_to_phys and iova_to_phys_length", () => {
  it("answers phys and the leaf size in one walk", () => {
    const d = makeDomain();
    iommuMap(d, 0x40000000, 0x80000000, M2, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, 0x40012345, out);
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0x80012345, M2]);
    expect(d.counters.walks).toBe(1);
  });

  it("tells a mapping of physical 0 from a hole; the legacy answer cannot", () => {
    const d = makeDomain();
    iommuMap(d, 0x1000, 0, K4, RW);
    expect(iommuIovaToPhys(d, 0x1000)).toBe(0);
    expect(iommuIovaToPhysLength(d, 0x1000).mapped).toBe(true);
    expect(iommuIovaToPhysLength(d, 0x2000).mapped).toBe(false);
  });

  it("iommuIovaToPhys is a thin wrapper: one iova_to_phys_length walk, its address or 0", () => {
    const d = makeDomain();
    iommuMap(d, 0x200000, 0x600000, M2, RW);
    const reads = d.counters.pteReads;
    expect(iommuIovaToPhys(d, 0x200010)).toBe(0x600010);
    expect(iommuIovaToPhys(d, 0x400000)).toBe(0);
    expect(d.counters.walks).toBe(2);
    expect(d.counters.pteReads - reads).toBe(2); // the fake's lookup reads one entry per walk
  });

  it("identity domains translate 1:1 and cross their aperture in one step", () => {
    const d = createIdentityDomain();
    expect(iommuIovaToPhys(d, 0x1234)).toBe(0x1234);
    const r = iommuIovaToPhysLength(d, 0xdead_beefn);
    expect([r.mapped, r.phys, r.length]).toEqual([true, 0xdeadbeef, 2 ** 64]);
    const small = createIdentityDomain(2 ** 48 - 1);
    expect(iommuIovaToPhysLength(small, 0x1000).length).toBe(2 ** 48);
    expect(
      identityUnitLength({ apertureStart: 0x1000, apertureEnd: 0x3fff, forceAperture: true }, 0x2000),
    ).toBe(0x2000);
  });

  it("blocked domains translate nothing", () => {
    const d = createBlockedDomain();
    expect(iommuIovaToPhys(d, 0x1000)).toBe(0);
    const r = iommuIovaToPhysLength(d, 0x1000);
    expect([r.mapped, r.length]).toEqual([false, 2 ** 64]);
  });
});
