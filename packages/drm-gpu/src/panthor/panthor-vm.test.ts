import { PhysLength, SZ_1G, SZ_1M, SZ_2M, SZ_4K, SZ_64K } from "@iommu/core";
import { IoPgtableFmt, ioPgtableIovaToPhys, ioPgtableOpsToPgtable } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { GpuBo } from "../gem.js";
import type { BackingKind } from "../gpu-memory.js";
import {
  DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
  mapPtCount,
  PanthorDevice,
  type PanthorVm,
  type PanthorVmOptions,
  panthorVmActive,
  panthorVmBindExecSyncOp,
  panthorVmCreate,
  panthorVmExecOp,
  panthorVmMapBoRange,
  panthorVmPrepareMapOpCtx,
  panthorVmUnmapRange,
  unmapPtCount,
} from "./panthor-vm.js";

const MAP = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP;
const UNMAP = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP;
const BASE = 0x10_0000_0000; // 64 GiB, 1G aligned

function setup(o: PanthorVmOptions = {}, active = true): { dev: PanthorDevice; vm: PanthorVm } {
  const dev = new PanthorDevice();
  const vm = panthorVmCreate(dev, o);
  if (typeof vm === "number") throw new Error(`vm create: ${vm}`);
  if (active) expect(panthorVmActive(vm)).toBe(0);
  return { dev, vm };
}

function bo(dev: PanthorDevice, size: number, backing: BackingKind): GpuBo {
  return GpuBo.create(dev.memory, { size, backing });
}

function leaf(vm: PanthorVm, va: number): number {
  const out = new PhysLength();
  vm.ops.iovaToPhysLength(va, out);
  return out.mapped ? out.length : 0;
}

/** Unmap behind drm_gpuvm's back (the page table and the VA tree disagree afterwards). */
function punch(vm: PanthorVm, va: number, pgsize: number, count = 1): void {
  expect(vm.ops.unmapPages(va, pgsize, count, null)).toBe(pgsize * count);
}

describe("panthor_vm_create / panthor_vm_active", () => {
  it("ARM_64_LPAE_S1, 4K | 2M from the 4K granule, MEMATTR from the MAIR", () => {
    const { vm, dev } = setup();
    const iop = ioPgtableOpsToPgtable(vm.ops);
    expect(iop.fmt).toBe(IoPgtableFmt.ARM_64_LPAE_S1);
    expect(iop.cfg.pgsizeBitmap).toBe(SZ_4K | SZ_2M);
    expect(vm.memattr).toBe(0x4c4c4c4c_8c4c8f4cn);
    // AS 0 belongs to the MCU: a user VM gets AS 1.
    expect(vm.asId).toBe(1);
    const r = dev.hw.as(1);
    expect(r.transtab).toBe(iop.cfg.armLpaeS1Cfg!.ttbr);
    expect(r.transcfg).toBe(0x4200_01c6n);
    // The root came from the page allocator, outside any operation.
    expect(vm.ptAlloc.rootPageTable).toBe(Number(iop.cfg.armLpaeS1Cfg!.ttbr));
  });
});

describe("page tables through alloc_pt", () => {
  it("the root cannot be allocated: -EINVAL", () => {
    const dev = new PanthorDevice();
    dev.allocator.failNth(1);
    expect(panthorVmCreate(dev)).toBe(-22);
  });

  it("a table requested outside any operation: WARN, NULL", () => {
    const { dev, vm } = setup();
    const warns = dev.counters.warns;
    expect(vm.ptAlloc.alloc(SZ_4K)).toBe(-1);
    expect(dev.counters.warns).toBe(warns + 1);
  });

  it("inspect(): the partial unmap of a 2M leaf leaves a level-3 table of 4K leaves beside it", () => {
    const { dev, vm } = setup({ hugeCheck: "leaf" });
    const b = bo(dev, 4 * SZ_1M, "thp");
    expect(panthorVmMapBoRange(vm, b, 0, b.size, BASE)).toBe(0);
    expect([...vm.inspect()!.stats().leavesBySize]).toEqual([[SZ_2M, 2]]);
    expect(panthorVmUnmapRange(vm, BASE + SZ_1M, SZ_64K)).toBe(0);
    const stats = vm.inspect()!.stats();
    expect(stats.tables).toBe(4);
    expect(new Map(stats.leavesBySize)).toEqual(
      new Map([
        [SZ_4K, 512 - 16],
        [SZ_2M, 1],
      ]),
    );
  });
});

