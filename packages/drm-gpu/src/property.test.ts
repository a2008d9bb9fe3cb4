// Property tests: random sequences of BO bind/unbind (and, for panfrost, heap faults) on
// each driver, checked page by page against a reference of expected translations
// (testing/page-ref.ts). Counts only what runs: ≥ 10,000 operations per driver.
import { SZ_1M, SZ_2M, SZ_4K } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GpuBo } from "./gem.js";
import type { BackingKind } from "./gpu-memory.js";
import {
  PanfrostDevice,
  type PanfrostGemMapping,
  panfrostGemClose,
  panfrostGemOpen,
  panfrostMmuAsGet,
  panfrostMmuCtxCreate,
  panfrostMmuMapFaultAddr,
} from "./panfrost/panfrost-mmu.js";
import {
  DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
  PanthorDevice,
  panthorVmActive,
  panthorVmBindExecSyncOp,
  panthorVmCreate,
} from "./panthor/panthor-vm.js";
import { diffTranslations, PageRef } from "./testing/page-ref.js";

const KINDS: readonly BackingKind[] = ["scattered", "contiguous", "thp"];

describe("panfrost: random open / fault / close sequences against the reference", () => {
  type Op =
    | { t: "open"; pages: number; kind: number; noexec: boolean }
    | { t: "heap"; chunks: number }
    | { t: "fault"; pick: number; at: number }
    | { t: "close"; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      t: fc.constant("open" as const),
      pages: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 300, max: 700 })),
      kind: fc.integer({ min: 0, max: 2 }),
      noexec: fc.boolean(),
    }),
    fc.record({ t: fc.constant("heap" as const), chunks: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ t: fc.constant("fault" as const), pick: fc.nat(), at: fc.nat() }),
    fc.record({ t: fc.constant("close" as const), pick: fc.nat() }),
  );
  let total = 0;

  it("translations, walks and WARNs (≥ 10,000 ops)", () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 500, maxLength: 500 }),
        fc.boolean(),
        fc.boolean(),
        (ops, length, a64) => {
          const dev = new PanfrostDevice({
            lookup: length ? "length" : "legacy",
            forceAarch64Pgtable: a64,
            aarch64Mmu: true,
          });
          const mmu = panfrostMmuCtxCreate(dev);
          if (typeof mmu === "number") throw new Error("ctx");
          const as = panfrostMmuAsGet(dev, mmu);
          const ref = new PageRef();
          const live: PanfrostGemMapping[] = [];
          const heaps: PanfrostGemMapping[] = [];
          for (const o of ops) {
            total++;
            if (o.t === "open" || o.t === "heap") {
              if (live.length > 64) continue;
              const heap = o.t === "heap";
              const bo = GpuBo.create(dev.memory, {
                size: heap ? o.chunks * SZ_2M : o.pages * SZ_4K,
                heap,
                noexec: o.t === "open" ? o.noexec : true,
                backing: o.t === "open" ? KINDS[o.kind]! : "scattered",
              });
              const m = panfrostGemOpen(mmu, bo);
              if (typeof m === "number") continue; // -ENOSPC
              live.push(m);
              if (heap) heaps.push(m);
              else for (let i = 0; i < bo.size; i += SZ_4K) ref.set(m.start + i, bo.physOf(i));
              expect(diffTranslations(mmu.ops, ref, m.start, m.start + m.size)).toBeNull();
            } else if (o.t === "fault") {
              if (!heaps.length) continue;
              const m = heaps[o.pick % heaps.length]!;
              const addr = m.start + (o.at % (m.size / SZ_4K)) * SZ_4K;
              expect(panfrostMmuMapFaultAddr(dev, as, addr)).toBe(0);
              const chunk = Math.floor(addr / SZ_2M) * SZ_2M;
              for (let a = chunk; a < chunk + SZ_2M; a += SZ_4K) ref.set(a, m.bo.physOf(a - m.start));
              expect(diffTranslations(mmu.ops, ref, chunk, chunk + SZ_2M)).toBeNull();
            } else {
              if (!live.length) continue;
              const m = live.splice(o.pick % live.length, 1)[0]!;
              const h = heaps.indexOf(m);
              if (h >= 0) heaps.splice(h, 1);
              const walks = dev.counters.walks;
              panfrostGemClose(m);
              // Heap BOs are 2M aligned and sized: one probe per 2M in legacy mode, at most that with lengths.
              const probes = dev.counters.walks - walks;
              if (!m.bo.heap || !m.bo.pages) expect(probes).toBe(0);
              else if (!length) expect(probes).toBe(m.size / SZ_2M);
              else expect(probes).toBeLessThanOrEqual(m.size / SZ_2M);
              ref.clear(m.start, m.size);
              expect(diffTranslations(mmu.ops, ref, m.start, m.start + m.size)).toBeNull();
            }
          }
          expect(dev.counters.warns).toBe(0);
        },
      ),
      { numRuns: 20, seed: 0x5eed },
    );
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});

