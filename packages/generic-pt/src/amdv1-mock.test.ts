/**
 * drivers/iommu/generic_pt/fmt/iommu_mock.c (amdv1 with `AMDV1_IOMMUFD_SELFTEST`) as the iommufd
 * selftest's mock domain builds it (drivers/iommu/iommufd/selftest.c `mock_domain_alloc_pgtable`:
 * hw va 56, hw oa 51, start level 2; MOCK_IOMMUPT_DEFAULT narrows the aperture, _HUGE the page
 * sizes): geometry, exact entry bits of 2K, 4K (two-item contiguous) and 1M (512 × 2K) leaves,
 * table counts, PTE reads, dirty tracking and range lookups of 2K leaves.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type IommuDomain,
  IotlbGather,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  TableAllocator,
} from "@iommu/core";
import { checkRandomRuns, type RunRecord, referenceRuns, runsOf } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPtDomain, type PtDomain } from "./domain.js";
import { bit, PT_FEAT_DYNAMIC_TOP, PT_FEAT_FLUSH_RANGE } from "./features.js";
import { AMDV1_MOCK } from "./formats/index.js";
import { PtInspector } from "./inspector.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SZ_2K = 0x800;
const SZ_4K = 0x1000;
const SZ_1M = 0x10_0000;
/** selftest.h */
const MOCK_APERTURE_START = 1 << 24;
const MOCK_APERTURE_LAST = 2 ** 31 - 1;
const MOCK_HUGE_PAGE_SIZE = 512 * SZ_2K;

/** MOCK_IOMMUPT_DEFAULT: the format's page sizes, the mock aperture. */
function mockDefault(): PtDomain {
  return createPtDomain("amdv1_mock", { aperture: { start: MOCK_APERTURE_START, end: MOCK_APERTURE_LAST } });
}

/** MOCK_IOMMUPT_HUGE: `pgsize_bitmap = MOCK_HUGE_PAGE_SIZE | PAGE_SIZE`, the table's aperture. */
function mockHuge(): PtDomain {
  return createPtDomain("amdv1_mock", { pgsizeBitmap: MOCK_HUGE_PAGE_SIZE | SZ_4K });
}

function rawEntry(d: PtDomain, iova: number): bigint {
  return new PtInspector(d.pt).walk(iova).steps.at(-1)!.raw;
}