describe("op_ctx page-table reserve (pt_count math)", () => {
  it.each([
    ["one page", 0, SZ_4K, 3],
    ["two pages across a 2M boundary", SZ_2M - SZ_4K, 2 * SZ_4K, 4],
    ["across a 1G boundary", SZ_1G - SZ_4K, 2 * SZ_4K, 5],
    ["across a 512G boundary", 2 ** 39 - SZ_4K, 2 * SZ_4K, 6],
    ["1G aligned, 1G", SZ_1G, SZ_1G, 1 + 1 + 512],
  ])("map: %s", (_n, va, size, want) => {
    expect(mapPtCount(va, size)).toBe(want);
  });
  it.each([
    ["2M aligned both ends", 0, SZ_2M, 0],
    ["inside one 2M block", SZ_4K, SZ_4K, 1],
    ["start unaligned, end aligned", SZ_4K, SZ_2M - SZ_4K, 1],
    ["both ends in different blocks", SZ_4K, SZ_2M, 2],
    ["end unaligned only", 0, SZ_4K, 1],
  ])("unmap: %s", (_n, va, size, want) => {
    expect(unmapPtCount(va, size)).toBe(want);
  });

  it("a map takes what it needs from the reserve and returns the rest", () => {
    const { dev, vm } = setup();
    const b = bo(dev, 4 * SZ_1M, "thp");
    const live = dev.allocator.liveCount;
    expect(panthorVmMapBoRange(vm, b, 0, b.size, BASE)).toBe(0);
    // Reserved 1 + 1 + 2; two 2M blocks need a level-1 and a level-2 table only.
    expect(dev.allocator.liveCount - live).toBe(2);
    expect(leaf(vm, BASE)).toBe(SZ_2M);
    expect(leaf(vm, BASE + SZ_2M)).toBe(SZ_2M);
  });

  it("allocation failure in the bulk reserve: -ENOMEM, nothing held, nothing mapped", () => {
    const { dev, vm } = setup();
    const b = bo(dev, SZ_2M, "scattered");
    const live = dev.allocator.liveCount;
    dev.allocator.failNth(2);
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, bo: b, va: BASE, size: SZ_2M })).toBe(-12);
    expect(dev.allocator.liveCount).toBe(live);
    expect(vm.vas.length).toBe(0);
    expect(vm.unusable).toBe(false);
  });
});

describe("panthor_vm_map_pages: failure rollback", () => {
  it("a table the reserve cannot give mid-way: what was mapped is unmapped, the VM is unusable", () => {
    const { dev, vm } = setup();
    const b = bo(dev, 4 * SZ_1M, "scattered");
    const updates = dev.hw.update;
    // Hand-outs: level-1, level-2, the first level-3, then the second level-3 fails.
    vm.ptAlloc.failHandoutNth(4);
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, bo: b, va: BASE, size: 4 * SZ_1M })).toBe(-12);
    expect(vm.unusable).toBe(true);
    expect(dev.hw.update - updates).toBe(1); // panthor_mmu_as_disable
    expect(vm.vas.length).toBe(0);
    for (let va = BASE; va < BASE + 4 * SZ_1M; va += SZ_4K)
      expect(Number(ioPgtableIovaToPhys(vm.ops, va))).toBe(0);
    // An unusable VM refuses new mappings.
    expect(panthorVmMapBoRange(vm, b, 0, SZ_4K, BASE)).toBe(-22);
  });
});

