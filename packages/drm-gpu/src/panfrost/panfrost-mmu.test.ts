import { PhysLength, SZ_1G, SZ_1M, SZ_2M, SZ_4K, SZ_64M } from "@iommu/core";
import { IoPgtableFmt, ioPgtableIovaToPhys } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { GpuBo } from "../gem.js";
import { SgTable } from "../sg-table.js";
import {
  mmuMapSg,
  PanfrostDevice,
  type PanfrostGemMapping,
  type PanfrostMmu,
  panfrostGemClose,
  panfrostGemOpen,
  panfrostMmuAsGet,
  panfrostMmuCtxCreate,
  panfrostMmuMapFaultAddr,
  panfrostMmuPageFault,
  panfrostMmuUnmap,
} from "./panfrost-mmu.js";

function setup(o: ConstructorParameters<typeof PanfrostDevice>[0] = {}): {
  dev: PanfrostDevice;
  mmu: PanfrostMmu;
} {
  const dev = new PanfrostDevice(o);
  const mmu = panfrostMmuCtxCreate(dev);
  if (typeof mmu === "number") throw new Error(`ctx create: ${mmu}`);
  return { dev, mmu };
}

function open(mmu: PanfrostMmu, bo: GpuBo, va?: number): PanfrostGemMapping {
  const m = panfrostGemOpen(mmu, bo, va === undefined ? {} : { va });
  if (typeof m === "number") throw new Error(`gem open: ${m}`);
  return m;
}

function leaf(mmu: PanfrostMmu, va: number): number {
  const out = new PhysLength();
  mmu.ops.iovaToPhysLength(va, out);
  return out.mapped ? out.length : -out.length;
}

describe("panfrost_mmu_ctx_create", () => {
  it("ARM_MALI_LPAE by default: ias/oas from GPU_MMU_FEATURES, 4K | 2M, TRANSCFG legacy", () => {
    const { mmu } = setup({ mmuFeatures: 0x2830 });
    expect(mmu.fmt).toBe(IoPgtableFmt.ARM_MALI_LPAE);
    expect(mmu.pgtblCfg.ias).toBe(48);
    expect(mmu.pgtblCfg.oas).toBe(40);
    expect(mmu.pgtblCfg.pgsizeBitmap).toBe(SZ_4K | SZ_2M);
    expect(mmu.transcfg).toBe(0n);
    // TRANSTAB = pgd | READ_INNER | ADRMODE_TABLE (io-pgtable's arm_mali_lpae_cfg)
    expect(mmu.transtab).toBe(mmu.pgtblCfg.armMaliLpaeCfg!.transtab);
    expect(mmu.transtab & 3n).toBe(3n);
  });

  it("GPU_QUIRK_FORCE_AARCH64_PGTABLE without HW_FEATURE_AARCH64_MMU: -EINVAL", () => {
    const dev = new PanfrostDevice({ forceAarch64Pgtable: true });
    expect(panfrostMmuCtxCreate(dev)).toBe(-22);
  });

  it("with the quirk: ARM_64_LPAE_S1, TRANSCFG = WB walk | RA | AARCH64_4K | INA_BITS(55 − 48)", () => {
    const { mmu } = setup({ forceAarch64Pgtable: true, aarch64Mmu: true });
    expect(mmu.fmt).toBe(IoPgtableFmt.ARM_64_LPAE_S1);
    expect(mmu.transcfg).toBe(0x4200_01c6n);
    expect(mmu.transtab).toBe(mmu.pgtblCfg.armLpaeS1Cfg!.ttbr);
    expect(mmu.memattr).toBe(0x4c4c4c4c_8c4c8f4cn);
    const coherent = setup({ forceAarch64Pgtable: true, aarch64Mmu: true, coherent: true }).mmu;
    expect(coherent.transcfg).toBe(0x6200_01c6n);
  });

  it("the root table cannot be allocated: alloc_io_pgtable_ops fails, -EINVAL", () => {
    const dev = new PanfrostDevice();
    dev.allocator.failNth(1);
    expect(panfrostMmuCtxCreate(dev)).toBe(-22);
    expect(dev.allocator.liveCount).toBe(0);
  });

  it("inspect(): a 64M THP BO is three tables and 32 2M leaves", () => {
    const { dev, mmu } = setup();
    open(mmu, GpuBo.create(dev.memory, { size: SZ_64M, noexec: true, backing: "thp" }), SZ_1G);
    const stats = mmu.inspect()!.stats();
    expect(stats.tables).toBe(3);
    expect([...stats.leavesBySize]).toEqual([[SZ_2M, 32]]);
    expect(stats.mappedBytes).toBe(BigInt(SZ_64M));
  });

  it("ias above what ARM_MALI_LPAE takes (> 48): io-pgtable refuses, -EINVAL", () => {
    expect(panfrostMmuCtxCreate(new PanfrostDevice({ mmuFeatures: 0x2834 }))).toBe(-22);
  });
});