describe("amdv1_mock: the format and the selftest's table", () => {
  it("has the AMDV1_IOMMUFD_SELFTEST constants and supports no feature", () => {
    expect([AMDV1_MOCK.granuleLg2, AMDV1_MOCK.maxVaLg2, AMDV1_MOCK.maxOaLg2, AMDV1_MOCK.maxTopLevel]).toEqual(
      [11, 56, 51, 4],
    );
    expect([AMDV1_MOCK.supported, AMDV1_MOCK.forced]).toEqual([0, 0]);
    // Level 4 (the top) holds no leaf; 512G (bit 39) is left out as in amdv1.
    expect(AMDV1_MOCK.possibleSizes(4, 0)).toBe(0);
    expect(AMDV1_MOCK.possibleSizes(0, 0)).toBe(2 ** 20 - 2 ** 11);
    expect(AMDV1_MOCK.possibleSizes(3, 0)).toBe(2 ** 47 - 2 ** 38 - 2 ** 39);
  });

  it("start level 2 without a dynamic top: 3 levels over 2^38, page sizes 2K..128G, aperture [0, 2^38)", () => {
    const d = createPtDomain("amdv1_mock");
    expect([d.pt.topLevel, d.pt.maxVasz, d.pt.maxOasz, d.pt.features]).toEqual([2, 38, 51, 0]);
    expect(d.pgsizeBitmap).toBe(2 ** 38 - 2 ** 11);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 38 - 1, forceAperture: true });
    // PT_FMT_VARIANT: there is no pt_iommu_amdv1_mock_hw_info.
    expect(d.pt.hwInfo()).toEqual([]);
    expect(d.pt.alloc.liveCount).toBe(1);
  });

  it("init refuses what pt_iommu_amdv1_mock_init refuses", () => {
    const code = (o: Parameters<typeof createPtDomain>[1]) => {
      try {
        createPtDomain("amdv1_mock", o);
        return "ok";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code({ level: 0 })).toBe("EINVAL");
    expect(code({ level: 5 })).toBe("EINVAL"); // > PT_MAX_TOP_LEVEL 4
    expect(code({ vaBits: 57 })).toBe("EINVAL"); // > PT_MAX_VA_ADDRESS_LG2 56
    expect(code({ oaBits: 52 })).toBe("EINVAL"); // > PT_MAX_OUTPUT_ADDRESS_LG2 51
    expect(code({ features: bit(PT_FEAT_FLUSH_RANGE) })).toBe("EOPNOTSUPP"); // PT_SUPPORTED_FEATURES 0
    // pt_init_common drops DYNAMIC_TOP first (the top range already is max_vasz): accepted.
    expect(code({ features: bit(PT_FEAT_DYNAMIC_TOP) })).toBe("ok");
    const top4 = createPtDomain("amdv1_mock", { level: 4 });
    expect([top4.pt.topLevel, top4.pt.maxVasz, top4.pgsizeBitmap]).toEqual([
      4,
      56,
      2 ** 47 - 2 ** 11 - 2 ** 39,
    ]);
  });

  it("the selftest's DEFAULT and HUGE domains: the aperture and page-size overrides", () => {
    const def = mockDefault();
    expect(def.geometry).toEqual({
      apertureStart: MOCK_APERTURE_START,
      apertureEnd: MOCK_APERTURE_LAST,
      forceAperture: true,
    });
    expect(def.pgsizeBitmap).toBe(2 ** 38 - 2 ** 11);
    const huge = mockHuge();
    expect(huge.pgsizeBitmap).toBe(SZ_1M | SZ_4K);
    // iommufd_test_md_check_pa: page_size = 1 << __ffs(pgsize_bitmap).
    const ffs = (b: number) => b & -b;
    expect([ffs(def.pgsizeBitmap), ffs(huge.pgsizeBitmap)]).toEqual([SZ_2K, SZ_4K]);
    expect(() => createPtDomain("amdv1_mock", { aperture: { start: 2, end: 1 } })).toThrow(/aperture/);
  });
});

