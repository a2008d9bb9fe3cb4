/**
 * generic_pt timings beside the kernel's generic_pt C figures (measured on this machine kind,
 * amdv1, identity 1 GiB at 0x40000000). Every format runs the same loops; the kernel only
 * published amdv1 numbers, which the other formats are compared against (the C code shares
 * one walker, so per-format figures are within ~20% of amdv1).
 *
 * Loops call the domain's raw ops (`map_pages`, `unmap_pages`, `iova_to_phys`) as the kernel
 * benchmark does; "batched" rows are one call covering the whole GiB with the domain bitmap
 * narrowed to 4K so that 4K leaves are really built, reported per page.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbGather,
  iotlbGatherAddRange,
  PhysLength,
  SizeOut,
  SZ_1G,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { createPtDomain, type PtDomain, type PtFormatName } from "@iommu/generic-pt";
import { genericPtFormats } from "@iommu/script";
import { DEFAULT_MEASURE, type MeasureOptions, nsPerOp as measureNsPerOp } from "./measure.js";

export interface GenericPtBenchRow {
  format: PtFormatName;
  op: string;
  leaf: "4K" | "2M";
  nsPerOp: number;
  kernelNsPerOp: number;
  pteReadsPerLookup?: number;
  /** The same figures under the names tools/bench's table printer uses. */
  name: string;
  ns: number;
  kernelNs: number;
  note?: string;
}

const BASE = 0x4000_0000;
const RW = IOMMU_READ | IOMMU_WRITE;

/** The formats to time: `GPT_FORMATS=a,b` or every generic_pt format of the registry. */
function formatsToRun(): readonly PtFormatName[] {
  return (process.env.GPT_FORMATS?.split(",") as PtFormatName[] | undefined) ?? genericPtFormats();
}

/**
 * IotlbGather starts with Smi fields that become doubles on the first 64-bit range; settle
 * the class's field representation once, before any timed code is optimised, so the timed
 * loops do not deoptimise on it (a harness artefact, not a cost of the model).
 */
function settleGatherShape(): void {
  const g = new IotlbGather();
  iotlbGatherAddRange(g, 2 ** 40, 2 ** 40);
  g.pgsize = 2 ** 40;
  g.init();
}

/** Kernel generic_pt C, amdv1, this machine (ns per op; batched rows per page). */
const KERNEL = {
  map4k: 29.8,
  mapBatch: 1.0,
  map2m: 35.4,
  phys4k: 28.5,
  phys2m: 24.4,
  unmap4k: 33.5,
  unmapBatch: 1.4,
  unmap2m: 28.5,
} as const;

/**
 * The timed loops, created afresh per format: V8 keeps call-site feedback per function
 * object, so each format's loops call its ops monomorphically, as the kernel's benchmark
 * calls one format's functions directly.
 */
function makeLoops(region: number) {
  function domainOf(format: PtFormatName): PtDomain {
    return createPtDomain(format);
  }

  function mapAll(d: PtDomain, leaf: number, batched: boolean): void {
    const out = new SizeOut();
    const ops = d.ops;
    if (batched) {
      ops.mapPages(d, BASE, BASE, leaf, region / leaf, RW, 0, out);
      return;
    }
    for (let va = BASE; va < BASE + region; va += leaf) ops.mapPages(d, va, va, leaf, 1, RW, 0, out);
  }

  function timeMap(format: PtFormatName, leaf: number, batched: boolean): bigint {
    const d = domainOf(format);
    if (batched) d.pgsizeBitmap = leaf;
    const t0 = process.hrtime.bigint();
    mapAll(d, leaf, batched);
    const t1 = process.hrtime.bigint();
    d.pt.deinit();
    return t1 - t0;
  }

  /** The timed unmap loop alone: code after a hot loop would make V8 deoptimise it per call. */
  function unmapAll(d: PtDomain, leaf: number, batched: boolean, g: IotlbGather): void {
    const ops = d.ops;
    if (batched) {
      ops.unmapPages(d, BASE, leaf, region / leaf, g);
      return;
    }
    for (let va = BASE; va < BASE + region; va += leaf) ops.unmapPages(d, va, leaf, 1, g);
  }

  function timeUnmap(format: PtFormatName, leaf: number, batched: boolean): bigint {
    const d = domainOf(format);
    if (batched) d.pgsizeBitmap = leaf;
    mapAll(d, leaf, batched);
    const g = new IotlbGather();
    const t0 = process.hrtime.bigint();
    unmapAll(d, leaf, batched, g);
    const t1 = process.hrtime.bigint();
    d.pt.iotlbSync(g);
    d.pt.deinit();
    return t1 - t0;
  }

  /** The kernel bench's iova_to_phys loop, on the op that replaced it (one walk per 4K). */
  function physAll(d: PtDomain): number {
    const ops = d.ops;
    const phys = new PhysLength();
    let sum = 0;
    for (let va = BASE; va < BASE + region; va += SZ_4K) {
      ops.iovaToPhysLength(d, va, phys);
      sum += phys.physNumber;
    }
    return sum;
  }

  /** A mapped domain reused by the lookup runs (lookups do not modify it). */
  function timePhys(d: PtDomain): bigint {
    const t0 = process.hrtime.bigint();
    const sum = physAll(d);
    const t1 = process.hrtime.bigint();
    if (sum === -1) throw new Error("unreachable");
    return t1 - t0;
  }

  function pteReadsPerLookup(d: PtDomain): number {
    const out = new PhysLength();
    const before = d.counters.pteReads;
    const n = 4096;
    for (let i = 0; i < n; i++) d.pt.iovaToPhysLength(BASE + i * SZ_4K * 61, out);
    return (d.counters.pteReads - before) / n;
  }
  return { mapAll, timeMap, timeUnmap, timePhys, pteReadsPerLookup, domainOf, unmapAll, physAll };
}

