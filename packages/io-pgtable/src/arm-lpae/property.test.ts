/**
 * Property tests: random map_pages/unmap_pages sequences on every format and granule,
 * against a reference model of the kernel's semantics for aligned inputs (the leaves in the
 * @iommu/testing ReferenceMap, plus which entries hold tables in its TableShadow — tables
 * outlive their leaves). After each
 * operation every touched iova is looked up with iova_to_phys_length and checked against
 * the reference, and the number of live tables must equal the reference's.
 */

import { PhysLength, SizeOut } from "@iommu/core";
import { ReferenceMap, TableShadow } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IO_PGTABLE_QUIRK_NO_WARN, IoPgtableFmt } from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { alloc, type Harness } from "../testing/lpae-harness.js";

interface Leaf {
  iova: number;
  pa: number;
  size: number;
}

interface Config {
  name: string;
  fmt: IoPgtableFmt;
  pgsizeBitmap: number;
  ias: number;
  oas: number;
  /** Region bases that operations cluster in (so they overlap). */
  regions: number[];
}

const CONFIGS: Config[] = [
  {
    name: "arm64-s1 4K 48/48",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    pgsizeBitmap: 0x40201000,
    ias: 48,
    oas: 48,
    regions: [0, 2 ** 39 * 3, 2 ** 48 - 2 ** 31],
  },
  {
    name: "arm64-s1 16K 48/48",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    pgsizeBitmap: 0x2004000,
    ias: 48,
    oas: 48,
    regions: [0, 2 ** 47, 2 ** 48 - 2 ** 26],
  },
  {
    name: "arm64-s1 64K 52/52",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    pgsizeBitmap: 0x20010000 + 2 ** 42,
    ias: 52,
    oas: 52,
    regions: [0, 2 ** 51, 2 ** 52 - 2 ** 43],
  },
  {
    name: "arm64-s2 4K 40/40 concat",
    fmt: IoPgtableFmt.ARM_64_LPAE_S2,
    pgsizeBitmap: 0x40201000,
    ias: 40,
    oas: 40,
    regions: [0, 2 ** 39 - 2 ** 31, 2 ** 40 - 2 ** 31],
  },
  {
    name: "arm64-s2 16K 40/40 concat",
    fmt: IoPgtableFmt.ARM_64_LPAE_S2,
    pgsizeBitmap: 0x2004000,
    ias: 40,
    oas: 40,
    regions: [0, 2 ** 36, 2 ** 40 - 2 ** 26],
  },
  {
    name: "arm32-s1 4K 32/40",
    fmt: IoPgtableFmt.ARM_32_LPAE_S1,
    pgsizeBitmap: 0x40201000,
    ias: 32,
    oas: 40,
    regions: [0, 2 ** 31, 2 ** 32 - 2 ** 31],
  },
  {
    name: "mali 4K 48/40",
    fmt: IoPgtableFmt.ARM_MALI_LPAE,
    pgsizeBitmap: 0x40201000,
    ias: 48,
    oas: 40,
    regions: [0, 2 ** 40, 2 ** 48 - 2 ** 31],
  },
];

/**
 * The io_pgtable_ops-level rules of io-pgtable-arm.c over the @iommu/testing models: the
 * leaves in a ReferenceMap, and which entries hold tables (tables outlive their leaves) in a
 * TableShadow indexed from the start level.
 */
class Reference {
  readonly leaves = new ReferenceMap();
  readonly tables: TableShadow;
  /** Which kernel behaviours the sequence exercised (shared across runs). */
  static readonly events = new Set<string>();

  constructor(
    readonly start: number,
    readonly block: (l: number) => number,
  ) {
    this.tables = new TableShadow([0, 1, 2, 3].filter((l) => l >= start).map(block));
  }

  covering(iova: number): Leaf | undefined {
    const l = this.leaves.lookup(iova);
    return l && { iova: l.unitIova, pa: l.phys - (iova - l.unitIova), size: l.unitSize };
  }

  /** The leaf of exactly `size` starting at `iova`, if any. */
  leafAt(iova: number, size: number): Leaf | undefined {
    const l = this.covering(iova);
    return l && l.iova === iova && l.size === size ? l : undefined;
  }

