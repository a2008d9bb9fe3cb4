/**
 * panfrost and panthor under the core's IOTLB checker: their map/unmap through io-pgtable and
 * their own MMU flush (panfrost: LOCK + FLUSH_PT after each map or unmap; panthor: LOCK
 * before a VM_BIND, cache flush + UNLOCK after) fed into the model with gpuMmuIotlbFeed, with
 * GPU accesses in between: nothing stale is ever used or left behind once an operation
 * returns. Broken variants: the flush after an unmap dropped (FLUSH_PT, UNLOCK) is caught as
 * a stale entry left by the unmap, then a stale GPU access.
 */
import { IotlbChecker, PhysLength, SZ_2M, SZ_4K } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GpuBo } from "./gem.js";
import type { BackingKind } from "./gpu-memory.js";
import { type AsCommandLogEntry, GpuMmuHw } from "./gpu-mmu-hw.js";
import { gpuIotlbDomain, gpuMmuIotlbFeed, gpuMmuIotlbModel } from "./iotlb.js";
import { AS_COMMAND_FLUSH_PT, AS_COMMAND_LOCK, AS_COMMAND_UNLOCK } from "./mmu-regs.js";
import {
  PanfrostDevice,
  type PanfrostGemMapping,
  type PanfrostMmu,
  panfrostGemClose,
  panfrostGemOpen,
  panfrostMmuAsGet,
  panfrostMmuCtxCreate,
  panfrostMmuPageFault,
} from "./panfrost/panfrost-mmu.js";
import {
  DRM_PANTHOR_VM_BIND_OP_MAP_READONLY,
  DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
  PanthorDevice,
  type PanthorVm,
  panthorVmActive,
  panthorVmBindExecSyncOp,
  panthorVmCreate,
} from "./panthor/panthor-vm.js";

/** Fault injection: drop the matching AS commands while `on`. */
class Dropper {
  on = false;
  constructor(readonly cmd: number) {}
  readonly rewrite = (e: AsCommandLogEntry) => (this.on && e.cmd === this.cmd ? null : e);
}

interface Gpu {
  checker: IotlbChecker;
  truth(va: number, out: PhysLength): void;
  /** The VA window the test maps in: after each operation the checker re-walks what it caches there. */
  window: [number, number];
}

/**
 * The check after a driver operation returns: mark stale whatever cached entry of the window
 * no longer matches the table, apply the AS commands the driver wrote, report what is still
 * stale.
 */
function after(g: Gpu, op: string): void {
  g.checker.observe(op, g.window[0], g.window[1], true);
}

/** A GPU access must agree with a walk of the table now (a permission fault: the leaf is there). */
function access(g: Gpu, va: number, write: boolean, out: PhysLength): void {
  const r = g.checker.access(va, write ? "write" : "read");
  g.truth(va, out);
  expect(r.ok || r.permissionFault).toBe(out.mapped);
  if (r.ok) expect(r.phys).toBe(out.physNumber);
}

// ------------------------------------------------------------------------------ panfrost

const PF_VA = 0x400_0000; // 64 MiB
const PF_SLOT = 0x80_0000; // 8 MiB per slot

function panfrost(capacity = 64, drop: Dropper | null = null) {
  const dev = new PanfrostDevice({ hw: new GpuMmuHw({ logCapacity: 1 << 14 }) });
  const mmu = panfrostMmuCtxCreate(dev) as PanfrostMmu;
  const as = panfrostMmuAsGet(dev, mmu);
  expect(as).toBe(0);
  const domain = gpuIotlbDomain(mmu.ops, dev.counters, mmu.pgtblCfg.pgsizeBitmap);
  const feed = gpuMmuIotlbFeed(dev.hw, as, drop ? { rewrite: drop.rewrite } : {});
  const checker = new IotlbChecker(domain, gpuMmuIotlbModel(domain, as, { capacity, walkCache: 8 }), feed);
  const g: Gpu = {
    checker,
    truth: (va, out) => mmu.ops.iovaToPhysLength(va, out),
    window: [PF_VA, 4 * PF_SLOT],
  };
  return { dev, mmu, as, g };
}

