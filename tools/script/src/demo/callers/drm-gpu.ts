/**
 * `iommu demo` rows for the two DRM drivers that drive io-pgtable directly
 * (@iommu/drm-gpu, kernel-callers.md §5.1, §5.2, §7 rows 8–9). "legacy" is today's driver
 * (`ops->iova_to_phys`, panthor's folio-size huge-page test); "length" is the series'
 * conversion (`iova_to_phys_length`: holes skipped by their reported span, panthor's
 * huge-page test by the leaf size). Columns: walks = the drivers' page-table lookups; unmap
 * calls = `ops->unmap_pages` calls; IOTLB syncs = MMU flushes (panfrost AS_COMMAND_FLUSH_PT,
 * panthor the cache flush + AS_COMMAND_UNLOCK of each locked region).
 */

import { SZ_1G, SZ_1M, SZ_2M, SZ_4K, SZ_64K, SZ_64M } from "@iommu/core";
import {
  type BackingKind,
  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
  GpuBo,
  PanfrostDevice,
  PanthorDevice,
  type PanthorVmOptions,
  panfrostGemOpen,
  panfrostMmuAsGet,
  panfrostMmuCtxCreate,
  panfrostMmuMapFaultAddr,
  panfrostMmuUnmap,
  panthorVmActive,
  panthorVmBindExecSyncOp,
  panthorVmCreate,
  panthorVmMapBoRange,
} from "@iommu/drm-gpu";
import { ioPgtableIovaToPhys } from "@iommu/io-pgtable";
import { type Clock, performanceClock } from "../../clock.js";
import type { CallerScenario, LookupMode } from "../caller.js";
import type { Measurement } from "../run.js";

function check(ret: number | object, what: string): void {
  if (typeof ret === "number" && ret !== 0) throw new Error(`demo: ${what} failed: ${ret}`);
}

/** A panfrost heap or plain BO: map (or fault in) its chunks, then time panfrost_mmu_unmap(). */
interface PanfrostCase {
  readonly id: string;
  readonly va: number;
  readonly size: number;
  /** Heap: the 2 MiB chunks the GPU faulted in; plain BO: undefined (mapped whole, THP). */
  readonly faulted?: readonly number[];
  readonly expected: { legacy: number; length: number };
  readonly byDefault: boolean;
}

function measurePanfrost(c: PanfrostCase, mode: LookupMode, clock: Clock): Measurement {
  const dev = new PanfrostDevice({ lookup: mode });
  const mmu = panfrostMmuCtxCreate(dev);
  if (typeof mmu === "number") throw new Error(`demo: panfrost_mmu_ctx_create: ${mmu}`);
  const as = panfrostMmuAsGet(dev, mmu);
  const heap = c.faulted !== undefined;
  const bo = GpuBo.create(dev.memory, { size: c.size, heap, noexec: true, backing: "thp" });
  const m = panfrostGemOpen(mmu, bo, { va: c.va });
  if (typeof m === "number") throw new Error(`demo: panfrost_gem_open: ${m}`);
  for (const chunk of c.faulted ?? [])
    check(panfrostMmuMapFaultAddr(dev, as, c.va + chunk * SZ_2M), "GPU fault");
  const k = dev.counters;
  const before = { walks: k.walks, reads: k.pteReads, unmaps: k.unmapPagesCalls, flushes: dev.hw.flushPt };
  const t0 = clock();
  panfrostMmuUnmap(m);
  const ns = Number(clock() - t0);
  if (Number(ioPgtableIovaToPhys(mmu.ops, c.va)) !== 0) throw new Error(`demo: ${c.id}: still mapped`);
  return {
    walks: k.walks - before.walks,
    pteReads: k.pteReads - before.reads,
    unmapCalls: k.unmapPagesCalls - before.unmaps,
    iotlbSyncs: dev.hw.flushPt - before.flushes,
    ns,
  };
}

function panfrost(c: PanfrostCase): CallerScenario {
  return {
    id: c.id,
    caller: "panfrost",
    driver: "panfrost",
    format: "ARM_MALI_LPAE",
    granule: SZ_4K,
    leafSize: SZ_2M,
    regionSize: c.size,
    byDefault: c.byDefault,
    expected: c.expected,
    measure: (mode, clock = performanceClock) => measurePanfrost(c, mode, clock),
  };
}

