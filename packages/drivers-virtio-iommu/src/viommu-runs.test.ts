// drivers/iommu/virtio-iommu.c, viommu_iova_to_phys() read as a range (issue 17): the run lookup
// against one iova_to_phys_length per page (the shared kit), the cost of its one ordered tree
// walk, overlapping (shadowed) intervals, holes split at the aperture, identity domains.
import {
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  iommuIovaToPhysLength,
  iommuIovaToPhysRuns,
  iommuMap,
  PhysLength,
  SZ_1G,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { viommuProtOf } from "./testing/prot-of.js";
import { guest } from "./testing/setup.js";
import type { ViommuDomain } from "./viommu-domain.js";
import { alignedBlockIn } from "./viommu-domain.js";
import { alignedBlockAt, viommuIovaToPhysRuns } from "./viommu-runs.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SZ_64K = 0x1_0000;

function fresh(
  attach = false,
  inputRange: { start: number; end: number } | undefined = { start: 0, end: 2 ** 48 - 1 },
) {
  const g = guest({ attach, inputRange });
  g.domain.counters = new IommuCounters();
  return g.domain;
}

/** pteReads and walks one call of the core entry point costs. */
function cost(d: ViommuDomain, iova: number, size: number): { runs: number; walks: number; reads: number } {
  const w = d.counters.walks;
  const r = d.counters.pteReads;
  const runs = iommuIovaToPhysRuns(d, iova, size, () => {});
  return { runs, walks: d.counters.walks - w, reads: d.counters.pteReads - r };
}

describe("viommu iovaToPhysRuns: random interval trees against one length lookup per page", () => {
  it.each([
    ["4K / 64K / 2M intervals at 0 (detached: the tree only)", 0n, false],
    ["the same, attached (every MAP goes to the device)", 0n, true],
    [
      "4K / 64K / 2M intervals just below 2^48 (beyond the aperture: holes)",
      2n ** 48n - 8n * BigInt(SZ_2M),
      false,
    ],
  ] as const)("%s", (_name, base, attach) => {
    const { merged, mixed } = checkRandomRuns(() => fresh(attach), {
      sizes: [SZ_4K, SZ_64K, SZ_2M],
      base,
      window: 16 * SZ_2M,
      prots: [IOMMU_READ, RW],
      protOf: viommuProtOf,
      numRuns: attach ? 40 : 150,
    });
    // Not vacuous: runs spanning several intervals, and holes beside mapped runs.
    expect(merged).toBeGreaterThan(0);
    expect(mixed).toBeGreaterThan(0);
  });
  it("near 2^64 with the whole 64-bit input range", () => {
    const { merged, mixed } = checkRandomRuns(() => fresh(false, undefined), {
      sizes: [SZ_4K, SZ_64K, SZ_2M],
      base: 2n ** 64n - 16n * BigInt(SZ_2M),
      window: 16 * SZ_2M,
      prots: [IOMMU_READ, RW],
      protOf: viommuProtOf,
      numRuns: 60,
    });
    expect(merged + mixed).toBeGreaterThan(0);
  });
});

describe("cost: one walk, one pteReads per interval read", () => {
  it("1 GiB of 512 scattered 2 MiB MAPs: 512 runs, 1 walk, 512 reads (legacy length lookups: 512 walks)", () => {
    const d = fresh();
    for (let i = 0; i < 512; i++)
      iommuMap(d, SZ_1G + i * SZ_2M, 0x80_0000_0000 + ((i * 7) % 512) * 2 * SZ_2M, SZ_2M, RW);
    expect(d.mappings.size).toBe(512);
    expect(cost(d, SZ_1G, SZ_1G)).toEqual({ runs: 512, walks: 1, reads: 512 });
  });
  it("1 GiB of 512 IOVA- and PA-contiguous 2 MiB MAPs: one run, 1 walk, 512 reads", () => {
    const d = fresh();
    for (let i = 0; i < 512; i++) iommuMap(d, SZ_1G + i * SZ_2M, 0x80_0000_0000 + i * SZ_2M, SZ_2M, RW);
    const got = runsOf(d, BigInt(SZ_1G), BigInt(SZ_1G));
    expect(got).toEqual([
      {
        mapped: true,
        iova: BigInt(SZ_1G),
        phys: 0x80_0000_0000n,
        size: BigInt(SZ_1G),
        prot: RW,
        leafSize: SZ_2M,
      },
    ]);
    expect(cost(d, SZ_1G, SZ_1G)).toEqual({ runs: 1, walks: 1, reads: 512 });
  });
  it("1 GiB of 4K MAPs (262,144 intervals): 1 walk, 262,144 reads — 1.0 per interval", () => {
    const d = fresh();
    for (let i = 0; i < 262_144; i++) iommuMap(d, i * SZ_4K, 0x1_0000_0000 + i * 2 * SZ_4K, SZ_4K, RW);
    expect(cost(d, 0, SZ_1G)).toEqual({ runs: 262_144, walks: 1, reads: 262_144 });
  });
  it("one 1 GiB MAP: 1 read for any sub-range; an empty tree or a range in a hole: 1 read", () => {
    const d = fresh();
    expect(cost(d, 0, SZ_1G)).toEqual({ runs: 1, walks: 1, reads: 1 });
    iommuMap(d, SZ_1G, 0x1_0000_0000, SZ_1G, RW);
    expect(cost(d, SZ_1G + SZ_2M, SZ_2M)).toEqual({ runs: 1, walks: 1, reads: 1 });
    expect(cost(d, 0, SZ_4K)).toEqual({ runs: 1, walks: 1, reads: 1 });
    // A trailing hole reads the interval past the range (its start bounds the hole).
    expect(cost(d, 0, SZ_1G + SZ_4K)).toEqual({ runs: 2, walks: 1, reads: 1 });
    expect(cost(d, SZ_1G - SZ_4K, SZ_4K + SZ_1G + SZ_4K)).toEqual({ runs: 3, walks: 1, reads: 1 });
  });
});

describe("what the runs say", () => {
  it("a mapped run's leafSize is the smallest aligned block of its MAP extents; a hole's the smallest empty block", () => {
    const d = fresh();
    iommuMap(d, 0x1000, 0x8000_1000, 0x3000, RW); // [4K, 16K): blocks 4K, 8K
    const got: string[] = [];
    iommuIovaToPhysRuns(d, 0, 0x10_0000, (r) => {
      got.push(r.toString());
    });
    expect(got).toEqual([
      "hole iova=0x0 size=0x1000",
      "mapped iova=0x1000 phys=0x80001000 size=0x3000 prot=0x3 leaf=0x1000",
      "hole iova=0x4000 size=0xfc000",
    ]);
    // The hole after it: blocks of 16K, 32K, … — the length lookup's first unit there.
    iommuIovaToPhysRuns(d, 0x4000, 0x1000, (r) => {
      expect(r.leafSize).toBe(iommuIovaToPhysLength(d, 0x4000, new PhysLength()).length);
    });
  });
  it("holes split at the aperture end as the length lookup's units do (2^48 input range)", () => {
    const d = fresh();
    const leafs: number[] = [];
    const sizes: number[] = [];
    iommuIovaToPhysRuns(d, 2 ** 48 - SZ_2M, 2 * SZ_2M, (r) => {
      leafs.push(r.leafSize);
      sizes.push(r.size);
    });
    // One hole run (holes merge); its smallest slot is the length lookup's unit on either side
    // of the aperture end: the whole aperture below, [2^48, 2^49) above — never one block
    // across the boundary.
    expect(sizes).toEqual([2 * SZ_2M]);
    const below = iommuIovaToPhysLength(d, 2 ** 48 - SZ_2M, new PhysLength()).length;
    const above = iommuIovaToPhysLength(d, 2 ** 48, new PhysLength()).length;
    expect([below, above]).toEqual([2 ** 48, 2 ** 48]);
    expect(leafs).toEqual([2 ** 48]);
    // With a MAP ending 2M below the end, the hole's unit is 2M below and 2^48 above.
    iommuMap(d, 2 ** 48 - 2 * SZ_2M, 0x8000_0000, SZ_2M, RW);
    leafs.length = 0;
    iommuIovaToPhysRuns(d, 2 ** 48 - SZ_2M, 2 * SZ_2M, (r) => {
      leafs.push(r.leafSize);
    });
    expect(leafs).toEqual([SZ_2M]);
  });
  it("map-no-overlap-check: an overlapping MAP that starts earlier shadows the older one", () => {
    const d = fresh();
    iommuMap(d, 0x4000, 0x9000_0000, 0x4000, RW); // [16K, 32K) → 0x90000000
    iommuMap(d, 0, 0x8000_0000, 0x1_0000, IOMMU_READ); // [0, 64K) → 0x80000000, inserted over it
    expect(runsOf(d, 0n, 0x1_0000n)).toEqual([
      { mapped: true, iova: 0n, phys: 0x8000_0000n, size: 0x1_0000n, prot: IOMMU_READ, leafSize: 0x1_0000 },
    ]);
    const e = fresh();
    iommuMap(e, 0, 0x8000_0000, 0x4000, RW); // [0, 16K)
    iommuMap(e, 0x2000, 0x9000_0000, 0x4000, RW); // [8K, 24K): visible from 16K on
    expect(runsOf(e, 0n, 0x8000n).map((r) => [r.iova, r.phys, r.size, r.leafSize])).toEqual([
      [0n, 0x8000_0000n, 0x4000n, 0x4000],
      [0x4000n, 0x9000_2000n, 0x2000n, 0x2000],
      [0x6000n, 0n, 0x2000n, 0],
    ]);
  });
  it("identity domains (identity intervals, BYPASS_CONFIG) answer through the core: one walk, one mapped run, no tree read", () => {
    const g = guest({ probeSize: 0 });
    const id = g.viommu.domainAllocIdentity(g.ep) as ViommuDomain;
    expect(id.type).toBe(IOMMU_DOMAIN_IDENTITY);
    id.counters = new IommuCounters();
    const r = runsOf(id, 0x1000n, 0x10_0000n);
    expect(r).toMatchObject([{ mapped: true, iova: 0x1000n, phys: 0x1000n, size: 0x10_0000n }]);
    expect(id.counters.walks).toBe(1);
    expect(id.counters.pteReads).toBe(0);
    // The BYPASS_CONFIG domain (static, no intervals at all) likewise.
    const b = guest({ bypass: false, probeSize: 0 });
    const bypass = b.viommu.domainAllocIdentity(b.ep) as ViommuDomain;
    expect(bypass.bypass).toBe(true);
    bypass.counters = new IommuCounters();
    expect(runsOf(bypass, 0x4000_0000n, 0x20_0000n)).toMatchObject([
      { mapped: true, iova: 0x4000_0000n, phys: 0x4000_0000n, size: 0x20_0000n },
    ]);
    expect([bypass.counters.walks, bypass.counters.pteReads]).toEqual([1, 0]);
  });
  it("a visitor that stops early ends the tree walk", () => {
    const d = fresh();
    for (let i = 0; i < 64; i++) iommuMap(d, i * 2 * SZ_4K, 0x8000_0000, SZ_4K, RW);
    let seen = 0;
    expect(
      iommuIovaToPhysRuns(d, 0, 128 * SZ_4K, () => {
        seen++;
        return seen < 3;
      }),
    ).toBe(3);
    expect(d.counters.pteReads).toBeLessThanOrEqual(3);
  });
  it("a sub-page granule: the op is withdrawn and the core steps with the length lookup", () => {
    const g = guest({ pageSizeMask: 0xffff_f800, attach: false });
    expect(g.domain.ops!.iovaToPhysRuns).toBeUndefined();
    expect(guest({ attach: false }).domain.ops!.iovaToPhysRuns).toBe(viommuIovaToPhysRuns);
  });
});

describe("hole units: every run's leafSize is the smallest length-lookup unit of its pages", () => {
  it("random intervals and an aperture that ends inside the window (fast-check)", () => {
    let holesSeen = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(255), fc.constantFrom(1, 4, 16), fc.nat(255)), { maxLength: 12 }),
        fc.nat(255),
        fc.nat(255),
        fc.integer({ min: 1, max: 256 }),
        (maps, a, b, apPages) => {
          const base = 2 ** 40;
          const d = fresh(false, { start: 0, end: base + apPages * SZ_4K - 1 });
          for (const [slot, pages, pa] of maps)
            iommuMap(d, base + slot * SZ_4K, 0x8000_0000 + pa * 16 * SZ_4K, pages * SZ_4K, RW);
          const from = Math.min(a, b);
          const n = Math.abs(a - b) + 1;
          const pl = new PhysLength();
          const unit = (k: number) => iommuIovaToPhysLength(d, base + k * SZ_4K, pl).length;
          let k = from;
          iommuIovaToPhysRuns(d, base + from * SZ_4K, n * SZ_4K, (r) => {
            const pages = r.size / SZ_4K;
            let min = Number.POSITIVE_INFINITY;
            for (let i = 0; i < pages; i++) min = Math.min(min, unit(k + i));
            expect(r.leafSize).toBe(min);
            if (!r.mapped) holesSeen++;
            k += pages;
          });
          expect(k).toBe(from + n);
        },
      ),
      { numRuns: 150 },
    );
    expect(holesSeen).toBeGreaterThan(100);
  });
});

describe("alignedBlockAt: the greedy split is alignedBlockIn's partition", () => {
  it("every block of random [a, b) is the unit alignedBlockIn answers for its IOVAs", () => {
    for (const [a, b] of [
      [0x1000, 0x4000],
      [0, 2 ** 64],
      [0x3000, 0x40_5000],
      [2 ** 48 - 0x1000, 2 ** 49 + 0x2000],
      [2 ** 63 + 0x1000, 2 ** 64],
    ]) {
      let x = a!;
      while (x < b!) {
        const s = alignedBlockAt(x, b!);
        expect(alignedBlockIn(x, a!, b!)).toBe(s);
        expect(alignedBlockIn(x + s - SZ_4K, a!, b!)).toBe(s);
        x += s;
      }
    }
  });
});