describe("amdv1_mock leaves", () => {
  it("a 2K leaf: OA field = pa >> 11, no FC bit, 3 PTE reads, length 2K; its other half is a hole", () => {
    const d = mockDefault();
    iommuMap(d, 0x100_0800, 0x5000_0800, SZ_2K, RW);
    // PR | OA field 0xa0001 at bits 51:12 | IR | IW (FORCE_COHERENCE is not a mock feature).
    expect(rawEntry(d, 0x100_0800)).toBe(0x6000_0000_a000_1001n);
    const r0 = d.counters.pteReads;
    const out = iommuIovaToPhysLength(d, 0x100_0abc, new PhysLength());
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0x5000_0abc, SZ_2K]);
    expect(d.counters.pteReads - r0).toBe(3);
    expect(iommuIovaToPhys(d, 0x100_0800)).toBe(0x5000_0800);
    expect(iommuIovaToPhys(d, 0x100_07ff)).toBe(0);
    iommuIovaToPhysLength(d, 0x100_0000, out);
    expect([out.mapped, out.length]).toEqual([false, SZ_2K]);
    // An unaligned half-page start maps nothing: -ENXIO from map_pages (no size fits).
    expect(() => iommuMap(d, 0x100_1400, 0x5000_1400, SZ_2K, RW)).toThrow();
    expect(iommuUnmap(d, 0x100_0800, SZ_2K)).toBe(SZ_2K);
    expect(iommuIovaToPhys(d, 0x100_0800)).toBe(0);
  });

  it("a 4K page is a NEXT_LEVEL=7 entry over two 2K items; unmapping its second half unmaps nothing", () => {
    const d = mockDefault();
    iommuMap(d, 0x100_2000, 0x5000_2000, SZ_4K, RW);
    const ins = new PtInspector(d.pt);
    const leaves: Array<[bigint, bigint, number]> = [];
    ins.visit((e) => {
      if (e.kind === "leaf") leaves.push([e.iova, e.raw, e.leafSize!]);
    });
    // OA field 0xa0004 (no size ones: 2^(12-11-1)-1 = 0), NL=7, PR; the same in both items.
    expect(leaves).toEqual([
      [0x100_2000n, 0x6000_0000_a000_4e01n, SZ_4K],
      [0x100_2800n, 0x6000_0000_a000_4e01n, SZ_4K],
    ]);
    const out = iommuIovaToPhysLength(d, 0x100_2900, new PhysLength());
    expect([out.phys, out.length]).toEqual([0x5000_2900, SZ_4K]);
    expect(d.ops.unmapPages!(d, 0x100_2800, SZ_2K, 1, new IotlbGather())).toBe(0);
    expect(d.ops.unmapPages!(d, 0x100_2000, SZ_2K, 1, new IotlbGather())).toBe(SZ_4K);
  });

  it("MOCK_IOMMUPT_HUGE: 1M (512 × 2K) leaves at level 1, 4K pages as 2K pairs, nothing else", () => {
    const d = mockHuge();
    iommuMap(d, 0x4000_0000, 0x8000_0000, 3 * SZ_1M + 2 * SZ_4K, RW);
    const st = new PtInspector(d.pt).stats();
    expect(st.leavesBySize.get(SZ_1M)).toBe(3);
    expect(st.leavesBySize.get(SZ_4K)).toBe(2);
    expect([...st.leavesBySize.keys()].sort()).toEqual([SZ_4K, SZ_1M].sort());
    // The 1M leaf: level-1 item, OA field 0x100000 (pa >> 11), NL=0.
    expect(rawEntry(d, 0x4000_0000)).toBe(0x6000_0001_0000_0001n);
    expect(new PtInspector(d.pt).walk(0x4010_0000).steps.at(-1)!.level).toBe(1);
    const r0 = d.counters.pteReads;
    const out = iommuIovaToPhysLength(d, 0x4012_3456, new PhysLength());
    expect([out.phys, out.length]).toEqual([0x8012_3456, SZ_1M]);
    expect(d.counters.pteReads - r0).toBe(2);
    // A 2K map is refused: the domain has no 2K page size (iommu_map: -EINVAL).
    expect(() => iommuMap(d, 0x5000_0000, 0x5000_0000, SZ_2K, RW)).toThrow();
  });

  it("exact table counts: 512 2K leaves fill one level-0 table; 1M is one level-1 leaf and no table", () => {
    const d = mockDefault();
    d.pgsizeBitmap = SZ_2K;
    iommuMap(d, MOCK_APERTURE_START, 0x1_0000_0000, SZ_1M, RW);
    // top (level 2) + one level-1 + one level-0 table
    expect(d.pt.alloc.liveCount).toBe(3);
    expect(new PtInspector(d.pt).stats().leavesBySize.get(SZ_2K)).toBe(512);
    // Unmapping the whole 1M covers the level-1 item: its level-0 table is freed.
    expect(iommuUnmap(d, MOCK_APERTURE_START, SZ_1M)).toBe(SZ_1M);
    expect(d.pt.alloc.liveCount).toBe(2);
    d.pgsizeBitmap = d.pt.pgsizeBitmap;
    iommuMap(d, MOCK_APERTURE_START, 0x1_0000_0000, SZ_1M, RW);
    expect(d.pt.alloc.liveCount).toBe(2);
    expect(new PtInspector(d.pt).walk(MOCK_APERTURE_START).steps.at(-1)!.leafSize).toBe(SZ_1M);
    // The aperture's last page (MOCK_APERTURE_LAST): another level-1 and level-0 table.
    iommuMap(d, MOCK_APERTURE_LAST + 1 - SZ_2K, 0x2000, SZ_2K, RW);
    expect(d.pt.alloc.liveCount).toBe(4);
    d.pt.deinit();
    expect(d.pt.alloc.liveCount).toBe(0);
  });

  it("outside the 2^38 table: -ERANGE (no dynamic top), the address 0 (the removed legacy op returned -ERANGE)", () => {
    const d = createPtDomain("amdv1_mock");
    expect(() => iommuMap(d, 2 ** 38, 0, SZ_2K, RW)).toThrow(/ERANGE/);
    expect(iommuIovaToPhys(d, 2 ** 38)).toBe(0);
    const out = iommuIovaToPhysLength(d, 2 ** 38 + SZ_2K, new PhysLength());
    expect([out.mapped, out.length]).toEqual([false, 2 ** 38]);
    expect(() => iommuMap(d, 0, 2 ** 51, SZ_2K, RW)).toThrow(/ERANGE/);
  });

  it("set_dirty / read_and_clear_dirty on a 2K leaf record 2K", () => {
    const d = mockDefault();
    iommuMap(d, 0x100_0000, 0x10_0000, 4 * SZ_2K, RW);
    d.pgsizeBitmap = SZ_2K;
    iommuMap(d, 0x100_4800, 0x20_0800, SZ_2K, RW);
    expect(d.pt.setDirty(0x100_4800)).toBe(0);
    expect(d.pt.setDirty(0x100_0800)).toBe(0);
    const seen: Array<[number, number]> = [];
    const bm = { record: (iova: number, len: number) => seen.push([iova, len]), gather: new IotlbGather() };
    expect(d.dirtyOps!.readAndClearDirty(d, 0x100_0000, 0x8000, 0, bm)).toBe(0);
    // The 8K entry (4 items) from its first item, the kernel's index|(2^n-1) length: 3 items.
    expect(seen).toEqual([
      [0x100_0000, 3 * SZ_2K],
      [0x100_4800, SZ_2K],
    ]);
    seen.length = 0;
    d.dirtyOps!.readAndClearDirty(d, 0x100_0000, 0x8000, 0, bm);
    expect(seen).toEqual([]);
  });
});