describe("panthor_vm_unmap_pages", () => {
  it("normal path: no lookup", () => {
    const { dev, vm } = setup({ lookup: "legacy" });
    const b = bo(dev, 8 * SZ_1M, "thp");
    expect(panthorVmMapBoRange(vm, b, 0, b.size, BASE)).toBe(0);
    const w = dev.counters.walks;
    expect(panthorVmUnmapRange(vm, BASE, b.size)).toBe(0);
    expect(dev.counters.walks - w).toBe(0);
    expect(vm.unusable).toBe(false);
    expect(leaf(vm, BASE + SZ_2M)).toBe(0);
  });

  function mismatch(o: PanthorVmOptions) {
    const { dev, vm } = setup(o);
    const b = bo(dev, 8 * SZ_1M, "thp");
    expect(panthorVmMapBoRange(vm, b, 0, b.size, BASE)).toBe(0);
    punch(vm, BASE + SZ_2M, SZ_2M);
    const w = dev.counters.walks;
    expect(panthorVmUnmapRange(vm, BASE, b.size)).toBe(0);
    return { dev, vm, walks: dev.counters.walks - w };
  }

  it("error path, offset 0, legacy: 4K probes through the 2M hole, + 1 that finds the next leaf", () => {
    const { vm, walks } = mismatch({ lookup: "legacy" });
    expect(walks).toBe(512 + 1);
    expect(vm.unusable).toBe(true);
    for (let c = 0; c < 4; c++) expect(leaf(vm, BASE + c * SZ_2M)).toBe(0);
  });

  it("error path, offset 0, length-aware: one probe for the hole (2M span), one for the next leaf", () => {
    const { vm, walks } = mismatch({ lookup: "length" });
    expect(walks).toBe(2);
    expect(vm.unusable).toBe(true);
    for (let c = 0; c < 4; c++) expect(leaf(vm, BASE + c * SZ_2M)).toBe(0);
  });

  // Offset > 0: VMA [BASE + 1M, BASE + 5M) of 4K leaves; chunks: 256 × 4K (offset 0),
  // 2M × 1 (offset 1M, a table: freed whole), 256 × 4K (offset 3M). A page of the last
  // chunk (BASE + 4M + 8K) is gone behind drm_gpuvm's back.
  function offsetCase(o: PanthorVmOptions) {
    const { dev, vm } = setup(o);
    const b = bo(dev, 4 * SZ_1M, "scattered");
    const va = BASE + SZ_1M;
    expect(panthorVmMapBoRange(vm, b, 0, b.size, va)).toBe(0);
    punch(vm, BASE + 4 * SZ_1M + 2 * SZ_4K, SZ_4K);
    const w = dev.counters.walks;
    expect(panthorVmUnmapRange(vm, va, b.size)).toBe(0);
    let left = 0;
    for (let a = va; a < va + b.size; a += SZ_4K) if (Number(ioPgtableIovaToPhys(vm.ops, a)) !== 0) left++;
    return { walks: dev.counters.walks - w, left, vm };
  }

  it.each(["legacy", "length"] as const)(
    "offset > 0, quirk (%s): probes restart at iova + unmapped_sz, 255 walks, 253 pages left mapped",
    (lookup) => {
      const r = offsetCase({ lookup, unmapProbe: "quirk" });
      // Probes at BASE + 1M + 8K … BASE + 2M: pages the first chunk already unmapped
      // (empty 4K entries of a live level-3 table), until unmapped_sz reaches the chunk size.
      expect(r.walks).toBe(255);
      expect(r.left).toBe(253);
      expect(r.vm.unusable).toBe(true);
    },
  );

  it.each(["legacy", "length"] as const)(
    "offset > 0, fixed (%s): one probe in the hole, one on the next page, nothing left",
    (lookup) => {
      const r = offsetCase({ lookup, unmapProbe: "fixed" });
      expect(r.walks).toBe(2);
      expect(r.left).toBe(0);
      expect(r.vm.unusable).toBe(true);
    },
  );

  it.each([
    ["quirk", 513 + 2561 + 4609, 11],
    ["fixed", 4 * 513, 0],
  ] as const)("four 2M holes in 64M, %s: %i walks, %i leaves left mapped", (unmapProbe, walks, left) => {
    const { dev, vm } = setup({ unmapProbe });
    const b = bo(dev, 64 * SZ_1M, "thp");
    expect(panthorVmMapBoRange(vm, b, 0, b.size, BASE)).toBe(0);
    for (const h of [3, 10, 17, 24]) punch(vm, BASE + h * SZ_2M, SZ_2M);
    const w = dev.counters.walks;
    panthorVmUnmapRange(vm, BASE, b.size);
    expect(dev.counters.walks - w).toBe(walks);
    let n = 0;
    for (let c = 0; c < 32; c++) if (leaf(vm, BASE + c * SZ_2M)) n++;
    expect(n).toBe(left);
    // The quirk leaves chunks 11–14, 18–23 and 25: what the probes stepped over.
    if (left) expect(leaf(vm, BASE + 11 * SZ_2M)).toBe(SZ_2M);
  });

  it("offset 0 with a 4K hole: quirk and fixed probe the same IOVAs", () => {
    for (const unmapProbe of ["quirk", "fixed"] as const) {
      const { dev, vm } = setup({ unmapProbe });
      const b = bo(dev, SZ_1M, "scattered");
      const va = BASE + SZ_1M;
      expect(panthorVmMapBoRange(vm, b, 0, b.size, va)).toBe(0);
      punch(vm, va + 2 * SZ_4K, SZ_4K);
      const w = dev.counters.walks;
      panthorVmUnmapRange(vm, va, b.size);
      expect(dev.counters.walks - w).toBe(2);
      for (let a = va; a < va + b.size; a += SZ_4K) expect(Number(ioPgtableIovaToPhys(vm.ops, a))).toBe(0);
    }
  });

  it("known quirk: -ENOENT from the first entry reads as 2^64 − 2 — one probe at iova − 2, loop over", () => {
    const { dev, vm } = setup({ lookup: "length" });
    const b = bo(dev, 4 * SZ_1M, "thp");
    expect(panthorVmMapBoRange(vm, b, 0, b.size, BASE)).toBe(0);
    punch(vm, BASE, SZ_2M); // the chunk's first entry is empty
    const w = dev.counters.walks;
    expect(panthorVmUnmapRange(vm, BASE, b.size)).toBe(0);
    expect(dev.counters.walks - w).toBe(1);
    expect(vm.unusable).toBe(true);
    // offset wrapped past size: the second leaf stays mapped.
    expect(leaf(vm, BASE + SZ_2M)).toBe(SZ_2M);
  });

  it("known quirk: -ENOENT past the first chunk moves offset back 2 bytes, then a 0-page chunk (model stops)", () => {
    const { dev, vm } = setup();
    const b = bo(dev, SZ_2M + SZ_4K, "scattered");
    const va = BASE + SZ_2M - SZ_4K;
    expect(panthorVmMapBoRange(vm, b, 0, b.size, va)).toBe(0);
    punch(vm, BASE + SZ_2M, SZ_2M); // frees the level-3 table: its level-2 entry is empty
    const w = dev.counters.walks;
    const bugs = dev.counters.bugs;
    panthorVmUnmapRange(vm, va, b.size);
    // Chunk 1: 4K × 1, fine. Chunk 2 (offset 4K): 2M × 1 at an empty entry → -ENOENT →
    // one probe at va − 2, offset = 4K − 2 → get_pgsize(BASE + 2M − 2, …) = 4K × 0, which
    // unmaps 0 of 0 bytes and never advances.
    expect(dev.counters.walks - w).toBe(1);
    expect(dev.counters.bugs - bugs).toBe(1);
    expect(vm.unusable).toBe(true);
  });
});

