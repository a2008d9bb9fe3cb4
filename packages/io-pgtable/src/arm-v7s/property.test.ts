/**
 * Random map/unmap sequences through the core (iommu_map / iommu_unmap) against an interval
 * map, with iova_to_phys_length checked at every touched iova.
 */
import { IommuError, iommuMap, iommuUnmap } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import type { ArmV7sIoPgtable } from "./arm-v7s.js";
import { checkLookup, RefMap, testCfg } from "./test-util.js";

const RW = 3;
const SPAN = 0x1000_0000; // 256 L1 slots: dense enough for tables, sections and supersections to meet
const SIZES = [
  0x1000, 0x2000, 0x3000, 0x1_0000, 0x1_1000, 0x2_0000, 0x10_0000, 0x11_0000, 0x20_0000, 0x100_0000,
  0x110_0000, 0x200_0000,
];
const ALIGNS = [0x1000, 0x1_0000, 0x10_0000, 0x100_0000];

const op = fc.tuple(fc.nat(9), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff));

describe("ARM_V7S against an interval map", () => {
  it("random map / overlap / unmap / hole sequences (≥ 10,000 ops)", () => {
    let ops = 0;
    const stats = { maps: 0, unmaps: 0, super: 0 };
    fc.assert(
      fc.property(fc.array(op, { minLength: 250, maxLength: 300 }), (seq) => {
        const cfg = testCfg();
        const pgtbl = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg)!;
        const domain = createIoPgtableDomain(pgtbl);
        const iop = ioPgtableOpsToPgtable(pgtbl) as ArmV7sIoPgtable;
        const ref = new RefMap();
        for (const [kind, a, b, c] of seq) {
          ops++;
          if (kind <= 3) {
            const size = SIZES[a % SIZES.length]!;
            const ia = ALIGNS[(a >>> 8) % ALIGNS.length]!;
            const pa = ALIGNS[(a >>> 12) % ALIGNS.length]!;
            const iova = Math.floor((b % SPAN) / ia) * ia;
            const paddr = Math.floor(c / pa) * pa;
            if (iova + size > SPAN || paddr + size > 2 ** 32 || !ref.isFree(iova, size)) continue;
            iommuMap(domain, iova, paddr, size, RW);
            stats.maps++;
            if (size >= 0x100_0000 && iova % 0x100_0000 === 0 && paddr % 0x100_0000 === 0) stats.super++;
            ref.add({ iova, pa: paddr, size });
            checkLookup(domain, ref, iova);
            checkLookup(domain, ref, iova + size - 1);
          } else if (kind === 4 && ref.regions.length) {
            const r = ref.regions[a % ref.regions.length]!;
            const page = r.iova + (b % (r.size / 0x1000)) * 0x1000;
            expect(() => iommuMap(domain, page, 0x1000, 0x1000, RW)).toThrowError(IommuError);
            checkLookup(domain, ref, page);
          } else if (kind <= 6 && ref.regions.length) {
            const r = ref.regions[a % ref.regions.length]!;
            expect(iommuUnmap(domain, r.iova, r.size)).toBe(r.size);
            stats.unmaps++;
            ref.remove(r);
            checkLookup(domain, ref, r.iova);
            checkLookup(domain, ref, r.iova + r.size - 1);
          } else if (kind === 7) {
            const page = Math.floor((b % SPAN) / 0x1000) * 0x1000;
            if (ref.find(page)) continue;
            expect(iommuUnmap(domain, page, 0x1000)).toBe(0);
          } else {
            checkLookup(domain, ref, b % SPAN);
            if (ref.regions.length) {
              const r = ref.regions[a % ref.regions.length]!;
              checkLookup(domain, ref, r.iova + (c % r.size));
              checkLookup(domain, ref, r.iova - 1 < 0 ? r.iova + r.size : r.iova - 1);
            }
          }
        }
        // Every L2 table still allocated is reachable from the L1: nothing leaked.
        let reachable = 0;
        for (let i = 0; i < iop.l1Entries; i++) if ((iop.l1Entry(i) & 3) === 1) reachable++;
        expect(iop.l2Slab.liveCount).toBe(reachable);
        for (const r of [...ref.regions]) expect(iommuUnmap(domain, r.iova, r.size)).toBe(r.size);
      }),
      { numRuns: 40, seed: 0x7a5 },
    );
    expect(ops).toBeGreaterThanOrEqual(10_000);
    // The generator must really exercise maps, unmaps and supersections.
    expect(stats.maps).toBeGreaterThan(1000);
    expect(stats.unmaps).toBeGreaterThan(1000);
    expect(stats.super).toBeGreaterThan(10);
  });
});