  hasTable(l: number, iova: number): boolean {
    return this.tables.has(l - this.start, iova);
  }

  /** A table entry at level l for the slot at `iova` is dropped with everything below it. */
  freeSlot(l: number, iova: number): void {
    const bs = this.block(l);
    this.leaves.cut(Math.floor(iova / bs) * bs, bs);
    this.tables.drop(l - this.start, iova);
  }

  tableCount(): number {
    return 1 + this.tables.count;
  }

  /** Expected map_pages(iova, pa, size, n) result; applies it. Inputs are aligned. */
  map(iova: number, pa: number, level: number, n: number, ptes: number): { ret: number; mapped: number } {
    const size = this.block(level);
    for (let l = this.start; l < level; l++) {
      const leaf = this.covering(iova);
      if (leaf && leaf.size === this.block(l)) {
        Reference.events.add("eexist-under-block");
        return { ret: -17, mapped: 0 };
      }
      this.tables.install(l - this.start, iova);
    }
    const idx = Math.floor(iova / size) % ptes;
    const count = Math.min(n, ptes - idx);
    for (let i = 0; i < count; i++) {
      const at = iova + i * size;
      if (this.leafAt(at, size)) {
        Reference.events.add("eexist-same-level");
        return { ret: -17, mapped: 0 };
      }
      if (level < 3 && this.hasTable(level, at)) {
        Reference.events.add("block-over-table");
        this.freeSlot(level, at);
      }
    }
    if (count < n) Reference.events.add("map-stops-at-table-end");
    this.leaves.add({ iova, size: count * size, phys: pa, leaf: size });
    return { ret: 0, mapped: count * size };
  }

  /** Expected unmap_pages(iova, size, 1) result; applies it. */
  unmap(iova: number, level: number): number {
    const size = this.block(level);
    const leaf = this.covering(iova);
    if (leaf && leaf.size > size) {
      Reference.events.add("partial-unmap");
      return 0;
    }
    for (let l = this.start; l < level; l++)
      if (!this.hasTable(l, iova)) {
        Reference.events.add("unmap-hole-above");
        return -2;
      }
    if (leaf && leaf.iova === iova && leaf.size === size) {
      this.leaves.cut(iova, size);
      return size;
    }
    if (level < 3 && this.hasTable(level, iova)) {
      Reference.events.add("unmap-table");
      this.freeSlot(level, iova);
      return size;
    }
    Reference.events.add("unmap-hole");
    return -2;
  }

  /** Span of the empty entry the walk stops at. */
  holeSpan(iova: number): number {
    return this.tables.holeSpan(iova);
  }
}

type Op = {
  kind: "map" | "unmap" | "unmapLeaf";
  sizeIdx: number;
  region: number;
  k: number;
  count: number;
  pa: number;
  probe: number;
};

function opArb(ptes: number): fc.Arbitrary<Op> {
  return fc.record({
    kind: fc.constantFrom<Op["kind"]>("map", "map", "map", "unmap", "unmapLeaf"),
    sizeIdx: fc.nat(2),
    region: fc.nat(2),
    k: fc.oneof(
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: ptes - 3, max: ptes + 3 }),
      fc.nat(4 * ptes),
    ),
    count: fc.integer({ min: 1, max: 4 }),
    pa: fc.nat(2 ** 20),
    probe: fc.double({ min: 0, max: 1, noNaN: true }),
  });
}

function check(h: Harness, ref: Reference, iova: number, out: PhysLength): void {
  h.ops.iovaToPhysLength(iova, out);
  const leaf = ref.covering(iova);
  if (leaf) {
    expect(out.mapped).toBe(true);
    expect(out.length).toBe(leaf.size);
    expect(out.physNumber).toBe(leaf.pa + (iova - leaf.iova));
    expect(Math.floor(iova / out.length) * out.length).toBe(leaf.iova);
    const k = Math.floor((leaf.iova + leaf.size - 1 - iova) / 2);
    h.ops.iovaToPhysLength(iova + k, out);
    expect(out.physNumber).toBe(leaf.pa + (iova - leaf.iova) + k);
    expect(ioPgtableIovaToPhys(h.ops, iova)).toBe(leaf.pa + (iova - leaf.iova));
  } else {
    expect(out.mapped).toBe(false);
    expect(out.length).toBe(ref.holeSpan(iova));
    expect(Number.isInteger(Math.log2(out.length))).toBe(true);
    expect(ioPgtableIovaToPhys(h.ops, iova)).toBe(0);
  }
}