function row(
  format: PtFormatName,
  op: string,
  leaf: "4K" | "2M",
  ns: number,
  kernel: number,
  pteReads?: number,
): GenericPtBenchRow {
  const r: GenericPtBenchRow = {
    format,
    op,
    leaf,
    nsPerOp: ns,
    kernelNsPerOp: kernel,
    name: `${format} ${op} ${leaf}`,
    ns,
    kernelNs: kernel,
  };
  if (pteReads !== undefined) {
    r.pteReadsPerLookup = pteReads;
    r.note = `${pteReads.toFixed(2)} PTE reads/lookup`;
  }
  return r;
}

/**
 * Median ns/op; rows with few ops per run (512 × 2M) get extra warm-up runs so every row is
 * timed with optimised code (≥ 300k warm-up operations, or `o.warmupOps`).
 */
function nsPerOp(run: () => bigint, ops: number, o: MeasureOptions): number {
  const warmup = Math.min(1000, Math.max(o.warmup, Math.ceil((o.warmupOps ?? 300_000) / ops)));
  return measureNsPerOp(run, ops, { warmup, runs: o.runs, warmupOps: 0 });
}

export interface GenericPtBenchOptions {
  /** Default 7 runs after warm-up. */
  measure?: MeasureOptions;
  /** Bytes each loop covers from 0x40000000 (a multiple of 2 MiB; default 1 GiB). */
  region?: number;
  /** Default: `GPT_FORMATS`, else the registry's generic_pt formats. */
  formats?: readonly PtFormatName[];
}

/** All generic_pt rows; prints nothing. */
export function runGenericPtBench(options: GenericPtBenchOptions = {}): GenericPtBenchRow[] {
  settleGatherShape();
  const o = options.measure ?? DEFAULT_MEASURE;
  const region = options.region ?? SZ_1G;
  const PAGES = region / SZ_4K;
  const BLOCKS = region / SZ_2M;
  const rows: GenericPtBenchRow[] = [];
  for (const f of options.formats ?? formatsToRun()) {
    const { mapAll, timeMap, timeUnmap, timePhys, pteReadsPerLookup, domainOf } = makeLoops(region);
    rows.push(
      row(
        f,
        "map_pages",
        "4K",
        nsPerOp(() => timeMap(f, SZ_4K, false), PAGES, o),
        KERNEL.map4k,
      ),
    );
    rows.push(
      row(
        f,
        "map_pages batched (per page)",
        "4K",
        nsPerOp(() => timeMap(f, SZ_4K, true), PAGES, o),
        KERNEL.mapBatch,
      ),
    );
    rows.push(
      row(
        f,
        "map_pages",
        "2M",
        nsPerOp(() => timeMap(f, SZ_2M, false), BLOCKS, o),
        KERNEL.map2m,
      ),
    );
    for (const leaf of [SZ_4K, SZ_2M]) {
      const d = domainOf(f);
      mapAll(d, leaf, false);
      const ns = nsPerOp(() => timePhys(d), PAGES, o);
      rows.push(
        row(
          f,
          "iova_to_phys",
          leaf === SZ_4K ? "4K" : "2M",
          ns,
          leaf === SZ_4K ? KERNEL.phys4k : KERNEL.phys2m,
          pteReadsPerLookup(d),
        ),
      );
      d.pt.deinit();
    }
    rows.push(
      row(
        f,
        "unmap_pages",
        "4K",
        nsPerOp(() => timeUnmap(f, SZ_4K, false), PAGES, o),
        KERNEL.unmap4k,
      ),
    );
    rows.push(
      row(
        f,
        "unmap_pages batched (per page)",
        "4K",
        nsPerOp(() => timeUnmap(f, SZ_4K, true), PAGES, o),
        KERNEL.unmapBatch,
      ),
    );
    rows.push(
      row(
        f,
        "unmap_pages",
        "2M",
        nsPerOp(() => timeUnmap(f, SZ_2M, false), BLOCKS, o),
        KERNEL.unmap2m,
      ),
    );
  }
  return rows;
}
