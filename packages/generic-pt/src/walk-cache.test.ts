/**
 * Model-only (iommu_pt.h walks from the top every time; the walk cache is the model's): random
 * map / unmap / lookup sequences (single pages, runs, 2M leaves over tables, unmaps that free
 * tables, amdv1 top growth) give the same returns, gathers, table memory and counters whether
 * or not the cache is dropped before every operation (dropped, no cached-leaf path can run).
 */
import { IotlbGather, iommuIovaToPhys, PhysLength, SizeOut } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import { PT_FORMAT_NAMES } from "./formats/index.js";

const K4 = 0x1000;
const M2 = 0x20_0000;
const FORMATS = PT_FORMAT_NAMES;

/**
 * op: 0 map, 1 unmap, 2 lookup; 4K or 2M; which 2M of four (or far away); page (mostly the
 * first few, so operations meet); 4K page count (512 from page 0 fills a whole table); through
 * the domain ops or the table's own entry points (the script's), which both have a cached-leaf
 * path of their own.
 */
const opArb = fc.tuple(
  fc.nat(2),
  fc.nat(1),
  fc.nat(4),
  fc.oneof(fc.nat(3), fc.nat(511)),
  fc.constantFrom(1, 1, 2, 7, 512, 600),
  fc.boolean(),
);

describe.each(FORMATS)("generic_pt %s walk cache", (format) => {
  it("changes nothing observable", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 60 }), (seq) => {
        const runs = [false, true].map((drop) => {
          const d = createPtDomain(format);
          const ops = d.ops;
          const out: unknown[] = [];
          const mapped = new SizeOut();
          const pl = new PhysLength();
          for (const [kind, s, block, page, n, viaTable] of seq) {
            if (drop) d.pt.forgetWalks();
            const size = s === 0 ? K4 : M2;
            const count = size === M2 ? 1 + (n % 3) : n;
            // Block 4 lies 2^40 away: a walk through other upper-level tables (amdv1 grows).
            const where = block === 4 ? 2 ** 40 : 0x4000_0000 + block * M2;
            const iova = Math.floor((where + page * K4) / size) * size;
            if (kind === 0) {
              mapped.value = 0;
              const pa = iova + 0x1_0000_0000;
              out.push(
                viaTable
                  ? d.pt.mapPages(iova, pa, size, count, 3, mapped)
                  : ops.mapPages(d, iova, pa, size, count, 3, 0, mapped),
                mapped.value,
              );
            } else if (kind === 1) {
              const g = new IotlbGather();
              out.push(
                viaTable ? d.pt.unmapPages(iova, size, count, g) : ops.unmapPages(d, iova, size, count, g),
                g.start,
                g.endExcl,
                g.pgsize,
                g.freelist.length,
              );
              ops.iotlbSync!(d, g);
            } else {
              if (viaTable) d.pt.iovaToPhysLength(iova + 0x12, pl);
              else ops.iovaToPhysLength!(d, iova + 0x12, pl);
              out.push(pl.mapped, pl.physPfn, pl.physOffset, pl.length, iommuIovaToPhys(d, iova));
            }
          }
          const mem = d.pt.alloc.mem
            .ranges()
            .map((r) => `${r.pa}:${Buffer.from(d.pt.alloc.mem.exportRange(r.pa, r.bytes)).toString("hex")}`);
          return { out, mem, counters: d.counters.snapshot() };
        });
        expect(runs[0]).toEqual(runs[1]);
      }),
      { numRuns: 100 },
    );
  });
});