describe("panthor: random VM_BIND map / unmap sequences against the reference", () => {
  const BASE = 0x10_0000_0000;
  const WINDOW = 64 * SZ_1M;
  type Op =
    | { t: "map"; bo: number; off: number; pages: number; va: number; align: boolean }
    | { t: "unmap"; va: number; pages: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      t: fc.constant("map" as const),
      bo: fc.nat(),
      off: fc.nat(),
      pages: fc.oneof(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 256, max: 768 })),
      va: fc.nat(),
      align: fc.boolean(),
    }),
    fc.record({
      t: fc.constant("unmap" as const),
      va: fc.nat(),
      pages: fc.oneof(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 256, max: 1024 })),
    }),
  );
  let total = 0;

  function run(hugeCheck: "folio" | "leaf", kinds: readonly BackingKind[], runs: number, seed: number): void {
    fc.assert(
      fc.property(fc.array(op, { minLength: 500, maxLength: 500 }), fc.boolean(), (ops, length) => {
        const dev = new PanthorDevice();
        const vm = panthorVmCreate(dev, { hugeCheck, lookup: length ? "length" : "legacy" });
        if (typeof vm === "number") throw new Error("vm");
        expect(panthorVmActive(vm)).toBe(0);
        const bos = [4, 6, 8, 5].map((mb, i) =>
          GpuBo.create(dev.memory, { size: mb * SZ_1M, backing: kinds[i % kinds.length]! }),
        );
        const ref = new PageRef();
        const pagesInWindow = WINDOW / SZ_4K;
        for (const o of ops) {
          total++;
          let va: number;
          let size: number;
          if (o.t === "map") {
            const bo = bos[o.bo % bos.length]!;
            size = Math.min(o.pages * SZ_4K, bo.size);
            let off = (o.off % ((bo.size - size) / SZ_4K + 1)) * SZ_4K;
            va = BASE + (o.va % (pagesInWindow - size / SZ_4K + 1)) * SZ_4K;
            if (o.align) {
              // Give 2M leaves a chance: 2M-aligned VA and offset.
              va = BASE + Math.floor((va - BASE) / SZ_2M) * SZ_2M;
              off = Math.floor(off / SZ_2M) * SZ_2M;
              if (va + size > BASE + WINDOW) continue;
            }
            const ret = panthorVmBindExecSyncOp(vm, {
              flags: DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
              bo,
              boOffset: off,
              va,
              size,
            });
            expect(ret).toBe(0);
            for (let i = 0; i < size; i += SZ_4K) ref.set(va + i, bo.physOf(off + i));
          } else {
            size = o.pages * SZ_4K;
            va = BASE + (o.va % (pagesInWindow - o.pages + 1)) * SZ_4K;
            expect(panthorVmBindExecSyncOp(vm, { flags: DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP, va, size })).toBe(
              0,
            );
            ref.clear(va, size);
          }
          // A remap never reaches past the 2M blocks holding the request's ends.
          const from = Math.floor(va / SZ_2M) * SZ_2M;
          const to = Math.ceil((va + size) / SZ_2M) * SZ_2M;
          expect(diffTranslations(vm.ops, ref, from, to)).toBeNull();
          expect(vm.unusable).toBe(false);
        }
        expect(diffTranslations(vm.ops, ref, BASE, BASE + WINDOW)).toBeNull();
        // No error path was taken: the normal path makes no lookup at all in folio mode.
        if (hugeCheck === "folio") expect(dev.counters.walks).toBe(0);
        expect(dev.counters.warns).toBe(0);
        expect(dev.counters.bugs).toBe(0);
      }),
      { numRuns: runs, seed },
    );
  }

  it("leaf-size huge check, every backing (≥ 10,000 ops)", () => {
    total = 0;
    run("leaf", KINDS, 20, 0xc0ffee);
    expect(total).toBeGreaterThanOrEqual(10_000);
  });

  it("folio huge check (the kernel), backings where folio size predicts the leaf (scattered, THP)", () => {
    run("folio", ["scattered", "thp"], 4, 0xbeef);
  });
});