describe("mmu_map_sg", () => {
  it("2M blocks only where iova and paddr are both 2M aligned; one flush for the whole range", () => {
    const { dev, mmu } = setup();
    panfrostMmuAsGet(dev, mmu);
    const before = dev.hw.counts();
    const sgt = new SgTable();
    const P = 2 ** 33;
    // A: 4M, 2M-aligned paddr; B: 2M + 8K from a 4K-aligned paddr; C: 2M, 2M-aligned paddr
    // (but B left the IOVA 8K past a 2M boundary).
    sgt.addr.push(P, P + 16 * SZ_2M + SZ_4K, P + 32 * SZ_2M);
    sgt.len.push(2 * SZ_2M, SZ_2M + 2 * SZ_4K, SZ_2M);
    const iova = SZ_1G;
    const calls = dev.counters.mapPagesCalls;
    expect(mmuMapSg(dev, mmu, iova, 3, sgt)).toBe(0);
    // A: (2M × 2); B: (4K × 511), (4K × 1), (4K × 2); C: (4K × 510), (4K × 2).
    expect(dev.counters.mapPagesCalls - calls).toBe(6);
    expect(leaf(mmu, iova)).toBe(SZ_2M);
    expect(leaf(mmu, iova + SZ_2M)).toBe(SZ_2M);
    expect(leaf(mmu, iova + 2 * SZ_2M)).toBe(SZ_4K);
    expect(leaf(mmu, iova + 3 * SZ_2M + 2 * SZ_4K)).toBe(SZ_4K);
    expect(Number(ioPgtableIovaToPhys(mmu.ops, iova + 3 * SZ_2M + 2 * SZ_4K))).toBe(P + 32 * SZ_2M);
    expect(Number(ioPgtableIovaToPhys(mmu.ops, iova + 4 * SZ_2M + SZ_4K))).toBe(P + 33 * SZ_2M - SZ_4K);
    const after = dev.hw.counts();
    expect(after.lock - before.lock).toBe(1);
    expect(after.flushPt - before.flushPt).toBe(1);
    expect(dev.hw.locked.size).toBe(0); // FLUSH_PT unlocks
  });

  it("no AS assigned: nothing to flush", () => {
    const { dev, mmu } = setup();
    open(mmu, GpuBo.create(dev.memory, { size: SZ_2M, noexec: true }));
    expect(dev.hw.flushPt).toBe(0);
  });

  it("known quirk: a failed map_pages is skipped (mapped = max(mapped, pgsize)), the call returns 0", () => {
    const { dev, mmu } = setup();
    const bo = GpuBo.create(dev.memory, { size: 4 * SZ_4K, noexec: true, backing: "scattered" });
    dev.allocator.failNth(1); // the first table of the first page's walk
    const m = open(mmu, bo, 64 * SZ_1M);
    expect(m.active).toBe(true);
    expect(Number(ioPgtableIovaToPhys(mmu.ops, m.start))).toBe(0);
    expect(Number(ioPgtableIovaToPhys(mmu.ops, m.start + SZ_4K))).toBe(bo.physOf(SZ_4K));
  });
});

describe("panfrost_gem_open: drm_mm placement", () => {
  it("first fit in [32M, 4G): noexec BOs of 2M or more 2M aligned, executable BOs size aligned", () => {
    const { dev, mmu } = setup();
    const a = open(mmu, GpuBo.create(dev.memory, { size: SZ_4K, noexec: true }));
    expect(a.start).toBe(32 * SZ_1M);
    const b = open(mmu, GpuBo.create(dev.memory, { size: SZ_2M + SZ_4K, noexec: true }));
    expect(b.start).toBe(34 * SZ_1M);
    // First fit: the hole [32M + 4K, 34M); page 8193 = 3 × 2731 is already 3-page aligned.
    const c = open(mmu, GpuBo.create(dev.memory, { size: 3 * SZ_4K }));
    expect(c.start).toBe(32 * SZ_1M + SZ_4K);
  });
  it("panfrost_drm_mm_color_adjust: an executable BO skips a hole within 16M of the 4G edge", () => {
    const { dev, mmu } = setup();
    // A heap BO (never mapped on open) fills [32M, 4G − 8M).
    open(mmu, GpuBo.create(dev.memory, { size: 4096 * SZ_1M - 40 * SZ_1M, heap: true }));
    expect(panfrostGemOpen(mmu, GpuBo.create(dev.memory, { size: SZ_4K }))).toBe(-28);
    const n = open(mmu, GpuBo.create(dev.memory, { size: SZ_4K, noexec: true }));
    expect(n.start).toBe(4096 * SZ_1M - 8 * SZ_1M);
  });

  it("an explicit VA that overlaps a node: -ENOSPC", () => {
    const { dev, mmu } = setup();
    open(mmu, GpuBo.create(dev.memory, { size: SZ_2M, noexec: true }), SZ_1G);
    expect(panfrostGemOpen(mmu, GpuBo.create(dev.memory, { size: SZ_4K }), { va: SZ_1G + SZ_1M })).toBe(-28);
  });
});

