/**
 * Random map/unmap sequences through the core against the @iommu/testing reference map, for
 * DART1 and DART2 with 16K pages and DART1 with 4K pages (four TTBRs).
 */

import { IommuError, iommuMap, iommuUnmap } from "@iommu/core";
import { checkLengthContract, type PageTableSemantics, ReferenceMap } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { testCfg } from "../testing/table-harness.js";
import type { AppleDartIoPgtable } from "./apple-dart.js";

const op = fc.tuple(fc.nat(9), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff), fc.nat(0xffff_ffff));

const CASES = [
  { name: "DART1 16K ias 32", fmt: IoPgtableFmt.APPLE_DART, pg: 0x4000, ias: 32, oas: 36, span: 0x4000_0000 },
  { name: "DART2 16K ias 42", fmt: IoPgtableFmt.APPLE_DART2, pg: 0x4000, ias: 42, oas: 42, span: 2 ** 37 },
  {
    name: "DART1 4K ias 32 (4 TTBRs)",
    fmt: IoPgtableFmt.APPLE_DART,
    pg: 0x1000,
    ias: 32,
    oas: 36,
    span: 2 ** 32,
  },
];

/** DART as iommu_map/iommu_unmap callers see it: one page size, entries cleared up to the first hole. */
const dart = (pg: number): PageTableSemantics => ({
  pgsizeBitmap: pg,
  mapConflict: "EEXIST",
  mapOverTable: "fail",
  unmapHole: 0,
  unmapPartialLeaf: "keep",
  unmapRange: "leaf-walk",
});

/** Tables reachable from the TTBRs (each one granule), for the leak check. */
function reachableTables(iop: AppleDartIoPgtable): number {
  const mem = iop.cfg.allocator.mem;
  const count = (pa: number, level: number): number => {
    let n = 1;
    if (level > 1) {
      for (let i = 0; i < iop.ptesPerTable; i++) {
        const e = mem.read64(pa + 8 * i);
        if (e)
          n += count(
            iop.isDart2 ? Number((e & 0x3f_ffff_fc00n) << 4n) : Number(e & 0xf_ffff_f000n),
            level - 1,
          );
      }
    }
    return n;
  };
  return iop.pgd.reduce((n, t) => n + count(t, iop.levels - 1), 0);
}

for (const k of CASES) {
  describe(`${k.name} against an interval map`, () => {
    it("random map / overlap / unmap / hole sequences", () => {
      const sem = dart(k.pg);
      let ops = 0;
      let maps = 0;
      let refused = 0;
      fc.assert(
        fc.property(fc.array(op, { minLength: 115, maxLength: 150 }), (seq) => {
          const cfg = testCfg({ pgsizeBitmap: k.pg, ias: k.ias, oas: k.oas });
          const pgtbl = allocIoPgtableOps(k.fmt, cfg)!;
          const domain = createIoPgtableDomain(pgtbl);
          const iop = ioPgtableOpsToPgtable(pgtbl) as AppleDartIoPgtable;
          const leafSpan = k.pg * (k.pg / 8);
          const ref = new ReferenceMap();
          const check = (iova: number) => checkLengthContract(domain, ref, iova);
          const mapBoth = (iova: number, pa: number, size: number) => {
            const want = ref.map(iova, pa, size, 3, sem);
            let code: string | undefined;
            try {
              iommuMap(domain, iova, pa, size, 3);
            } catch (e) {
              if (!(e instanceof IommuError)) throw e;
              code = e.code;
            }
            expect(code).toBe(want.ok ? undefined : want.errno);
            return want.ok;
          };
          for (const [kind, a, b, c] of seq) {
            const rnd = (n: number) => Math.floor((b / 2 ** 32) * n);
            if (kind <= 3) {
              const size = k.pg * (1 + (a % 8) + (a & 0x100 ? (k.pg / 8) * ((a >>> 9) % 3) : 0));
              // Cluster near leaf-table boundaries so runs cross them; over earlier maps too (EEXIST).
              const iova = Math.min(
                Math.max(0, rnd(k.span / leafSpan) * leafSpan - ((a >>> 12) % 16) * k.pg),
                k.span - size,
              );
              const paddr = Math.floor((c % 2 ** 30) / k.pg) * k.pg * 4;
              if (mapBoth(iova, paddr, size)) maps++;
              else refused++;
              check(iova);
              check(iova + size - 1);
            } else if (kind === 4 && ref.count) {
              const r = ref.entries[a % ref.count]!;
              const page = r.iova + (b % (r.size / k.pg)) * k.pg;
              expect(mapBoth(page, 0, k.pg)).toBe(false);
            } else if (kind <= 6 && ref.count) {
              const r = ref.entries[a % ref.count]!;
              expect(iommuUnmap(domain, r.iova, r.size)).toBe(ref.unmap(r.iova, r.size, sem).ret);
              check(r.iova);
              check(r.iova + r.size - 1);
            } else if (kind <= 7) {
              // A few pages anywhere: cleared up to the first hole (0 when it starts in one).
              const page = rnd(k.span / k.pg - 4) * k.pg;
              const size = k.pg * (1 + (c % 4));
              expect(iommuUnmap(domain, page, size)).toBe(ref.unmap(page, size, sem).ret);
              check(page);
            } else {
              check(rnd(k.span));
              if (ref.count) {
                const r = ref.entries[a % ref.count]!;
                check(r.iova + (c % r.size));
              }
            }
            ops++;
          }
          expect(iop.tablesLive).toBe(reachableTables(iop));
          expect(cfg.allocator.liveCount).toBe(iop.tablesLive);
        }),
        { numRuns: 30, seed: 0xda27 },
      );
      // Every iteration executes an operation (none is skipped).
      expect(ops).toBeGreaterThanOrEqual(3450);
      expect(maps).toBeGreaterThan(500);
      expect(refused).toBeGreaterThan(20);
    });
  });
}

describe("DART: allocation failure inside iommu_map", () => {
  // 70M of 16K pages starting 16K below a 32M leaf-table boundary: three leaf tables.
  const IOVA = 0x200_0000 - 0x4000;
  const SIZE = 0x460_0000;
  for (let n = 1; n <= 3; n++) {
    it(`table allocation ${n} of 3 fails`, () => {
      const cfg = testCfg({ pgsizeBitmap: 0x4000, ias: 32, oas: 36 });
      const pgtbl = allocIoPgtableOps(IoPgtableFmt.APPLE_DART, cfg)!;
      const domain = createIoPgtableDomain(pgtbl);
      const iop = ioPgtableOpsToPgtable(pgtbl) as AppleDartIoPgtable;
      cfg.allocator.failNth(n);
      expect(() => iommuMap(domain, IOVA, 0x1_0000_0000, SIZE, 3)).toThrowError(/ENOMEM/);
      for (let va = IOVA; va < IOVA + SIZE; va += 0x4000) expect(ioPgtableIovaToPhys(iop, va)).toBe(0);
      expect(cfg.allocator.liveCount).toBe(reachableTables(iop));
      iommuMap(domain, IOVA, 0x1_0000_0000, SIZE, 3);
      expect(ioPgtableIovaToPhys(iop, IOVA + SIZE - 1)).toBe(0x1_0000_0000 + SIZE - 1);
    });
  }
});
