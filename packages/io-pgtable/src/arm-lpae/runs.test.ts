import { IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, SizeOut } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import type { GranuleName, IoPgtableFormatName } from "../create-domain.js";
import { IO_PGTABLE_QUIRK_ARM_TTBR1, IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import { alloc, type Harness } from "../testing/lpae-harness.js";
import { domainOf } from "../testing/runs-kit.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const PROTS = [IOMMU_READ, RW, RW | IOMMU_NOEXEC];

interface Config {
  name: string;
  format: IoPgtableFormatName;
  granule?: GranuleName;
  ias: number;
  quirks?: number;
  /** Page sizes the random tables use (small enough for a per-page reference). */
  sizes: number[];
  /** Where the random tables live. */
  base: bigint;
}

const CONFIGS: Config[] = [
  { name: "arm64-s1 4K", format: "arm64-s1", ias: 48, sizes: [0x1000, 0x200000], base: 2n ** 39n * 3n },
  {
    name: "arm64-s1 16K",
    format: "arm64-s1",
    granule: "16K",
    ias: 48,
    sizes: [0x4000, 0x2000000],
    base: 2n ** 47n,
  },
  { name: "arm64-s1 64K", format: "arm64-s1", granule: "64K", ias: 52, sizes: [0x10000], base: 2n ** 51n },
  { name: "arm64-s2 4K concat", format: "arm64-s2", ias: 40, sizes: [0x1000, 0x200000], base: 2n ** 39n },
  {
    name: "arm64-s2 16K",
    format: "arm64-s2",
    granule: "16K",
    ias: 40,
    sizes: [0x4000, 0x2000000],
    base: 2n ** 36n,
  },
  { name: "arm64-s2 64K", format: "arm64-s2", granule: "64K", ias: 42, sizes: [0x10000], base: 2n ** 41n },
  { name: "arm32-s1 4K", format: "arm32-s1", ias: 32, sizes: [0x1000, 0x200000], base: 2n ** 31n },
  { name: "arm32-s2 4K", format: "arm32-s2", ias: 40, sizes: [0x1000, 0x200000], base: 2n ** 38n },
  { name: "mali 4K", format: "mali", ias: 48, sizes: [0x1000, 0x200000], base: 2n ** 40n },
  {
    name: "arm64-s1 4K TTBR1",
    format: "arm64-s1",
    ias: 48,
    quirks: IO_PGTABLE_QUIRK_ARM_TTBR1,
    sizes: [0x1000, 0x200000],
    base: 2n ** 64n - 2n ** 26n,
  },
];

describe("armLpaeIovaToPhysRuns vs one lookup per page", () => {
  for (const c of CONFIGS) {
    it(`${c.name}: random tables, random windows`, () => {
      const make = () =>
        createIoPgtableDomain(c.format, {
          ias: c.ias,
          ...(c.granule ? { granule: c.granule } : {}),
          ...(c.quirks ? { quirks: c.quirks } : {}),
        });
      // 4096 reference steps: the window holds 16 MiB of 4K pages, 64 MiB of 16K, 256 MiB of 64K.
      const window = Math.max(c.sizes[0]! * 4096, c.sizes.at(-1)! * 2);
      const seen = checkRandomRuns(make, { sizes: c.sizes, base: c.base, window, prots: PROTS, numRuns: 80 });
      expect(seen.merged).toBeGreaterThan(0);
      expect(seen.mixed).toBeGreaterThan(0);
    });
  }
});

/** Map `count` leaves of `size` from `iova` to a PA-contiguous block. */
function mapLinear(h: Harness, iova: number, pa: number, size: number, count: number): void {
  const mapped = new SizeOut();
  let done = 0;
  while (done < count) {
    const before = mapped.value;
    const ret = h.ops.mapPages(iova + done * size, pa + done * size, size, count - done, RW, 0, mapped);
    expect(ret).toBe(0);
    done += (mapped.value - before) / size;
  }
}

describe("one descent: PTE reads per leaf, walks per region", () => {
  const cases = [
    { leaf: 0x200000, leaves: 512, bitmap: 0x40201000 },
    { leaf: 0x1000, leaves: 262144, bitmap: 0x40201000 },
    { leaf: 0x4000, leaves: 65536, bitmap: 0x2004000 },
    { leaf: 0x2000000, leaves: 32, bitmap: 0x2004000 },
    { leaf: 0x10000, leaves: 16384, bitmap: 0x20010000 },
  ];
  for (const { leaf, leaves, bitmap } of cases) {
    it(`1 GiB of 0x${leaf.toString(16)} leaves (granule 0x${(bitmap & -bitmap).toString(16)}): one run, one walk, ≤ 1.1 PTE reads per leaf`, () => {
      const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { pgsizeBitmap: bitmap, ias: 48, oas: 48 });
      const iova = 2 ** 40;
      mapLinear(h, iova, 2 ** 33, leaf, leaves);
      const d = domainOf(h.ops, h.counters, bitmap);
      h.counters.reset();
      const runs = runsOf(d, BigInt(iova), 2n ** 30n);
      expect(runs).toEqual([
        { mapped: true, iova: 2n ** 40n, phys: 2n ** 33n, size: 2n ** 30n, prot: RW, leafSize: leaf },
      ]);
      expect(h.counters.walks).toBe(1);
      expect(h.counters.pteReads / leaves).toBeLessThanOrEqual(1.1);
      // Leaves + the table entries above them, each read once.
      expect(h.counters.pteReads).toBeGreaterThanOrEqual(leaves);
    });
  }
});

