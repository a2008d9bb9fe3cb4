/**
 * The remembered leaf table is invisible: the same operations give the same results, table
 * memory, TLB callbacks and counters whether or not the cache is dropped before each one;
 * and the reads counted follow the kernel's walk (one per table level, then the leaves).
 */

import { IotlbGather, PhysLength, SizeOut } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { testCfg } from "../testing/table-harness.js";
import type { AppleDartIoPgtable } from "./apple-dart.js";

const PG = 0x4000;
const LEAF_SPAN = PG * (PG / 8);

function fixture(fmt: IoPgtableFmt) {
  const cfg = testCfg({ pgsizeBitmap: PG, ias: 32, oas: 36 });
  const ops = allocIoPgtableOps(fmt, cfg)!;
  return { cfg, ops, iop: ioPgtableOpsToPgtable(ops) as AppleDartIoPgtable };
}

/** op: 0 map, 1 unmap, 2 lookup; in one of three leaf tables, a few pages at a time. */
const opArb = fc.tuple(fc.nat(2), fc.nat(2), fc.nat(40), fc.integer({ min: 1, max: 4 }));

for (const [name, fmt] of [
  ["APPLE_DART", IoPgtableFmt.APPLE_DART],
  ["APPLE_DART2", IoPgtableFmt.APPLE_DART2],
] as const) {
  describe(`${name} leaf-table cache`, () => {
    it("changes nothing observable", () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 20, maxLength: 60 }), (seq) => {
          const runs = [false, true].map((drop) => {
            const { cfg, ops, iop } = fixture(fmt);
            const out: unknown[] = [];
            const mapped = new SizeOut();
            const pl = new PhysLength();
            for (const [kind, table, page, count] of seq) {
              if (drop) iop.invalidateCache();
              const iova = 0x1000_0000 + table * LEAF_SPAN + page * PG;
              if (kind === 0) {
                mapped.value = 0;
                out.push(ops.mapPages(iova, 0x8_0000_0000 + iova, PG, count, 3, 0, mapped), mapped.value);
              } else if (kind === 1) {
                out.push(ops.unmapPages(iova, PG, count, new IotlbGather()));
              } else {
                ops.iovaToPhysLength(iova + 0x123, pl);
                out.push(pl.mapped, pl.physPfn, pl.physOffset, pl.length, ioPgtableIovaToPhys(ops, iova));
              }
            }
            const mem = cfg.allocator.mem
              .ranges()
              .map(
                (r) => `${r.pa}:${Buffer.from(cfg.allocator.mem.exportRange(r.pa, r.bytes)).toString("hex")}`,
              );
            return { out, mem, tlb: cfg.tlb.calls, counters: cfg.counters.snapshot() };
          });
          expect(runs[0]).toEqual(runs[1]);
        }),
        { numRuns: 40 },
      );
    });

    it("counts one read per table level, then the leaves", () => {
      const { cfg, ops } = fixture(fmt);
      const c = cfg.counters;
      const mapped = new SizeOut();
      const base = 0x1000_0000;
      // First page: the level-2 entry is empty, so a table is installed and re-read.
      ops.mapPages(base, base, PG, 1, 3, 0, mapped);
      expect([c.pteReads, c.pteWrites]).toEqual([3, 2]);
      // Next page in the same leaf table (the remembered one): level-2 entry + the leaf.
      ops.mapPages(base + PG, base + PG, PG, 2, 3, 0, mapped);
      expect([c.pteReads, c.pteWrites]).toEqual([3 + 1 + 2, 2 + 2]);
      const pl = new PhysLength();
      ops.iovaToPhysLength(base + PG, pl);
      expect(c.pteReads).toBe(6 + 2);
      expect(ops.unmapPages(base, PG, 3, new IotlbGather())).toBe(3 * PG);
      expect([c.pteReads, c.pteWrites]).toEqual([8 + 1 + 3, 4 + 3]);
    });
  });
}