/** A panthor VMA: map, break it behind drm_gpuvm's back (holes), then time one VM_BIND unmap. */
interface PanthorCase {
  readonly id: string;
  readonly backing: BackingKind;
  readonly size: number;
  /** 2 MiB leaves unmapped behind drm_gpuvm's back. */
  readonly holes: readonly number[];
  /** The VM_BIND unmap measured, relative to the VMA. */
  readonly unmap: { offset: number; size: number };
  readonly unmapProbe: "quirk" | "fixed";
  readonly leafSize: number;
  readonly expected: { legacy: number; length: number };
  readonly byDefault: boolean;
}

const BASE = 0x10_0000_0000; // 64 GiB, 1 GiB aligned

function measurePanthor(c: PanthorCase, mode: LookupMode, clock: Clock): Measurement {
  const dev = new PanthorDevice();
  const options: PanthorVmOptions = {
    lookup: mode,
    hugeCheck: mode === "length" ? "leaf" : "folio",
    unmapProbe: c.unmapProbe,
  };
  const vm = panthorVmCreate(dev, options);
  if (typeof vm === "number") throw new Error(`demo: panthor_vm_create: ${vm}`);
  check(panthorVmActive(vm), "panthor_vm_active");
  const bo = GpuBo.create(dev.memory, { size: c.size, backing: c.backing });
  check(panthorVmMapBoRange(vm, bo, 0, c.size, BASE), "panthor_vm_map_bo_range");
  for (const h of c.holes)
    if (vm.ops.unmapPages(BASE + h * SZ_2M, SZ_2M, 1, null) !== SZ_2M)
      throw new Error("demo: hole punch failed");
  const k = dev.counters;
  const before = { walks: k.walks, reads: k.pteReads, unmaps: k.unmapPagesCalls, flushes: dev.hw.cacheFlush };
  const t0 = clock();
  check(
    panthorVmBindExecSyncOp(vm, {
      flags: DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
      va: BASE + c.unmap.offset,
      size: c.unmap.size,
    }),
    "VM_BIND unmap",
  );
  const ns = Number(clock() - t0);
  return {
    walks: k.walks - before.walks,
    pteReads: k.pteReads - before.reads,
    unmapCalls: k.unmapPagesCalls - before.unmaps,
    iotlbSyncs: dev.hw.cacheFlush - before.flushes,
    ns,
  };
}

function panthor(c: PanthorCase): CallerScenario {
  return {
    id: c.id,
    caller: "panthor",
    driver: "panthor",
    format: "ARM_64_LPAE_S1",
    granule: SZ_4K,
    leafSize: c.leafSize,
    regionSize: c.unmap.size,
    byDefault: c.byDefault,
    expected: c.expected,
    measure: (mode, clock = performanceClock) => measurePanthor(c, mode, clock),
  };
}

const WHOLE = { offset: 0, size: SZ_64M };
const PAGES_PER_2M = SZ_2M / SZ_4K;