describe("heap BOs: growth on GPU fault (panfrost_mmu_map_fault_addr)", () => {
  it("maps the 2 MiB chunk around the fault, NOEXEC; a second fault in it changes nothing", () => {
    const { dev, mmu } = setup();
    const as = panfrostMmuAsGet(dev, mmu);
    const bo = GpuBo.create(dev.memory, { size: 8 * SZ_1M - SZ_4K, heap: true });
    expect(bo.size).toBe(8 * SZ_1M); // rounded to 2M
    const m = open(mmu, bo, SZ_1G);
    expect(m.active).toBe(false);
    expect(panfrostMmuMapFaultAddr(dev, as, SZ_1G + SZ_2M + 0x1234)).toBe(0);
    expect(m.active).toBe(true);
    expect(bo.heapRssSize).toBe(SZ_2M);
    expect(Number(ioPgtableIovaToPhys(mmu.ops, SZ_1G + SZ_2M))).toBe(bo.physOf(SZ_2M));
    expect(Number(ioPgtableIovaToPhys(mmu.ops, SZ_1G))).toBe(0);
    const calls = dev.counters.mapPagesCalls;
    expect(panfrostMmuMapFaultAddr(dev, as, SZ_1G + SZ_2M + 0x5000)).toBe(0);
    expect(dev.counters.mapPagesCalls).toBe(calls);
    expect(bo.heapRssSize).toBe(SZ_2M);
  });

  it("a fault outside every node is -ENOENT; on a non-heap BO -EINVAL with a WARN", () => {
    const { dev, mmu } = setup();
    const as = panfrostMmuAsGet(dev, mmu);
    open(mmu, GpuBo.create(dev.memory, { size: SZ_2M, noexec: true }), SZ_1G);
    expect(panfrostMmuMapFaultAddr(dev, as, 2 * SZ_1G)).toBe(-2);
    const warns = dev.counters.warns;
    expect(panfrostMmuMapFaultAddr(dev, as, SZ_1G)).toBe(-22);
    expect(dev.counters.warns).toBe(warns + 1);
  });

  it("an unhandled fault (no memory) marks the AS faulty and disables it (FLUSH_MEM + UPDATE)", () => {
    const { dev, mmu } = setup();
    const as = panfrostMmuAsGet(dev, mmu);
    open(mmu, GpuBo.create(dev.memory, { size: SZ_2M, heap: true }), SZ_1G);
    const before = dev.hw.counts();
    dev.memory.failNth(1);
    expect(panfrostMmuPageFault(dev, as, SZ_1G)).toBe(-12);
    expect(dev.asFaultyMask & (1 << as)).not.toBe(0);
    expect(dev.hw.flushMem - before.flushMem).toBe(1);
    expect(dev.hw.update - before.update).toBe(1);
    expect(dev.hw.as(as).transcfg).toBe(1n); // ADRMODE_UNMAPPED
  });
});