/** The domain without its runs op: the core steps it with iova_to_phys_length (its fallback). */
function withoutRunsOp(d: PtDomain): IommuDomain {
  return { ...d, ops: { ...d.ops, iovaToPhysRuns: undefined } } as IommuDomain;
}

/**
 * Whether the 4 KiB-frame collector can state the 2K leaves of [from, from + size) exactly:
 * the in-range halves of every frame are one PA-contiguous mapping (or all holes) whose phys
 * keeps the IOVA's offset in its 4 KiB page. Every leaf here is RW with a non-zero phys.
 */
function representable(d: PtDomain, from: number, size: number): boolean {
  for (let va = from - (from % SZ_4K); va < from + size; va += SZ_4K) {
    const halves = [va, va + SZ_2K].filter((h) => h >= from && h < from + size);
    const ph = halves.map((h) => Number(iommuIovaToPhys(d, h)));
    if (ph.some((p, k) => p !== 0 && p % SZ_4K !== halves[k]! % SZ_4K)) return false;
    if (ph.length === 2 && (ph[0] === 0) !== (ph[1] === 0)) return false;
    if (ph.length === 2 && ph[0] !== 0 && ph[1] !== ph[0]! + SZ_2K) return false;
  }
  return true;
}

function unknownProt(runs: RunRecord[]): RunRecord[] {
  return runs.map((r) => ({ ...r, prot: r.mapped ? -1 : 0 }));
}