/** The DRM GPU rows. */
export const DRM_GPU_SCENARIOS: readonly CallerScenario[] = [
  // §7 row 8: a 64 MiB heap at 1 GiB − 32 MiB, chunks 0–7 faulted but 3, the rest never.
  // Legacy: one probe per 2 MiB step, S/2M = 32. Length-aware: below 1 GiB one probe per
  // chunk (a 2M leaf or one empty level-2 entry: 16); above it the level-1 entry is empty,
  // and one probe skips its whole 1 GiB span (1): 17.
  panfrost({
    id: "panfrost-heap-unmap",
    va: SZ_1G - 32 * SZ_1M,
    size: SZ_64M,
    faulted: [0, 1, 2, 4, 5, 6, 7],
    expected: { legacy: SZ_64M / SZ_2M, length: (32 * SZ_1M) / SZ_2M + 1 },
    byDefault: true,
  }),
  // The same heap inside one 1 GiB slot, every other chunk faulted: each hole is one empty
  // 2M entry, so the length-aware probe skips no more than the step — no gain (32 → 32).
  panfrost({
    id: "panfrost-heap-unmap-sparse",
    va: SZ_1G,
    size: SZ_64M,
    faulted: Array.from({ length: 16 }, (_, i) => 2 * i),
    expected: { legacy: SZ_64M / SZ_2M, length: SZ_64M / SZ_2M },
    byDefault: false,
  }),
  // Non-heap BO: unmap_pages over whole get_pgsize steps, no lookup (0 → 0).
  panfrost({
    id: "panfrost-bo-unmap",
    va: SZ_1G,
    size: SZ_64M,
    expected: { legacy: 0, length: 0 },
    byDefault: false,
  }),
  // §7 row 9, normal path: VM_BIND unmap of a 64 MiB THP mapping, no lookup (0 → 0).
  panthor({
    id: "panthor-unmap",
    backing: "thp",
    size: SZ_64M,
    holes: [],
    unmap: WHOLE,
    unmapProbe: "quirk",
    leafSize: SZ_2M,
    expected: { legacy: 0, length: 0 },
    byDefault: false,
  }),
  // §7 row 9, error path: one 2M leaf (chunk 3) gone behind drm_gpuvm's back. The first
  // unmap_pages stops there; the probes walk the hole 4K at a time (512) plus the one that
  // finds chunk 4 mapped (legacy 513); length-aware: one probe reports the 2M hole, one the
  // next leaf (2). Offset 0, so the kernel's probe address is the right one.
  panthor({
    id: "panthor-unmap-mismatch",
    backing: "thp",
    size: SZ_64M,
    holes: [3],
    unmap: WHOLE,
    unmapProbe: "quirk",
    leafSize: SZ_2M,
    expected: { legacy: PAGES_PER_2M + 1, length: 2 },
    byDefault: true,
  }),
  // Four holes (chunks 3, 10, 17, 24), probes at iova + offset + unmapped_sz (`fixed`):
  // each hole costs 513 → 2, as in §7.
  panthor({
    id: "panthor-unmap-mismatch-4holes",
    backing: "thp",
    size: SZ_64M,
    holes: [3, 10, 17, 24],
    unmap: WHOLE,
    unmapProbe: "fixed",
    leafSize: SZ_2M,
    expected: { legacy: 4 * (PAGES_PER_2M + 1), length: 4 * 2 },
    byDefault: false,
  }),
  // The same with the kernel's probe address (iova + unmapped_sz, offset ignored), derived by
  // hand from the loop: hole 3 at offset 0 probes chunk 3 (512 + 1); the run from offset 8M
  // stops at hole 10 with unmapped_sz = 12M and probes from chunk 6 (unmapped) until chunk 11
  // answers (2560 + 1, offset jumps to 30M: chunks 11–14 stay mapped); the run from 30M stops
  // at hole 17 with unmapped_sz = 4M and probes chunks 2–10 until chunk 11 (4608 + 1, offset
  // to 52M: 17–25 skipped). Length-aware: 2 + 6 + 10 probes (one per empty 2M entry).
  panthor({
    id: "panthor-unmap-mismatch-quirk",
    backing: "thp",
    size: SZ_64M,
    holes: [3, 10, 17, 24],
    unmap: WHOLE,
    unmapProbe: "quirk",
    leafSize: SZ_2M,
    expected: { legacy: 513 + 2561 + 4609, length: 2 + 6 + 10 },
    byDefault: false,
  }),
  // Partial unmap (64K) inside a THP-backed 2M leaf: both tests widen the unmap to the leaf
  // and remap the pieces kept; the folio test reads the BO's page (0 walks), the leaf test
  // walks once for each side (2).
  panthor({
    id: "panthor-remap-huge",
    backing: "thp",
    size: 4 * SZ_1M,
    holes: [],
    unmap: { offset: SZ_1M, size: SZ_64K },
    unmapProbe: "quirk",
    leafSize: SZ_2M,
    expected: { legacy: 0, length: 2 },
    byDefault: false,
  }),
  // The same on 4K folios that are physically contiguous (2M leaves all the same): the folio
  // test says "not huge", unmap_pages(4K × 16) inside the block unmaps nothing, and the error
  // path probes once (the block is still mapped) and gives the VM up (legacy 1). The leaf
  // test widens correctly (2).
  panthor({
    id: "panthor-remap-huge-contig",
    backing: "contiguous",
    size: 4 * SZ_1M,
    holes: [],
    unmap: { offset: SZ_1M, size: SZ_64K },
    unmapProbe: "quirk",
    leafSize: SZ_2M,
    expected: { legacy: 1, length: 2 },
    byDefault: false,
  }),
];
