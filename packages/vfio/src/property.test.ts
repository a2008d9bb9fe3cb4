/**
 * Random map/unmap/attach/detach sequences against the @iommu/testing reference map: the tracked
 * dma list, the pins, locked_vm and every domain's page table must stay consistent after
 * any input, good or bad; and legacy vs length-aware unmap must end in the same state with
 * no more lookups.
 */
import { ReferenceMap } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { UnmapMode } from "./context.js";
import { expectConsistent, map, type Setup, setup, unmap, V } from "./testing/harness.js";
import { type LpaeLikeDomain, leavesOf } from "./testing/lpae-like-domain.js";
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_TYPE1_IOMMU,
} from "./uapi.js";

const PG = 0x1000;
const MiB2 = 0x200000;

/** User memory: [region start, pages, read-only]. Gaps between them make GUP fail. */
const REGIONS = [
  { vaddr: V, size: 64 * PG, kind: "scattered", ro: false },
  { vaddr: V + 0x1000000 + 3 * PG, size: 3 * MiB2, kind: "thp", ro: false },
  { vaddr: V + 0x2000000, size: 4 * MiB2, kind: "hugetlb2m", ro: false },
  { vaddr: V + 0x3000000, size: 16 * PG, kind: "scattered", ro: true },
] as const;

type Op =
  | {
      t: "map";
      region: number;
      offPages: number;
      pages: number;
      iovaSlot: number;
      iovaPage: number;
      prot: number;
    }
  | { t: "unmap"; iovaSlot: number; iovaPage: number; pages: number }
  | { t: "unmapAll" }
  | { t: "attach" }
  | { t: "detach" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("map" as const),
      region: fc.integer({ min: 0, max: REGIONS.length - 1 }),
      offPages: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.constantFrom(0, 512, 1021)),
      pages: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(512, 1024, 515)),
      iovaSlot: fc.integer({ min: 0, max: 7 }),
      iovaPage: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600 })),
      prot: fc.constantFrom(VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, 3),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("unmap" as const),
      iovaSlot: fc.integer({ min: 0, max: 7 }),
      iovaPage: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600 })),
      pages: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(512, 1024, 4096)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "unmapAll" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "attach" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "detach" as const }) },
);

/**
 * The reference: which requests succeed, and the DMA mappings that result, in the
 * @iommu/testing ReferenceMap (one entry per DMA; v2 or v1 unmap rules).
 */
class Reference {
  readonly dmas = new ReferenceMap();

  constructor(private readonly v1 = false) {}

  private backed(vaddr: number, size: number, write: boolean): boolean {
    for (let v = vaddr; v < vaddr + size; v += PG) {
      const r = REGIONS.find((x) => v >= x.vaddr && v < x.vaddr + x.size);
      if (!r || (write && r.ro)) return false;
    }
    return true;
  }

  map(vaddr: number, iova: number, size: number, prot: number): number {
    if (!this.dmas.isFree(iova, size)) return -17;
    if (!this.backed(vaddr, size, (prot & VFIO_DMA_MAP_FLAG_WRITE) !== 0)) return -14;
    this.dmas.add({ iova, size, phys: vaddr, prot });
    return 0;
  }

  unmap(iova: number, size: number): [number, number] {
    const r = this.v1 ? this.dmas.unmapWholeFromStart(iova, size) : this.dmas.unmapContained(iova, size);
    return [r.ret, r.bytes];
  }

  /** [iova, size] of every DMA, ascending. */
  list(): number[][] {
    return this.dmas.entries.map((d) => [d.iova, d.size]);
  }
}

const stats = { maps: 0, mapOk: 0 };

