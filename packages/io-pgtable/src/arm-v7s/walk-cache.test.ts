/**
 * The remembered L2 table is invisible: the same operations give the same results, table
 * memory, TLB callbacks and counters whether or not the cache is dropped before each one,
 * including runs that replace or free L2 tables (1M sections over them, 1M unmaps of them).
 */

import { IotlbGather, PhysLength, SizeOut } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { testCfg } from "../testing/table-harness.js";
import type { ArmV7sIoPgtable } from "./arm-v7s.js";

const SIZES = [0x1000, 0x1_0000, 0x10_0000];

/** op: 0 map, 1 unmap, 2 lookup; size index; which MiB of four; page within it. */
const opArb = fc.tuple(fc.nat(2), fc.nat(2), fc.nat(3), fc.nat(255), fc.integer({ min: 1, max: 3 }));

describe("ARM_V7S L2 table cache", () => {
  it("changes nothing observable", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 60 }), (seq) => {
        const runs = [false, true].map((drop) => {
          const cfg = testCfg();
          const ops = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg)!;
          const iop = ioPgtableOpsToPgtable(ops) as ArmV7sIoPgtable;
          const out: unknown[] = [];
          const mapped = new SizeOut();
          const pl = new PhysLength();
          for (const [kind, s, mib, page, count] of seq) {
            if (drop) iop.invalidateCache();
            const size = SIZES[s]!;
            const iova = Math.floor((0x4000_0000 + mib * 0x10_0000 + page * 0x1000) / size) * size;
            if (kind === 0) {
              mapped.value = 0;
              out.push(ops.mapPages(iova, iova + 0x1000_0000, size, count, 3, 0, mapped), mapped.value);
            } else if (kind === 1) {
              out.push(ops.unmapPages(iova, size, count, new IotlbGather()));
            } else {
              ops.iovaToPhysLength(iova + 0x12, pl);
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
});