describe.each(CONFIGS)("random map/unmap vs reference: $name", (c) => {
  it("agrees on every return, lookup and table count", () => {
    const probe = alloc(c.fmt, { pgsizeBitmap: c.pgsizeBitmap, ias: c.ias, oas: c.oas });
    const ptes = probe.iop.ptesPerTable;
    const levels = [3, 2, 1].filter((l) => l >= probe.iop.startLevel && probe.iop.blockSize[l]! <= 2 ** 42);
    const sizes = levels
      .map((l) => probe.iop.blockSize[l]!)
      .filter((s) => (probe.cfg.pgsizeBitmap / s) % 2 >= 1);
    let total = 0;
    fc.assert(
      fc.property(fc.array(opArb(ptes), { minLength: 100, maxLength: 160 }), (ops) => {
        const h = alloc(c.fmt, {
          pgsizeBitmap: c.pgsizeBitmap,
          ias: c.ias,
          oas: c.oas,
          quirks: c.fmt === IoPgtableFmt.ARM_MALI_LPAE ? 0 : IO_PGTABLE_QUIRK_NO_WARN,
        });
        const ref = new Reference(h.iop.startLevel, (l) => h.iop.blockSize[l]!);
        const out = new PhysLength();
        for (const op of ops) {
          total++;
          const size = sizes[op.sizeIdx % sizes.length]!;
          const level = levels.find((l) => h.iop.blockSize[l] === size)!;
          const span = 4 * sizes[sizes.length - 1]!;
          let iova = c.regions[op.region]! + ((op.k * size) % span);
          if (iova + size * op.count > 2 ** c.ias) iova = 2 ** c.ias - size * op.count;
          if (op.kind === "map") {
            // The kernel checks only the first paddr against oas: keep the whole run inside it.
            const pa = (op.pa % (2 ** c.oas / size - op.count)) * size;
            const mapped = new SizeOut();
            const ret = h.ops.mapPages(iova, pa, size, op.count, 3, 0, mapped);
            expect({ ret, mapped: mapped.value }).toEqual(ref.map(iova, pa, level, op.count, ptes));
          } else {
            if (op.kind === "unmapLeaf" && ref.leaves.count > 0) {
              const run = ref.leaves.entries[op.k % ref.leaves.count]!;
              const leaf = {
                iova: run.iova + ((op.k >>> 4) % (run.size / run.leaf)) * run.leaf,
                size: run.leaf,
              };
              iova = leaf.iova;
              const l = levels.find((x) => h.iop.blockSize[x] === leaf.size)!;
              expect(h.ops.unmapPages(iova, leaf.size, 1, null)).toBe(ref.unmap(iova, l));
            } else expect(h.ops.unmapPages(iova, size, 1, null)).toBe(ref.unmap(iova, level));
          }
          check(h, ref, iova, out);
          check(h, ref, Math.min(iova + Math.floor(op.probe * size * op.count), 2 ** c.ias - 1), out);
          expect(h.allocator.liveCount).toBe(ref.tableCount());
        }
      }),
      { numRuns: 100, seed: 0x1ea5e },
    );
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});

describe("the random sequences reach every kernel behaviour modelled", () => {
  it("EEXIST both ways, block over table, table ends, partial unmaps, holes, table unmaps", () => {
    expect([...Reference.events].sort()).toEqual(
      [
        "block-over-table",
        "eexist-same-level",
        "eexist-under-block",
        "map-stops-at-table-end",
        "partial-unmap",
        "unmap-hole",
        "unmap-hole-above",
        "unmap-table",
      ].sort(),
    );
  });
});