describe("unmap_hugepage_align: partial unmap inside a 2M leaf", () => {
  function remap(backing: BackingKind, o: PanthorVmOptions, boOffset = 0) {
    const { dev, vm } = setup(o);
    const b = bo(dev, 4 * SZ_1M, backing);
    expect(panthorVmMapBoRange(vm, b, boOffset, b.size - boOffset, BASE)).toBe(0);
    const before = {
      walks: dev.counters.walks,
      writes: dev.counters.pteWrites,
      maps: dev.counters.mapPagesCalls,
      lock: dev.hw.lock,
    };
    const ret = panthorVmBindExecSyncOp(vm, { flags: UNMAP, va: BASE + SZ_1M, size: SZ_64K });
    return {
      ret,
      vm,
      b,
      walks: dev.counters.walks - before.walks,
      writes: dev.counters.pteWrites - before.writes,
      maps: dev.counters.mapPagesCalls - before.maps,
      locks: dev.hw.lock - before.lock,
    };
  }

  function expectRemapped(vm: PanthorVm, b: GpuBo, boOffset = 0): void {
    for (let a = BASE; a < BASE + 4 * SZ_1M - boOffset; a += SZ_4K) {
      const inHole = a >= BASE + SZ_1M && a < BASE + SZ_1M + SZ_64K;
      expect(Number(ioPgtableIovaToPhys(vm.ops, a))).toBe(inHole ? 0 : b.physOf(a - BASE + boOffset));
    }
    expect(vm.vas.map((v) => [v.va - BASE, v.range])).toEqual([
      [0, SZ_1M],
      [SZ_1M + SZ_64K, 3 * SZ_1M - SZ_64K - boOffset],
    ]);
  }

  it.each(["folio", "leaf"] as const)(
    "THP-backed 2M leaf (%s): widen to the leaf, remap both pieces",
    (hugeCheck) => {
      const r = remap("thp", { hugeCheck });
      expect(r.ret).toBe(0);
      expect(r.walks).toBe(hugeCheck === "leaf" ? 2 : 0);
      expect(leaf(r.vm, BASE)).toBe(SZ_4K);
      expect(leaf(r.vm, BASE + SZ_2M)).toBe(SZ_2M);
      expect(r.locks).toBe(2); // the request's region, then the union with the widened range
      expect(r.vm.unusable).toBe(false);
      expectRemapped(r.vm, r.b);
    },
  );

  it("where they differ (1): 4K folios, physically contiguous → 2M leaves; the folio test says no", () => {
    const folio = remap("contiguous", { hugeCheck: "folio" });
    // unmap_pages(4K × 16) inside a block unmaps nothing: error path, one probe finds the
    // block still mapped, VM unusable, and the block keeps translating the "unmapped" range.
    expect(folio.walks).toBe(1);
    expect(folio.vm.unusable).toBe(true);
    expect(Number(ioPgtableIovaToPhys(folio.vm.ops, BASE + SZ_1M))).toBe(folio.b.physOf(SZ_1M));
    const leafMode = remap("contiguous", { hugeCheck: "leaf" });
    expect(leafMode.walks).toBe(2);
    expect(leafMode.vm.unusable).toBe(false);
    expectRemapped(leafMode.vm, leafMode.b);
  });

  it("where they differ (2): THP mapped 4K off its folio alignment → 4K leaves; the folio test widens for nothing", () => {
    const folio = remap("thp", { hugeCheck: "folio" }, SZ_4K);
    const leafMode = remap("thp", { hugeCheck: "leaf" }, SZ_4K);
    expect(leaf(leafMode.vm, BASE)).toBe(SZ_4K);
    expect(folio.walks).toBe(0);
    expect(leafMode.walks).toBe(2);
    expectRemapped(folio.vm, folio.b, SZ_4K);
    expectRemapped(leafMode.vm, leafMode.b, SZ_4K);
    // The folio heuristic unmaps the whole 2M of 4K pages and maps back all but 16.
    expect(folio.maps).toBeGreaterThan(0);
    expect(leafMode.maps).toBe(0);
    expect(leafMode.writes).toBe(16);
    expect(folio.writes).toBeGreaterThanOrEqual(256 + 240);
  });
});

