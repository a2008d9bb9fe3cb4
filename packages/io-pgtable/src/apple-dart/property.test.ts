/**
 * Random map/unmap sequences through the core against an interval map, for DART1 and DART2
 * with 16K pages and DART1 with 4K pages (four TTBRs).
 */
import { IommuError, iommuMap, iommuUnmap } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { checkLookup, RefMap, testCfg } from "../arm-v7s/test-util.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
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
      let ops = 0;
      let maps = 0;
      fc.assert(
        fc.property(fc.array(op, { minLength: 115, maxLength: 150 }), (seq) => {
          const cfg = testCfg({ pgsizeBitmap: k.pg, ias: k.ias, oas: k.oas });
          const pgtbl = allocIoPgtableOps(k.fmt, cfg)!;
          const domain = createIoPgtableDomain(pgtbl);
          const iop = ioPgtableOpsToPgtable(pgtbl) as AppleDartIoPgtable;
          const leafSpan = k.pg * (k.pg / 8);
          const ref = new RefMap();
          for (const [kind, a, b, c] of seq) {
            ops++;
            const rnd = (n: number) => Math.floor((b / 2 ** 32) * n);
            if (kind <= 3) {
              const size = k.pg * (1 + (a % 8) + (a & 0x100 ? (k.pg / 8) * ((a >>> 9) % 3) : 0));
              // Cluster near leaf-table boundaries so runs cross them.
              const iova = Math.max(0, rnd(k.span / leafSpan) * leafSpan - ((a >>> 12) % 16) * k.pg);
              const paddr = Math.floor((c % 2 ** 30) / k.pg) * k.pg * 4;
              if (iova + size > k.span || !ref.isFree(iova, size)) continue;
              iommuMap(domain, iova, paddr, size, 3);
              maps++;
              ref.add({ iova, pa: paddr, size });
              checkLookup(domain, ref, iova);
              checkLookup(domain, ref, iova + size - 1);
            } else if (kind === 4 && ref.regions.length) {
              const r = ref.regions[a % ref.regions.length]!;
              const page = r.iova + (b % (r.size / k.pg)) * k.pg;
              expect(() => iommuMap(domain, page, 0, k.pg, 3)).toThrowError(IommuError);
            } else if (kind <= 6 && ref.regions.length) {
              const r = ref.regions[a % ref.regions.length]!;
              expect(iommuUnmap(domain, r.iova, r.size)).toBe(r.size);
              ref.remove(r);
              checkLookup(domain, ref, r.iova);
              checkLookup(domain, ref, r.iova + r.size - 1);
            } else if (kind === 7) {
              const page = rnd(k.span / k.pg) * k.pg;
              if (ref.find(page)) continue;
              expect(iommuUnmap(domain, page, k.pg)).toBe(0);
            } else {
              checkLookup(domain, ref, rnd(k.span));
              if (ref.regions.length) {
                const r = ref.regions[a % ref.regions.length]!;
                checkLookup(domain, ref, r.iova + (c % r.size));
              }
            }
          }
          expect(iop.tablesLive).toBe(reachableTables(iop));
          expect(cfg.allocator.liveCount).toBe(iop.tablesLive);
        }),
        { numRuns: 30, seed: 0xda27 },
      );
      expect(ops).toBeGreaterThanOrEqual(3450);
      expect(maps).toBeGreaterThan(500);
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
      for (let va = IOVA; va < IOVA + SIZE; va += 0x4000) expect(iop.iovaToPhys(va)).toBe(0);
      expect(cfg.allocator.liveCount).toBe(reachableTables(iop));
      iommuMap(domain, IOVA, 0x1_0000_0000, SIZE, 3);
      expect(iop.iovaToPhys(IOVA + SIZE - 1)).toBe(0x1_0000_0000 + SIZE - 1);
    });
  }
});