type PfOp =
  | { t: "open"; slot: number; pages: number; backing: BackingKind; heap: boolean }
  | { t: "close"; slot: number }
  | { t: "fault"; slot: number; page: number }
  | { t: "access"; slot: number; page: number; n: number; write: boolean };

const slotPageArb = fc.tuple(fc.nat(1), fc.nat(15)).map(([b, o]) => b * 512 + o);
const pfOpArb: fc.Arbitrary<PfOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("open" as const),
      slot: fc.nat(3),
      pages: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constantFrom(512, 1024, 515)),
      backing: fc.constantFrom<BackingKind>("scattered", "contiguous", "thp"),
      heap: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("close" as const), slot: fc.nat(3) }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("fault" as const), slot: fc.nat(3), page: slotPageArb }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("access" as const),
      slot: fc.nat(3),
      page: slotPageArb,
      n: fc.integer({ min: 1, max: 8 }),
      write: fc.boolean(),
    }),
  },
);

function runPanfrost(p: ReturnType<typeof panfrost>, ops: readonly PfOp[]): void {
  const { dev, mmu, as, g } = p;
  const slots: (PanfrostGemMapping | null)[] = [null, null, null, null];
  const out = new PhysLength();
  for (const o of ops) {
    const va = PF_VA + o.slot * PF_SLOT;
    const m = slots[o.slot];
    if (o.t === "access") {
      for (let i = 0; i < 2 * o.n; i++) access(g, va + (o.page + (i >> 1)) * SZ_4K + 0x10, o.write, out);
    } else if (o.t === "open") {
      if (m) continue;
      const bo = GpuBo.create(dev.memory, {
        size: o.heap ? 2 * SZ_2M : o.pages * SZ_4K,
        heap: o.heap,
        noexec: true,
        backing: o.backing,
      });
      const got = panfrostGemOpen(mmu, bo, { va });
      expect(typeof got).not.toBe("number");
      slots[o.slot] = got as PanfrostGemMapping;
      after(g, "panfrost_gem_open");
    } else if (o.t === "close") {
      if (!m) continue;
      panfrostGemClose(m);
      slots[o.slot] = null;
      after(g, "panfrost_gem_close");
    } else {
      if (!m?.bo.heap) continue;
      expect(panfrostMmuPageFault(dev, as, va + o.page * SZ_4K)).toBe(0);
      after(g, "page_fault");
    }
  }
}