describe("VM_BIND validation", () => {
  it("unaligned VA or size, out-of-range VA, unknown op: -EINVAL", () => {
    const { dev, vm } = setup();
    const b = bo(dev, SZ_2M, "scattered");
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, bo: b, va: BASE + 1, size: SZ_4K })).toBe(-22);
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, bo: b, va: BASE, size: SZ_4K + 1 })).toBe(-22);
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, bo: b, va: 2 ** 48 - SZ_4K, size: 2 * SZ_4K })).toBe(
      -22,
    );
    expect(panthorVmBindExecSyncOp(vm, { flags: 3 << 28, va: BASE, size: SZ_4K })).toBe(-22);
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, bo: b, boOffset: SZ_2M, va: BASE, size: SZ_4K })).toBe(
      -22,
    );
    expect(panthorVmBindExecSyncOp(vm, { flags: UNMAP, bo: b, va: BASE, size: SZ_4K })).toBe(-22);
    expect(panthorVmBindExecSyncOp(vm, { flags: MAP, va: BASE, size: 0 })).toBe(0);
  });

  it("a map over an existing mapping remaps its pieces (drm_gpuvm split)", () => {
    const { dev, vm } = setup({ hugeCheck: "leaf" });
    const a = bo(dev, 8 * SZ_1M, "scattered");
    const c = bo(dev, SZ_1M, "scattered");
    expect(panthorVmMapBoRange(vm, a, 0, a.size, BASE)).toBe(0);
    expect(panthorVmMapBoRange(vm, c, 0, c.size, BASE + 3 * SZ_1M)).toBe(0);
    expect(vm.vas.map((v) => [v.va - BASE, v.range, v.bo === a ? "a" : "c"])).toEqual([
      [0, 3 * SZ_1M, "a"],
      [3 * SZ_1M, SZ_1M, "c"],
      [4 * SZ_1M, 4 * SZ_1M, "a"],
    ]);
    expect(Number(ioPgtableIovaToPhys(vm.ops, BASE + 3 * SZ_1M))).toBe(c.physOf(0));
    expect(Number(ioPgtableIovaToPhys(vm.ops, BASE + 4 * SZ_1M))).toBe(a.physOf(4 * SZ_1M));
  });

  it("an inactive VM (no AS) locks and flushes nothing", () => {
    const { dev, vm } = setup({}, false);
    const b = bo(dev, SZ_2M, "thp");
    const ctx = panthorVmPrepareMapOpCtx(vm, b, 0, SZ_2M, BASE, MAP);
    if (typeof ctx === "number") throw new Error("prepare");
    expect(panthorVmExecOp(vm, ctx, true)).toBe(0);
    expect(dev.hw.lock + dev.hw.unlock + dev.hw.cacheFlush).toBe(0);
  });
});
