// drivers/iommu/omap-iommu.c: the run lookup (issue 17) against one iova_to_phys_length per page.
import { IOMMU_READ, IOMMU_WRITE, iommuMap, PhysLength, SZ_1M, SZ_4K, SZ_16M, SZ_64K } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { makeOmap } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const G4 = 2n ** 32n;
const SIZES = [SZ_4K, SZ_64K, SZ_1M, SZ_16M];

describe("omapIovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["strict", true, 1],
    ["kernel mode (overwrites: replicas compared)", false, 1],
    ["strict, two MMUs (dra7-dsp)", true, 2],
  ] as const)("%s: 4K, 64K, 1M, 16M leaves, holes", (_n, strict, mmus) => {
    const seen = checkRandomRuns(() => makeOmap({ strict, mmus, soc: mmus === 2 ? "dra7-dsp" : "omap4" }).d, {
      sizes: SIZES,
      base: 0x4000_0000n,
      window: 0x400_0000,
      prots: [RW],
      numRuns: 120,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("strict: ranges crossing the 4 GiB aperture edge end in a hole", () => {
    checkRandomRuns(() => makeOmap({ strict: true }).d, {
      sizes: SIZES,
      base: 0xfe00_0000n,
      window: 0x400_0000,
      prots: [RW],
      numRuns: 60,
    });
  });

  it("kernel mode: a 4K map over copy 15 of a 64K page splits it, as the length lookup does", () => {
    const { d } = makeOmap();
    iommuMap(d, 0x10_0000, 0x5000_0000, SZ_64K, RW);
    expect(runsOf(d, 0x10_0000n, 0x1_0000n)).toEqual([
      { mapped: true, iova: 0x10_0000n, phys: 0x5000_0000n, size: 0x1_0000n, prot: RW, leafSize: SZ_64K },
    ]);
    iommuMap(d, 0x10_f000, 0x7000_0000, SZ_4K, RW); // the kernel overwrites copy 15
    expect(runsOf(d, 0x10_0000n, 0x1_0000n)).toEqual([
      { mapped: true, iova: 0x10_0000n, phys: 0x5000_0000n, size: 0xf000n, prot: RW, leafSize: SZ_4K },
      { mapped: true, iova: 0x10_f000n, phys: 0x7000_0000n, size: 0x1000n, prot: RW, leafSize: SZ_4K },
    ]);
  });

  it("kernel mode: IOVAs ≥ 4 GiB alias the low table, page for page as iova_to_phys_length", () => {
    const { d } = makeOmap();
    iommuMap(d, 0xff00_0000, 0x8100_0000, SZ_16M, RW);
    iommuMap(d, 0x1_0000, 0x9000_0000, SZ_64K, RW);
    const got = runsOf(d, G4 - 0x10_0000n, 0x20_0000n);
    expect(got).toEqual([
      {
        mapped: true,
        iova: G4 - 0x10_0000n,
        phys: 0x81f0_0000n,
        size: 0x10_0000n,
        prot: RW,
        leafSize: SZ_16M,
      },
      { mapped: false, iova: G4, phys: 0n, size: 0x1_0000n, prot: 0, leafSize: 0 },
      { mapped: true, iova: G4 + 0x1_0000n, phys: 0x9000_0000n, size: 0x1_0000n, prot: RW, leafSize: SZ_64K },
      { mapped: false, iova: G4 + 0x2_0000n, phys: 0n, size: 0xe_0000n, prot: 0, leafSize: 0 },
    ]);
    const pl = new PhysLength();
    for (const r of got)
      for (let off = 0n; off < r.size; off += 0x1000n) {
        d.ops!.iovaToPhysLength!(d, r.iova + off, pl);
        expect(pl.mapped).toBe(r.mapped);
        if (r.mapped) expect([pl.physBigInt, pl.length]).toEqual([r.phys + off, r.leafSize]);
      }
  });

  it("strict: above 4 GiB is one hole to 2^64; no device attached: all hole", () => {
    const t = makeOmap({ strict: true });
    iommuMap(t.d, 0xfff0_0000, 0x8000_0000, SZ_1M, RW);
    expect(runsOf(t.d, G4 - 0x1000n, 2n ** 64n - G4 + 0x1000n)).toEqual([
      { mapped: true, iova: G4 - 0x1000n, phys: 0x800f_f000n, size: 0x1000n, prot: RW, leafSize: SZ_1M },
      { mapped: false, iova: G4, phys: 0n, size: 2n ** 64n - G4, prot: 0, leafSize: 0 },
    ]);
    const other = t.omap.domainAllocPagingFlags(0);
    if (typeof other === "number") throw new Error("alloc");
    expect(runsOf(other, 0n, 0x10_0000n)).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: 0x10_0000n, prot: 0, leafSize: 0 },
    ]);
  });
});

describe("range edges", () => {
  it("a range starting mid-64K-page and ending mid-supersection is clipped at both ends", () => {
    const { d } = makeOmap({ strict: true });
    iommuMap(d, 0xff_0000, 0x80ff_0000, SZ_64K, RW);
    iommuMap(d, 0x100_0000, 0x8100_0000, SZ_16M, RW);
    expect(runsOf(d, 0xff_8123n, 0x10_0000n)).toEqual([
      { mapped: true, iova: 0xff_8123n, phys: 0x80ff_8123n, size: 0x10_0000n, prot: RW, leafSize: SZ_64K },
    ]);
  });
});

describe("one descent on omap-iommu", () => {
  it("1 GiB of 16M supersections: 64 L1 reads for 64 leaves (replicas skipped), one walk", () => {
    const { d } = makeOmap({ strict: true });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    expect(runsOf(d, 0x4000_0000n, 0x4000_0000n)).toEqual([
      {
        mapped: true,
        iova: 0x4000_0000n,
        phys: 0x8000_0000n,
        size: 0x4000_0000n,
        prot: RW,
        leafSize: SZ_16M,
      },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(64);
  });

  it("1 GiB of 4K pages: 1,024 L1 + 262,144 L2 reads (1.004 per leaf), one walk", () => {
    const { d } = makeOmap({ strict: true });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    // Strict maps 16M leaves where it can: remap as 4K pages.
    d.ops!.unmapPages!(d, 0x4000_0000, SZ_16M, 64, null);
    for (let va = 0x4000_0000; va < 0x8000_0000; va += SZ_4K)
      d.ops!.mapPages!(d, va, 0x8000_0000 + (va - 0x4000_0000), SZ_4K, 1, RW, 0, { value: 0 });
    d.counters.reset();
    expect(runsOf(d, 0x4000_0000n, 0x4000_0000n)).toEqual([
      { mapped: true, iova: 0x4000_0000n, phys: 0x8000_0000n, size: 0x4000_0000n, prot: RW, leafSize: SZ_4K },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(1024 + 262_144);
    expect(d.counters.pteReads / 262_144).toBeLessThanOrEqual(1.1);
  });

  it("1 GiB of 64K large pages: 1,024 L1 + 16,384 L2 reads, one per leaf", () => {
    const { d } = makeOmap({ strict: true });
    for (let va = 0x4000_0000; va < 0x8000_0000; va += SZ_64K)
      d.ops!.mapPages!(d, va, 0x8000_0000 + (va - 0x4000_0000), SZ_64K, 1, RW, 0, { value: 0 });
    d.counters.reset();
    expect(runsOf(d, 0x4000_0000n, 0x4000_0000n)).toHaveLength(1);
    expect(d.counters.pteReads).toBe(1024 + 16_384);
  });
});