describe("panfrost under the IOTLB checker: random open/close/fault/access sequences run clean", () => {
  it("ARM_MALI_LPAE, LOCK + FLUSH_PT after each map and unmap", () => {
    const seen = { hits: 0, walks: 0, walkCacheHits: 0, evictions: 0, entriesInvalidated: 0 };
    fc.assert(
      fc.property(
        fc.array(pfOpArb, { minLength: 10, maxLength: 40 }),
        fc.integer({ min: 2, max: 32 }),
        (ops, cap) => {
          const p = panfrost(cap);
          runPanfrost(p, ops);
          expect(p.g.checker.findings).toEqual([]);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += p.g.checker.model.stats[k];
        },
      ),
      { numRuns: 60 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("broken variant: panfrost's FLUSH_PT after an unmap dropped", () => {
  it("sync-stale on the close for every cached page, then stale-access", () => {
    const drop = new Dropper(AS_COMMAND_FLUSH_PT);
    const p = panfrost(64, drop);
    const bo = GpuBo.create(p.dev.memory, { size: 16 * SZ_4K, noexec: true });
    const m = panfrostGemOpen(p.mmu, bo, { va: PF_VA }) as PanfrostGemMapping;
    after(p.g, "panfrost_gem_open");
    const out = new PhysLength();
    for (let i = 0; i < 16; i++) access(p.g, PF_VA + i * SZ_4K, true, out);
    const locks = p.dev.hw.lock;
    drop.on = true;
    panfrostGemClose(m);
    after(p.g, "panfrost_gem_close");
    drop.on = false;
    // The driver did lock the range; only the flush that invalidates it is gone.
    expect(p.dev.hw.lock).toBe(locks + 1);
    const f = p.g.checker.findings;
    expect(f.map((x) => [x.kind, x.op, x.cache, x.iova, x.size])).toEqual(
      Array.from({ length: 16 }, (_, i) => [
        "sync-stale",
        "panfrost_gem_close",
        "iotlb",
        PF_VA + i * SZ_4K,
        SZ_4K,
      ]),
    );
    const r = p.g.checker.access(PF_VA + 3 * SZ_4K, "read");
    expect(r.hit).toBe(true);
    expect(p.g.checker.findings.at(-1)).toMatchObject({
      kind: "stale-access",
      op: "access",
      iova: PF_VA + 3 * SZ_4K,
    });
  });

  it("with the flush in place the same steps find nothing", () => {
    const p = panfrost(64, new Dropper(AS_COMMAND_FLUSH_PT));
    const bo = GpuBo.create(p.dev.memory, { size: 16 * SZ_4K, noexec: true });
    const m = panfrostGemOpen(p.mmu, bo, { va: PF_VA }) as PanfrostGemMapping;
    const out = new PhysLength();
    for (let i = 0; i < 16; i++) access(p.g, PF_VA + i * SZ_4K, true, out);
    panfrostGemClose(m);
    after(p.g, "panfrost_gem_close");
    p.g.checker.access(PF_VA + 3 * SZ_4K, "read");
    expect(p.g.checker.findings).toEqual([]);
  });
});

// ------------------------------------------------------------------------------- panthor

const PT_VA = 0x10_0000_0000; // 64 GiB
const PT_SLOT = 0x40_0000; // 4 MiB per slot
const MAP = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP;
const UNMAP = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP;

function panthor(capacity = 64, drop: Dropper | null = null, hugeCheck: "folio" | "leaf" = "folio") {
  const dev = new PanthorDevice({ hw: new GpuMmuHw({ logCapacity: 1 << 14 }) });
  const vm = panthorVmCreate(dev, { hugeCheck }) as PanthorVm;
  expect(panthorVmActive(vm)).toBe(0);
  const domain = gpuIotlbDomain(vm.ops, dev.counters, 0x1000 | 0x20_0000);
  const feed = gpuMmuIotlbFeed(dev.hw, vm.asId, drop ? { rewrite: drop.rewrite } : {});
  const checker = new IotlbChecker(
    domain,
    gpuMmuIotlbModel(domain, vm.asId, { capacity, walkCache: 8 }),
    feed,
  );
  const g: Gpu = {
    checker,
    truth: (va, out) => vm.ops.iovaToPhysLength(va, out),
    window: [PT_VA, 2 * PT_SLOT],
  };
  return { dev, vm, g };
}

type PtOp =
  | { t: "map"; slot: number; page: number; pages: number; backing: BackingKind; readonly: boolean }
  | { t: "unmap"; slot: number; page: number; pages: number }
  | { t: "access"; slot: number; page: number; n: number; write: boolean };

const ptOpArb: fc.Arbitrary<PtOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("map" as const),
      slot: fc.nat(1),
      page: fc.oneof(fc.constant(0), slotPageArb),
      pages: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constantFrom(512, 1024)),
      backing: fc.constantFrom<BackingKind>("scattered", "contiguous", "thp"),
      readonly: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("unmap" as const),
      slot: fc.nat(1),
      page: slotPageArb,
      pages: fc.oneof(fc.integer({ min: 1, max: 24 }), fc.constantFrom(512, 1024)),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("access" as const),
      slot: fc.nat(1),
      page: slotPageArb,
      n: fc.integer({ min: 1, max: 8 }),
      write: fc.boolean(),
    }),
  },
);

function runPanthor(p: ReturnType<typeof panthor>, ops: readonly PtOp[]): void {
  const { dev, vm, g } = p;
  const out = new PhysLength();
  for (const o of ops) {
    // An unusable VM has its AS disabled: the GPU reaches nothing through it any more.
    if (vm.unusable) break;
    const va = PT_VA + o.slot * PT_SLOT + o.page * SZ_4K;
    if (o.t === "access") {
      for (let i = 0; i < 2 * o.n; i++) access(g, va + (i >> 1) * SZ_4K + 0x10, o.write, out);
    } else if (o.t === "map") {
      const pages = Math.min(o.pages, 2048 - o.slot * 1024 - o.page);
      const bo = GpuBo.create(dev.memory, { size: pages * SZ_4K, backing: o.backing });
      const flags = MAP | (o.readonly ? DRM_PANTHOR_VM_BIND_OP_MAP_READONLY : 0);
      // drm_gpuvm refuses a map over a live mapping (-EEXIST); the check runs either way.
      expect([0, -17]).toContain(panthorVmBindExecSyncOp(vm, { flags, bo, va, size: pages * SZ_4K }));
      after(g, "vm_bind_map");
    } else {
      expect(panthorVmBindExecSyncOp(vm, { flags: UNMAP, va, size: o.pages * SZ_4K })).toBe(0);
      after(g, "vm_bind_unmap");
    }
  }
}

describe("panthor under the IOTLB checker: random VM_BIND map/unmap/access sequences run clean", () => {
  it.each(["folio", "leaf"] as const)(
    "ARM_64_LPAE_S1, LOCK before each VM_BIND, cache flush + UNLOCK after (remaps of 2 MiB leaves; huge-page test %s)",
    (hugeCheck) => {
      const seen = { hits: 0, walks: 0, walkCacheHits: 0, evictions: 0, entriesInvalidated: 0, faults: 0 };
      let unusable = 0;
      fc.assert(
        fc.property(
          fc.array(ptOpArb, { minLength: 10, maxLength: 40 }),
          fc.integer({ min: 2, max: 32 }),
          (ops, cap) => {
            const p = panthor(cap, null, hugeCheck);
            runPanthor(p, ops);
            expect(p.g.checker.findings).toEqual([]);
            if (p.vm.unusable) unusable++;
            for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += p.g.checker.model.stats[k];
          },
        ),
        { numRuns: 60 },
      );
      // Some sequences make the VM unusable (the folio-size huge-page test widens an unmap over
      // 4 KiB leaves: a kernel quirk, see README); most run to the end.
      // With the kernel's folio-size huge-page test some sequences make the VM unusable (an
      // unmap widened over 4 KiB leaves: see README, known quirks) and stop there; with the
      // series' leaf test none does.
      if (hugeCheck === "leaf") expect(unusable).toBe(0);
      else expect(unusable).toBeLessThan(60);
      for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
    },
  );
});

describe("broken variant: panthor's AS_COMMAND_UNLOCK after an unmap dropped", () => {
  it("sync-stale on the unmap for the cached 2 MiB leaf, then stale-access", () => {
    const drop = new Dropper(AS_COMMAND_UNLOCK);
    const p = panthor(64, drop);
    const bo = GpuBo.create(p.dev.memory, { size: SZ_2M, backing: "contiguous" });
    expect(panthorVmBindExecSyncOp(p.vm, { flags: MAP, bo, va: PT_VA, size: SZ_2M })).toBe(0);
    after(p.g, "vm_bind_map");
    const out = new PhysLength();
    access(p.g, PT_VA + 0x1234, true, out);
    expect(out.length).toBe(SZ_2M); // one 2 MiB leaf, one IOTLB entry
    const cmds = p.dev.hw.commands;
    drop.on = true;
    expect(panthorVmBindExecSyncOp(p.vm, { flags: UNMAP, va: PT_VA, size: SZ_2M })).toBe(0);
    after(p.g, "vm_bind_unmap");
    drop.on = false;
    // LOCK was issued; the UNLOCK that invalidates the region is what is gone.
    expect(p.dev.hw.commandLog(cmds).map((e) => e.cmd)).toEqual([AS_COMMAND_LOCK, AS_COMMAND_UNLOCK]);
    expect(p.g.checker.findings.map((x) => [x.kind, x.op, x.cache, x.iova, x.size])).toEqual([
      ["sync-stale", "vm_bind_unmap", "iotlb", PT_VA, SZ_2M],
    ]);
    const r = p.g.checker.access(PT_VA + 0x5000, "write");
    expect(r.hit).toBe(true);
    expect(p.g.checker.findings.at(-1)).toMatchObject({ kind: "stale-access", iova: PT_VA + 0x5000 });
  });
});