describe("panfrost_mmu_unmap", () => {
  function heap(lookup: "legacy" | "length", va: number, chunks: number, faulted: number[]) {
    const { dev, mmu } = setup({ lookup });
    const as = panfrostMmuAsGet(dev, mmu);
    const bo = GpuBo.create(dev.memory, { size: chunks * SZ_2M, heap: true });
    const m = open(mmu, bo, va);
    for (const c of faulted) expect(panfrostMmuMapFaultAddr(dev, as, va + c * SZ_2M)).toBe(0);
    const w = dev.counters.walks;
    const u = dev.counters.unmapPagesCalls;
    const r = dev.counters.pteReads;
    const hw = dev.hw.counts();
    panfrostMmuUnmap(m);
    return {
      dev,
      mmu,
      m,
      walks: dev.counters.walks - w,
      unmaps: dev.counters.unmapPagesCalls - u,
      reads: dev.counters.pteReads - r,
      lock: dev.hw.lock - hw.lock,
      flushPt: dev.hw.flushPt - hw.flushPt,
    };
  }

  it("heap, legacy: one iova_to_phys per 2M step (S/2M), unmap only where faulted in, one flush", () => {
    const r = heap("legacy", SZ_1G, 32, [0, 1, 2, 4, 5, 6, 7]);
    expect(r.walks).toBe(32);
    expect(r.unmaps).toBe(7);
    expect(r.lock).toBe(1);
    expect(r.flushPt).toBe(1);
    expect(r.m.active).toBe(false);
    for (let c = 0; c < 32; c++) expect(Number(ioPgtableIovaToPhys(r.mmu.ops, SZ_1G + c * SZ_2M))).toBe(0);
  });

  it("heap, length-aware, inside one 1G slot: every hole is one empty 2M entry — still S/2M", () => {
    const r = heap("length", SZ_1G, 32, [0, 1, 2, 4, 5, 6, 7]);
    expect(r.walks).toBe(32);
    expect(r.unmaps).toBe(7);
  });

  it("heap, length-aware, straddling a 1G boundary: the empty level-1 slot above costs one walk", () => {
    // 64M at 1G − 32M; chunks 0..7 faulted but 3. Below 1G: 16 walks (mapped or one empty
    // 2M entry each); above: one walk finds the level-1 entry empty (1G span).
    const legacy = heap("legacy", SZ_1G - 32 * SZ_1M, 32, [0, 1, 2, 4, 5, 6, 7]);
    const length = heap("length", SZ_1G - 32 * SZ_1M, 32, [0, 1, 2, 4, 5, 6, 7]);
    expect(legacy.walks).toBe(32);
    expect(length.walks).toBe(17);
    expect(length.unmaps).toBe(legacy.unmaps);
    expect(length.reads).toBeLessThan(legacy.reads);
  });

  it.each([
    ["legacy", 508 + 1 + 4],
    ["length", 3],
  ] as const)(
    "heap at a VA that is not 2M aligned (%s): one walk per 4K step until aligned (§7 row 8), or per hole",
    (lookup, walks) => {
      const { dev, mmu } = setup({ lookup });
      const as = panfrostMmuAsGet(dev, mmu);
      const va = SZ_2M + 16 * 1024;
      const m = open(mmu, GpuBo.create(dev.memory, { size: 2 * SZ_2M, heap: true }), va);
      expect(panfrostMmuMapFaultAddr(dev, as, 2 * SZ_2M)).toBe(0); // maps [4M, 6M)
      const w = dev.counters.walks;
      panfrostMmuUnmap(m);
      // Legacy: 508 4K steps to 4M, one 2M step, 4 4K steps for the last 16K. Length-aware: the
      // first probe reports the empty [2M, 4M) entry and skips to 4M, one probe at 4M, one at
      // 6M whose empty entry covers the last 16K.
      expect(dev.counters.walks - w).toBe(walks);
      expect(Number(ioPgtableIovaToPhys(mmu.ops, 2 * SZ_2M + SZ_4K))).toBe(0);
    },
  );

  it("non-heap BO: no lookup at all, unmap_pages per get_pgsize chunk", () => {
    const { dev, mmu } = setup();
    panfrostMmuAsGet(dev, mmu);
    const bo = GpuBo.create(dev.memory, { size: SZ_64M, noexec: true, backing: "thp" });
    const m = open(mmu, bo, SZ_1G);
    expect(leaf(mmu, SZ_1G)).toBe(SZ_2M);
    const w = dev.counters.walks;
    const u = dev.counters.unmapPagesCalls;
    panfrostGemClose(m);
    expect(dev.counters.walks - w).toBe(0);
    expect(dev.counters.unmapPagesCalls - u).toBe(1); // (2M × 32) in one call
    expect(Number(ioPgtableIovaToPhys(mmu.ops, SZ_1G + SZ_4K))).toBe(0);
  });

  it("unmapping an inactive mapping WARNs and does nothing", () => {
    const { dev, mmu } = setup();
    const m = open(mmu, GpuBo.create(dev.memory, { size: SZ_2M, heap: true }), SZ_1G);
    const warns = dev.counters.warns;
    panfrostMmuUnmap(m);
    expect(dev.counters.warns).toBe(warns + 1);
  });
});