describe("amdv1_mock range lookups (4 KiB-frame run collector)", () => {
  it("two PA-contiguous 2K leaves make one 4K frame of the run, leafSize 2K", () => {
    const d = mockDefault();
    d.pgsizeBitmap = SZ_2K;
    iommuMap(d, 0x100_0000, 0x3000_0000, SZ_2K, RW);
    iommuMap(d, 0x100_0800, 0x3000_0800, SZ_2K, RW);
    iommuMap(d, 0x100_1000, 0x3000_1000, SZ_2K, RW);
    iommuMap(d, 0x100_1800, 0x3000_1800, SZ_2K, IOMMU_READ);
    // Frame 0x1001 holds an RW half and a read-only half: the collector's 4 KiB frames cannot
    // say it, and the frame goes as its first byte in the range translates (RW, phys continues).
    expect(runsOf(d, 0x100_0000n, 0x4000n)).toEqual([
      { mapped: true, iova: 0x100_0000n, phys: 0x3000_0000n, size: 0x2000n, prot: RW, leafSize: SZ_2K },
      { mapped: false, iova: 0x100_2000n, phys: 0n, size: 0x2000n, prot: 0, leafSize: 0 },
    ]);
    // The frame with the read-only half, looked up from that half: exact.
    expect(runsOf(d, 0x100_1800n, 0x800n)).toEqual([
      {
        mapped: true,
        iova: 0x100_1800n,
        phys: 0x3000_1800n,
        size: 0x800n,
        prot: IOMMU_READ,
        leafSize: SZ_2K,
      },
    ]);
  });

  it("a range starting or ending at a half frame is exact", () => {
    const d = mockDefault();
    d.pgsizeBitmap = SZ_2K;
    iommuMap(d, 0x100_0800, 0x3000_0800, SZ_2K, RW);
    iommuMap(d, 0x100_1000, 0x3000_1000, SZ_2K, RW);
    expect(runsOf(d, 0x100_0800n, 0x1000n)).toEqual([
      { mapped: true, iova: 0x100_0800n, phys: 0x3000_0800n, size: 0x1000n, prot: RW, leafSize: SZ_2K },
    ]);
    expect(runsOf(d, 0x100_0800n, 0x800n)).toEqual([
      { mapped: true, iova: 0x100_0800n, phys: 0x3000_0800n, size: 0x800n, prot: RW, leafSize: SZ_2K },
    ]);
    expect(runsOf(d, 0x100_1000n, 0x800n)).toEqual([
      { mapped: true, iova: 0x100_1000n, phys: 0x3000_1000n, size: 0x800n, prot: RW, leafSize: SZ_2K },
    ]);
    // [0x100_0000, 0x100_0800) is a hole; the frame it starts is reported as that half says.
    expect(runsOf(d, 0x100_0000n, 0x800n)).toEqual([
      { mapped: false, iova: 0x100_0000n, phys: 0n, size: 0x800n, prot: 0, leafSize: 0 },
    ]);
  });

  it("4K, 1M and contiguous leaves: runs equal one lookup per page, in one walk", () => {
    const seen = checkRandomRuns(() => mockDefault(), {
      sizes: [SZ_4K, 0x4000, SZ_1M, 0x40_0000],
      base: 0x400_0000n,
      window: 0x100_0000,
      prots: [IOMMU_READ, RW],
      numRuns: 60,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("2K leaves: the same runs as the core's per-page fallback, in one walk instead of one per page", () => {
    let stepped = 0;
    let exactCases = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.nat(255), pa: fc.nat(255), follow: fc.boolean() }), { maxLength: 40 }),
        fc.nat(511),
        fc.nat(511),
        (maps, a, b) => {
          const d = mockDefault();
          d.pgsizeBitmap = SZ_2K;
          let next = -1;
          let nextPa = 0x3000_0000;
          for (const m of maps) {
            const slot = m.follow && next >= 0 && next < 256 ? next : m.slot;
            const pa = m.follow ? nextPa : 0x3000_0000 + m.pa * SZ_2K;
            if (iommuIovaToPhys(d, 0x200_0000 + slot * SZ_2K) === 0)
              iommuMap(d, 0x200_0000 + slot * SZ_2K, pa, SZ_2K, RW);
            next = slot + 1;
            nextPa = pa + SZ_2K;
          }
          const from = BigInt(0x200_0000 + (a % 256) * SZ_2K);
          const size = BigInt((1 + (b % 256)) * SZ_2K);
          const w0 = d.counters.walks;
          const got = runsOf(d, from, size);
          expect(d.counters.walks - w0).toBe(1);
          const f0 = d.counters.walks;
          const want = runsOf(withoutRunsOp(d), from, size);
          stepped += d.counters.walks - f0;
          expect(unknownProt(got)).toEqual(want);
          // Where every 4 KiB frame is representable, also the exact 2K reference.
          if (representable(d, Number(from), Number(size))) {
            exactCases++;
            expect(got).toEqual(referenceRuns(d, from, Number(size) / SZ_2K, SZ_2K));
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(stepped).toBeGreaterThan(150);
    expect(exactCases).toBeGreaterThan(10);
  });
});

describe("amdv1_mock as a driver's table", () => {
  it("counts live tables through the allocator it was given", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(undefined, { counters });
    const d = createPtDomain("amdv1_mock", { allocator, counters });
    iommuMap(d, 0x100_0000, 0x100_0000, SZ_2K, RW);
    expect(allocator.liveCount).toBe(3);
    d.ops.free!(d);
    expect(allocator.liveCount).toBe(0);
  });
});
