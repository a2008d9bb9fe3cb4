/**
 * The walk cache and the fresh-table shortcut are invisible: random map / unmap / lookup
 * sequences (single pages, runs, blocks over tables, unmaps that free tables) give the
 * same results, table memory, TLB callbacks and counters whether or not the cache is
 * dropped before every operation. And a run mapped into tables this call allocates counts
 * its entry checks like any other run.
 */

import { IotlbGather, PhysLength, SizeOut } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IO_PGTABLE_QUIRK_NO_WARN, IoPgtableFmt } from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { alloc } from "../testing/lpae-harness.js";

const K4 = 0x1000;
const M2 = 0x20_0000;
const SIZES = [K4, M2];

/** op: 0 map, 1 unmap, 2 lookup; size index; which 2M of four; page within it; count. */
const opArb = fc.tuple(fc.nat(2), fc.nat(1), fc.nat(3), fc.nat(511), fc.integer({ min: 1, max: 600 }));

describe("ARM LPAE walk cache", () => {
  it("changes nothing observable", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 50 }), (seq) => {
        const runs = [false, true].map((drop) => {
          const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1, { quirks: IO_PGTABLE_QUIRK_NO_WARN });
          const out: unknown[] = [];
          const mapped = new SizeOut();
          const pl = new PhysLength();
          for (const [kind, s, block, page, n] of seq) {
            if (drop) h.iop.invalidateCache();
            const size = SIZES[s]!;
            const count = size === M2 ? 1 + (n % 3) : n;
            const iova = Math.floor((0x4000_0000 + block * M2 + page * K4) / size) * size;
            if (kind === 0) {
              mapped.value = 0;
              out.push(h.ops.mapPages(iova, iova + 0x1_0000_0000, size, count, 3, 0, mapped), mapped.value);
            } else if (kind === 1) {
              out.push(h.ops.unmapPages(iova, size, count, new IotlbGather()));
            } else {
              h.ops.iovaToPhysLength(iova + 0x12, pl);
              out.push(pl.mapped, pl.physPfn, pl.physOffset, pl.length, ioPgtableIovaToPhys(h.ops, iova));
            }
          }
          const mem = h.allocator.mem
            .ranges()
            .map((r) => `${r.pa}:${Buffer.from(h.allocator.mem.exportRange(r.pa, r.bytes)).toString("hex")}`);
          return { out, mem, walks: h.tlb.walks, pages: h.tlb.pages, counters: h.counters.snapshot() };
        });
        expect(runs[0]).toEqual(runs[1]);
      }),
      { numRuns: 30 },
    );
  });

  it("a run into tables the same call allocates still counts every entry it checks", () => {
    const h = alloc(IoPgtableFmt.ARM_64_LPAE_S1);
    const mapped = new SizeOut();
    // Levels 0-2: one read and one table install each; level 3: 512 entries checked, 512 written.
    expect(h.ops.mapPages(0x4000_0000, 0x4000_0000, K4, 512, 3, 0, mapped)).toBe(0);
    expect(mapped.value).toBe(512 * K4);
    expect([h.counters.pteReads, h.counters.pteWrites]).toEqual([3 + 512, 3 + 512]);
  });
});