function apply(s: Setup, ref: Reference | null, op: Op): void {
  const c = s.c;
  switch (op.t) {
    case "map": {
      const r = REGIONS[op.region]!;
      const vaddr = r.vaddr + op.offPages * PG;
      const iova = op.iovaSlot * 8 * MiB2 + op.iovaPage * PG;
      const size = op.pages * PG;
      const ret = map(c, vaddr, iova, size, op.prot);
      stats.maps++;
      if (ret === 0) stats.mapOk++;
      if (ref) expect(ret).toBe(ref.map(vaddr, iova, size, op.prot));
      break;
    }
    case "unmap": {
      const iova = op.iovaSlot * 8 * MiB2 + op.iovaPage * PG;
      const got = unmap(c, iova, op.pages * PG);
      if (ref) expect(got).toEqual(ref.unmap(iova, op.pages * PG));
      break;
    }
    case "unmapAll": {
      const got = unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);
      if (ref) {
        expect(got).toEqual([0, ref.dmas.bytes]);
        ref.dmas.clear();
      }
      break;
    }
    case "attach":
      // Group 2 is a second driver: replay into a fresh domain.
      if (!c.hasGroup(2)) expect(c.attachGroup(2)).toBe(0);
      break;
    case "detach":
      // Keep group 1 (detaching the last domain would drop every mapping: tested elsewhere).
      c.detachGroup(2);
      break;
  }
}

function newSetup(mode: UnmapMode, v1 = false): Setup {
  const s = setup({ unmapMode: mode, ...(v1 ? { type: VFIO_TYPE1_IOMMU } : {}) });
  for (const [i, r] of REGIONS.entries())
    s.mm.memory.addRegion({ vaddr: r.vaddr, size: r.size, kind: r.kind, seed: 10 + i, readOnly: r.ro });
  expect(s.c.attachGroup(1)).toBe(0);
  return s;
}

describe("random map/unmap sequences", () => {
  it("keep dma list, pins, locked_vm and page tables consistent (vs an interval map)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        const s = newSetup("legacy");
        const ref = new Reference();
        for (const op of ops) {
          apply(s, ref, op);
          expectConsistent(s);
          const got = s.c
            .dmaList()
            .map((d) => [d.iova, d.size])
            .sort((a, b) => a[0]! - b[0]!);
          expect(got).toEqual(ref.list());
        }
      }),
      { numRuns: 60 },
    );
    // The generator must exercise both outcomes.
    expect(stats.mapOk).toBeGreaterThan(stats.maps / 5);
    expect(stats.mapOk).toBeLessThan(stats.maps);
  });

  it("v1 containers follow the v1 unmap rules (vs the same interval map)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        const s = newSetup("legacy", true);
        const ref = new Reference(true);
        for (const op of ops) {
          apply(s, ref, op);
          expectConsistent(s);
        }
        const got = s.c.dmaList().map((d) => [d.iova, d.size]);
        expect(got).toEqual(ref.list());
      }),
      { numRuns: 40 },
    );
  });

  it("legacy, length-aware and runs unmap reach the same state; length never walks more, runs least", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        const runs = (["legacy", "length", "length-naive", "runs"] as const).map((mode) => {
          const s = newSetup(mode);
          for (const op of ops) apply(s, null, op);
          return s;
        });
        const [legacy, length, naive, ranged] = runs as [Setup, Setup, Setup, Setup];
        const state = (s: Setup) => ({
          dmas: s.c.dmaList(),
          pinned: s.mm.pinned,
          locked: s.mm.lockedVm,
          tables: s.c.domainList.map((d) => leavesOf(d.domain as LpaeLikeDomain)),
        });
        const calls = (s: Setup) => {
          const { iovaToPhys: _w, ...rest } = s.c.vfioCounters.snapshot();
          return rest;
        };
        expect(state(length)).toEqual(state(legacy));
        expect(state(naive)).toEqual(state(legacy));
        expect(calls(length)).toEqual(calls(legacy));
        expect(calls(naive)).toEqual(calls(legacy));
        expect(state(ranged)).toEqual(state(legacy));
        expect(calls(ranged)).toEqual(calls(legacy));
        expect(ranged.c.vfioCounters.iovaToPhys).toBeLessThanOrEqual(length.c.vfioCounters.iovaToPhys);
        expect(length.c.vfioCounters.iovaToPhys).toBeLessThanOrEqual(naive.c.vfioCounters.iovaToPhys);
        expect(naive.c.vfioCounters.iovaToPhys).toBeLessThanOrEqual(legacy.c.vfioCounters.iovaToPhys);
      }),
      { numRuns: 40 },
    );
  });
});
