/**
 * Allocation failure injected at every table allocation of a map through the core's
 * iommu_map(): the map fails with ENOMEM, the core unrolls what was mapped, and the table
 * is left translating exactly as before. The kernel never frees tables on leaf unmap, so
 * tables installed before the failure stay (reachable, not leaked).
 */
import { IommuCounters, IommuError, iommuIovaToPhys, iommuMap, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { allocIoPgtableOps, ioPgtableOpsToPgtable } from "../alloc.js";
import { type IoPgtableCfg, IoPgtableFmt } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";
import type { ArmLpaeIoPgtable } from "./pgtable.js";

function setup(fmt: IoPgtableFmt, pgsizeBitmap: number) {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  const oas = fmt === IoPgtableFmt.ARM_MALI_LPAE ? 40 : 48;
  const cfg: IoPgtableCfg = {
    quirks: 0,
    pgsizeBitmap,
    ias: 48,
    oas,
    coherentWalk: true,
    allocator,
    counters,
  };
  const ops = allocIoPgtableOps(fmt, cfg, null)!;
  const iop = ioPgtableOpsToPgtable(ops) as ArmLpaeIoPgtable;
  return { ops, iop, allocator, domain: createIoPgtableDomain(ops) };
}

/** Every leaf descriptor (level, index path → raw) and every table PA reachable from the pgd. */
function snapshot(iop: ArmLpaeIoPgtable): { leaves: Map<string, bigint>; tables: Set<number> } {
  const leaves = new Map<string, bigint>();
  const tables = new Set<number>([iop.pgdPa]);
  const visit = (lvl: number, pa: number, n: number, path: string): void => {
    for (let i = 0; i < n; i++) {
      const pte = iop.mem.read64(pa + 8 * i);
      if (pte === 0n) continue;
      const lo = Number(pte & 0xffffffffn);
      const hi = Number(pte >> 32n);
      if (iop.isTable(lo, lvl)) {
        const next = iop.ptePa(lo, hi);
        tables.add(next);
        visit(lvl + 1, next, iop.ptesPerTable, `${path}/${i}`);
      } else leaves.set(`${path}/${i}`, pte);
    }
  };
  visit(iop.startLevel, iop.pgdPa, 2 ** iop.pgdBits, "");
  return { leaves, tables };
}

const CASES: Array<{
  name: string;
  fmt: IoPgtableFmt;
  bitmap: number;
  iova: number;
  pa: number;
  size: number;
}> = [
  // 4K pages, 2M and 1G blocks, across L0/L1/L2 table boundaries.
  {
    name: "arm64-s1 4K",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    bitmap: 0x40201000,
    iova: 0x7f_ffe0_0000 - 0x3000,
    pa: 0x1_0000_0000 - 0x3000,
    size: 0x8060_0000,
  },
  {
    name: "arm64-s2 4K",
    fmt: IoPgtableFmt.ARM_64_LPAE_S2,
    bitmap: 0x40201000,
    iova: 0x3f_ffff_f000,
    pa: 0x7fff_f000,
    size: 0x40_3000,
  },
  {
    name: "arm64-s1 16K",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    bitmap: 0x2004000,
    iova: 0x7f_ffff_c000,
    pa: 0x1_ffff_c000,
    size: 0x200_8000,
  },
  {
    name: "mali 4K",
    fmt: IoPgtableFmt.ARM_MALI_LPAE,
    bitmap: 0x40201000,
    iova: 0x1ff000,
    pa: 0x1ff000,
    size: 0x202000,
  },
];

describe.each(CASES)("ENOMEM at each table allocation of iommu_map: $name", (c) => {
  it("rolls back to the same translations with no unreachable table", () => {
    // How many tables does the map allocate when nothing fails?
    const probe = setup(c.fmt, c.bitmap);
    probe.ops.mapPages(0x4000_0000, 0x1000_0000, 0x1000, 1, 3, 0, { value: 0 }); // something already there
    const base = probe.allocator.allocatedTotal;
    iommuMap(probe.domain, c.iova, c.pa, c.size, 3);
    const allocations = probe.allocator.allocatedTotal - base;
    expect(allocations).toBeGreaterThanOrEqual(2);
    for (let n = 1; n <= allocations; n++) {
      const h = setup(c.fmt, c.bitmap);
      h.ops.mapPages(0x4000_0000, 0x1000_0000, 0x1000, 1, 3, 0, { value: 0 });
      const before = snapshot(h.iop);
      const liveBefore = h.allocator.liveCount;
      h.allocator.failNth(n);
      let err: unknown;
      try {
        iommuMap(h.domain, c.iova, c.pa, c.size, 3);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IommuError);
      const e = err as IommuError;
      expect(e.code).toBe("ENOMEM");
      expect(e.unrolled).toBe(e.mapped);
      const after = snapshot(h.iop);
      expect(after.leaves).toEqual(before.leaves);
      // Live blocks = tables reachable from the pgd: nothing leaked.
      expect(h.allocator.liveCount).toBe(after.tables.size);
      // At most the tables installed before the failure were added: the unroll may even free
      // some (it splits by iova alone, so it can unmap a table entry at its own size).
      expect(h.allocator.liveCount).toBeLessThanOrEqual(liveBefore + (n - 1));
      for (const pa of after.tables) expect(h.allocator.sizeOf(pa)).toBeGreaterThan(0);
      // The failed range translates to nothing.
      expect(iommuIovaToPhys(h.domain, c.iova)).toBe(0);
      expect(iommuIovaToPhys(h.domain, c.iova + c.size - 0x1000)).toBe(0);
    }
  });
});
