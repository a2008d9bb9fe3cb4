/**
 * The walk cache, the fresh-table shortcut and the single-page fast paths built on the cache are
 * invisible: random map / unmap / lookup sequences (single pages, runs, blocks over tables,
 * unmaps that free tables) give the same results, table memory, TLB callbacks and counters
 * whether or not the cache is dropped before every operation (dropped, no fast path can run), in
 * every granule, with a non-coherent walk, and in the S2 and Mali formats. And a run mapped into tables this call allocates counts
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

/**
 * Configurations: each granule (its page and block sizes), a non-coherent walk (the fast paths
 * decline, the full path syncs), and the other LPAE formats (their leaf types and prot).
 */
const CONFIGS = [
  { name: "S1 4K", fmt: IoPgtableFmt.ARM_64_LPAE_S1, bitmap: 0x40201000, page: K4, block: M2 },
  { name: "S1 16K", fmt: IoPgtableFmt.ARM_64_LPAE_S1, bitmap: 0x02004000, page: 0x4000, block: 0x200_0000 },
  {
    name: "S1 64K",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    bitmap: 0x20010000,
    page: 0x1_0000,
    block: 0x2000_0000,
  },
  {
    name: "S1 4K non-coherent",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    bitmap: 0x40201000,
    page: K4,
    block: M2,
    incoherent: true,
  },
  { name: "S2 4K", fmt: IoPgtableFmt.ARM_64_LPAE_S2, bitmap: 0x40201000, page: K4, block: M2 },
  // Mali takes no quirks and at most a 40-bit output.
  { name: "Mali 4K", fmt: IoPgtableFmt.ARM_MALI_LPAE, bitmap: 0x40201000, page: K4, block: M2, mali: true },
] as const;

/**
 * op: 0 map, 1 unmap, 2 lookup; page or block; which block of four; page within it; count (one
 * page half the time: the single-page fast paths).
 */
const opArb = fc.tuple(
  fc.nat(2),
  fc.nat(1),
  fc.nat(3),
  fc.nat(511),
  fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 600 })),
);

describe("ARM LPAE walk cache", () => {
  it.each(CONFIGS)("changes nothing observable: $name", (c) => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 50 }), (seq) => {
        const runs = [false, true].map((drop) => {
          const h = alloc(c.fmt, {
            quirks: "mali" in c ? 0 : IO_PGTABLE_QUIRK_NO_WARN,
            oas: "mali" in c ? 40 : 48,
            pgsizeBitmap: c.bitmap,
            coherentWalk: !("incoherent" in c),
          });
          const out: unknown[] = [];
          const mapped = new SizeOut();
          const pl = new PhysLength();
          for (const [kind, s, block, page, n] of seq) {
            if (drop) h.iop.invalidateCache();
            const size = s === 0 ? c.page : c.block;
            const count = size === c.block ? 1 + (n % 3) : n;
            const iova =
              Math.floor((c.block * 32 + block * c.block + (page % (c.block / c.page)) * c.page) / size) *
              size;
            if (kind === 0) {
              mapped.value = 0;
              out.push(h.ops.mapPages(iova, iova + 2 ** 32, size, count, 3, 0, mapped), mapped.value);
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
