/**
 * Random map/unmap sequences through the core (iommu_map / iommu_unmap) against the
 * @iommu/testing reference map with the ARMv7s kernel behaviours, with iova_to_phys_length
 * checked at every touched iova. Maps that meet earlier ones run too (EEXIST, or a section
 * replacing an L2 table), as do unmaps of single pages anywhere.
 */
import { IommuError, iommuMap, iommuUnmap } from "@iommu/core";
import { checkLengthContract, type PageTableSemantics, ReferenceMap } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import { testCfg } from "../testing/table-harness.js";
import type { ArmV7sIoPgtable } from "./arm-v7s.js";

const RW = 3;
const SPAN = 0x1000_0000; // 256 L1 slots: dense enough for tables, sections and supersections to meet
const SIZES = [
  0x1000, 0x2000, 0x3000, 0x1_0000, 0x1_1000, 0x2_0000, 0x10_0000, 0x11_0000, 0x20_0000, 0x100_0000,
  0x110_0000, 0x200_0000,
];
const ALIGNS = [0x1000, 0x1_0000, 0x10_0000, 0x100_0000];

/** ARMv7s as iommu_map/iommu_unmap callers see it. */
const V7S: PageTableSemantics = {
  pgsizeBitmap: 0x111_1000,
  mapConflict: "EEXIST",
  mapOverTable: "replace",
  entrySpan: (s) => (s < 0x10_0000 ? 0x1000 : 0x10_0000),
  unmapHole: 0,
  unmapPartialLeaf: "keep",
  unmapRange: "entry",
};

const op = fc.tuple(fc.nat(9), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff));

/** iommu_map vs the reference: the same success or errno. */
function mapBoth(
  domain: Parameters<typeof iommuMap>[0],
  ref: ReferenceMap,
  iova: number,
  pa: number,
  size: number,
) {
  const want = ref.map(iova, pa, size, RW, V7S);
  let code: string | undefined;
  try {
    iommuMap(domain, iova, pa, size, RW);
  } catch (e) {
    if (!(e instanceof IommuError)) throw e;
    code = e.code;
  }
  expect(code).toBe(want.ok ? undefined : want.errno);
  return want.ok;
}

describe("ARM_V7S against an interval map", () => {
  it("random map / overlap / unmap / hole sequences (≥ 10,000 ops)", () => {
    let ops = 0;
    const stats = { maps: 0, unmaps: 0, super: 0, refused: 0 };
    fc.assert(
      fc.property(fc.array(op, { minLength: 250, maxLength: 300 }), (seq) => {
        const cfg = testCfg();
        const pgtbl = allocIoPgtableOps(IoPgtableFmt.ARM_V7S, cfg)!;
        const domain = createIoPgtableDomain(pgtbl);
        const iop = ioPgtableOpsToPgtable(pgtbl) as ArmV7sIoPgtable;
        const ref = new ReferenceMap();
        const check = (iova: number) => checkLengthContract(domain, ref, iova);
        for (const [kind, a, b, c] of seq) {
          if (kind <= 3) {
            const size = SIZES[a % SIZES.length]!;
            const ia = ALIGNS[(a >>> 8) % ALIGNS.length]!;
            const pa = ALIGNS[(a >>> 12) % ALIGNS.length]!;
            const iova = Math.min(Math.floor((b % SPAN) / ia) * ia, SPAN - size);
            const paddr = Math.min(Math.floor(c / pa) * pa, 2 ** 32 - size);
            // Over earlier mappings too: EEXIST, or sections replacing the L2 tables under them.
            if (mapBoth(domain, ref, iova, paddr, size)) {
              stats.maps++;
              if (size >= 0x100_0000 && iova % 0x100_0000 === 0 && paddr % 0x100_0000 === 0) stats.super++;
            } else stats.refused++;
            check(iova);
            check(iova + size - 1);
          } else if (kind === 4 && ref.count) {
            const r = ref.entries[a % ref.count]!;
            const page = r.iova + (b % (r.size / 0x1000)) * 0x1000;
            expect(mapBoth(domain, ref, page, 0x1000, 0x1000)).toBe(false);
            check(page);
          } else if (kind <= 6 && ref.count) {
            // A whole run of leaves (what one map made, less what later sections replaced).
            const r = ref.entries[a % ref.count]!;
            expect(iommuUnmap(domain, r.iova, r.size)).toBe(ref.unmap(r.iova, r.size, V7S).ret);
            stats.unmaps++;
            check(r.iova);
            check(r.iova + r.size - 1);
          } else if (kind === 7 || kind <= 6) {
            // One page anywhere: a hole (0), a 4K leaf (4K) or part of a larger one (0).
            const page = Math.floor((b % SPAN) / 0x1000) * 0x1000;
            expect(iommuUnmap(domain, page, 0x1000)).toBe(ref.unmap(page, 0x1000, V7S).ret);
            check(page);
          } else {
            check(b % SPAN);
            if (ref.count) {
              const r = ref.entries[a % ref.count]!;
              check(r.iova + (c % r.size));
              check(r.iova - 1 < 0 ? r.iova + r.size : r.iova - 1);
            }
          }
          ops++;
        }
        // Every L2 table still allocated is reachable from the L1: nothing leaked.
        let reachable = 0;
        for (let i = 0; i < iop.l1Entries; i++) if ((iop.l1Entry(i) & 3) === 1) reachable++;
        expect(iop.l2Slab.liveCount).toBe(reachable);
        for (const r of [...ref.entries]) expect(iommuUnmap(domain, r.iova, r.size)).toBe(r.size);
      }),
      { numRuns: 40, seed: 0x7a5 },
    );
    // Every iteration executes an operation (none is skipped), so this counts executed ones.
    expect(ops).toBeGreaterThanOrEqual(10_000);
    // The generator must really exercise maps, refusals, unmaps and supersections.
    expect(stats.maps).toBeGreaterThan(1000);
    expect(stats.refused).toBeGreaterThan(100);
    expect(stats.unmaps).toBeGreaterThan(1000);
    expect(stats.super).toBeGreaterThan(10);
  });
});