describe("exactness at the top of the address space", () => {
  it("TTBR1: the last page 2^64 − 4K, holes below the upper region", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, {
      pgsizeBitmap: 0x40201000,
      ias: 48,
      oas: 48,
      quirks: IO_PGTABLE_QUIRK_ARM_TTBR1,
    });
    const top = 2n ** 64n - 0x1000n;
    expect(h.ops.mapPages(top, 0x1234000, 0x1000, 1, RW, 0, new SizeOut())).toBe(0);
    const d = domainOf(h.ops, h.counters, 0x40201000);
    expect(runsOf(d, top - 0x3000n, 0x4000n)).toEqual([
      { mapped: false, iova: top - 0x3000n, phys: 0n, size: 0x3000n, prot: 0, leafSize: 0 },
      { mapped: true, iova: top, phys: 0x1234000n, size: 0x1000n, prot: RW, leafSize: 0x1000 },
    ]);
    // The whole 64-bit space: the lower untranslatable part, the upper region, the page.
    const all = runsOf(d, 0n, 2n ** 64n);
    expect(all).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: top, prot: 0, leafSize: 0 },
      { mapped: true, iova: top, phys: 0x1234000n, size: 0x1000n, prot: RW, leafSize: 0x1000 },
    ]);
  });

  it("TTBR1 with a 64K granule: the last 64K page and a 512M block below it", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, {
      pgsizeBitmap: 0x20010000,
      ias: 48,
      oas: 48,
      quirks: IO_PGTABLE_QUIRK_ARM_TTBR1,
    });
    const top = 2n ** 64n - 0x10000n;
    const block = 2n ** 64n - 2n ** 30n;
    expect(h.ops.mapPages(top, 0x7_0000_0000 + 0x2000_0000 - 0x10000, 0x10000, 1, RW, 0, new SizeOut())).toBe(
      0,
    );
    expect(h.ops.mapPages(block, 0x7_0000_0000, 0x2000_0000, 1, RW, 0, new SizeOut())).toBe(0);
    const d = domainOf(h.ops, h.counters, 0x20010000);
    expect(runsOf(d, block, 2n ** 30n)).toEqual([
      {
        mapped: true,
        iova: block,
        phys: 0x7_0000_0000n,
        size: 0x2000_0000n,
        prot: RW,
        leafSize: 0x2000_0000,
      },
      {
        mapped: false,
        iova: block + 0x2000_0000n,
        phys: 0n,
        size: 0x2000_0000n - 0x10000n,
        prot: 0,
        leafSize: 0,
      },
      { mapped: true, iova: top, phys: 0x7_1fff_0000n, size: 0x10000n, prot: RW, leafSize: 0x10000 },
    ]);
  });

  it("beyond ias: one hole up to 2^64, without reading entries", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { pgsizeBitmap: 0x40201000, ias: 48, oas: 48 });
    const d = domainOf(h.ops, h.counters, 0x40201000);
    h.counters.reset();
    expect(runsOf(d, 2n ** 48n, 2n ** 64n - 2n ** 48n)).toEqual([
      { mapped: false, iova: 2n ** 48n, phys: 0n, size: 2n ** 64n - 2n ** 48n, prot: 0, leafSize: 0 },
    ]);
    expect(h.counters.pteReads).toBe(0);
  });

  it("a format without the walk: the domain ops step with iova_to_phys_length (one walk, same runs)", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { pgsizeBitmap: 0x40201000, ias: 48, oas: 48 });
    mapLinear(h, 0x4000_0000, 0x8000_0000, 0x200000, 3);
    mapLinear(h, 0x4060_0000, 0x9000_0000, 0x1000, 2);
    const { iovaToPhysRuns: _walk, ...stepped } = h.ops;
    const withWalk = runsOf(domainOf(h.ops, h.counters, 0x40201000), 0x4000_0000n, 0x80_0000n);
    const d = domainOf(stepped, h.counters, 0x40201000);
    h.counters.reset();
    const got = runsOf(d, 0x4000_0000n, 0x80_0000n);
    // Stepping cannot see permissions: prot is unknown (−1); otherwise the same runs.
    expect(got).toEqual(withWalk.map((r) => (r.mapped ? { ...r, prot: -1 } : r)));
    expect(got).toHaveLength(3);
    // One walk per step: 3 blocks, 2 pages, then the 510 empty entries of their level-3 table.
    expect(h.counters.walks).toBe(3 + 2 + 510);
  });

  it("a domain without a page table: one hole", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { pgsizeBitmap: 0x40201000, ias: 48, oas: 48 });
    const d = domainOf(h.ops, h.counters, 0x40201000);
    d.pgtblOps = null;
    expect(runsOf(d, 0n, 0x2000n)).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: 0x2000n, prot: 0, leafSize: 0 },
    ]);
  });
});
