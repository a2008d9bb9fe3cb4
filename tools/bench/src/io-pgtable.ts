/**
 * io-pgtable section: the kernel harness's bench-1g workload (a 1 GiB identity region at
 * 0x40000000 in an arm64-s1 4K 48-bit table) run through the public @iommu/io-pgtable API,
 * beside the figures the kernel C code measured for the same loops. v7s and DART rows follow
 * when those formats are available.
 */
import {
  IommuCounters,
  IotlbGather,
  PhysLength,
  PhysMem,
  SizeOut,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  SZ_16K,
  TableAllocator,
} from "@iommu/core";
import {
  allocIoPgtableOps,
  freeIoPgtableOps,
  type IommuFlushOps,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableOps,
  ioPgtableIovaToPhys,
} from "@iommu/io-pgtable";
import { fmtNames } from "@iommu/script";
import { type BenchRow, DEFAULT_MEASURE, type MeasureOptions, nsPerOp } from "./measure.js";

const BASE = 0x40000000;
const PROT_RW = 3;

/** Kernel C figures (ns/op) for the bench-1g loops, measured with the reference harness. */
export const KERNEL_NS = {
  map4k: 14.5,
  map2m: 11.2,
  mapBatchedPerPage: 1.3,
  lookup4k: 22.7,
  lookup2m: 14.9,
  unmap4k: 14.7,
  unmapBatchedPerPage: 3.0,
} as const;

/** TLB callbacks that only count, as a driver with nothing to invalidate would. */
const NOOP_TLB: IommuFlushOps = {
  tlbFlushAll() {},
  tlbFlushWalk() {},
  tlbAddPage() {},
};

interface Fixture {
  ops: IoPgtableOps;
  counters: IommuCounters;
}

interface FormatSpec {
  fmt: IoPgtableFmt;
  pgsizeBitmap: number;
  ias: number;
  oas: number;
  quirks?: number;
}

const A64S1: FormatSpec = { fmt: IoPgtableFmt.ARM_64_LPAE_S1, pgsizeBitmap: 0x40201000, ias: 48, oas: 48 };

function create(spec: FormatSpec): Fixture | null {
  const counters = new IommuCounters();
  const cfg: IoPgtableCfg = {
    quirks: spec.quirks ?? 0,
    pgsizeBitmap: spec.pgsizeBitmap,
    ias: spec.ias,
    oas: spec.oas,
    coherentWalk: true,
    tlb: NOOP_TLB,
    allocator: new TableAllocator(new PhysMem(), { counters }),
    counters,
  };
  let ops: IoPgtableOps | null = null;
  try {
    ops = allocIoPgtableOps(spec.fmt, cfg);
  } catch {
    return null; // format not implemented yet
  }
  return ops ? { ops, counters } : null;
}

const mapped = new SizeOut();
const gather = new IotlbGather();
const pl = new PhysLength();

function mapEach(f: Fixture, pgsize: number, bytes = SZ_1G): void {
  const { ops } = f;
  const n = bytes / pgsize;
  for (let i = 0, iova = BASE; i < n; i++, iova += pgsize) {
    mapped.value = 0;
    if (ops.mapPages(iova, iova, pgsize, 1, PROT_RW, 0, mapped) !== 0)
      throw new Error(`map failed at ${iova}`);
  }
}

function timed(setup: () => Fixture, loop: (f: Fixture) => void, teardown = true): () => bigint {
  return () => {
    const f = setup();
    const t0 = process.hrtime.bigint();
    loop(f);
    const dt = process.hrtime.bigint() - t0;
    if (teardown) freeIoPgtableOps(f.ops);
    return dt;
  };
}

function fresh(spec: FormatSpec): () => Fixture {
  return () => {
    const f = create(spec);
    if (!f) throw new Error("format unavailable");
    return f;
  };
}

function mappedRegion(spec: FormatSpec, pgsize: number, bytes: number): () => Fixture {
  return () => {
    const f = fresh(spec)();
    mapEach(f, pgsize, bytes);
    return f;
  };
}

function lookupLength(f: Fixture, stride: number, bytes = SZ_1G): void {
  const { ops } = f;
  const end = BASE + bytes;
  for (let iova = BASE; iova < end; iova += stride) {
    ops.iovaToPhysLength(iova, pl);
    if (!pl.mapped) throw new Error("hole");
  }
}

/** Today's callers' loop: one address lookup (`ioPgtableIovaToPhys`, the wrapper over the length op) per `stride`. */
function lookupPhys(f: Fixture, stride: number, bytes = SZ_1G): void {
  const { ops } = f;
  const end = BASE + bytes;
  for (let iova = BASE; iova < end; iova += stride)
    if (ioPgtableIovaToPhys(ops, iova) !== iova) throw new Error("bad phys");
}

function unmapEach(f: Fixture, pgsize: number, bytes = SZ_1G): void {
  const { ops } = f;
  const n = bytes / pgsize;
  for (let i = 0, iova = BASE; i < n; i++, iova += pgsize) {
    gather.init();
    if (ops.unmapPages(iova, pgsize, 1, gather) !== pgsize) throw new Error("unmap failed");
  }
}

function mapBatched(f: Fixture, bytes = SZ_1G): void {
  let done = 0;
  while (done < bytes) {
    mapped.value = 0;
    const iova = BASE + done;
    const ret = f.ops.mapPages(iova, iova, SZ_4K, (bytes - done) / SZ_4K, PROT_RW, 0, mapped);
    if (ret !== 0 || mapped.value === 0) throw new Error("batched map failed");
    done += mapped.value;
  }
}

function unmapBatched(f: Fixture, pgsize = SZ_4K, bytes = SZ_1G): void {
  let done = 0;
  while (done < bytes) {
    gather.init();
    const r = f.ops.unmapPages(BASE + done, pgsize, (bytes - done) / pgsize, gather);
    if (r <= 0) throw new Error("batched unmap failed");
    done += r;
  }
}

export interface PteReadsRow {
  leaf: string;
  /** PTE reads per iovaToPhysLength lookup. */
  length: number;
  /** Lookups that cover the region (1 GiB) when stepping by the returned length. */
  scanWalks: number;
}

/** PTE reads per lookup, from the format's counters (deterministic, not timed). */
function pteReadsPerLookup(pgsize: number, region: number): PteReadsRow {
  const f = mappedRegion(A64S1, pgsize, region)();
  const c = f.counters;
  const before = c.pteReads;
  lookupLength(f, SZ_4K, region);
  const length = (c.pteReads - before) / (region / SZ_4K);
  // Lookups needed to cover the region when stepping by the returned length (the series' point).
  let scanWalks = 0;
  for (let iova = BASE; iova < BASE + region; iova += pl.length) {
    f.ops.iovaToPhysLength(iova, pl);
    scanWalks++;
  }
  freeIoPgtableOps(f.ops);
  return { leaf: pgsize === SZ_4K ? "4K" : "2M", length, scanWalks };
}

/**
 * PTE reads per lookup over 4K and 2M leaves; null when LPAE is unavailable. `region` (a
 * multiple of 2 MiB, default 1 GiB) is what the loops cover: a smoke run passes a few MiB.
 */
export function runLpaePteReads(region = SZ_1G): PteReadsRow[] | null {
  if (!create(A64S1)) return null;
  return [pteReadsPerLookup(SZ_4K, region), pteReadsPerLookup(SZ_2M, region)];
}

/** The arm64-s1 rows; null when the LPAE format is not available. */
export function runLpaeBench(o: MeasureOptions = DEFAULT_MEASURE, region = SZ_1G): BenchRow[] | null {
  if (!create(A64S1)) return null;
  const pages4k = region / SZ_4K;
  const blocks2m = region / SZ_2M;
  const mapped1g = (spec: FormatSpec, pgsize: number) => mappedRegion(spec, pgsize, region);
  const rows: BenchRow[] = [
    {
      name: `map 4K x ${pages4k} (map_pages, 1 page per call)`,
      ns: nsPerOp(
        timed(fresh(A64S1), (f) => mapEach(f, SZ_4K, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.map4k,
    },
    {
      name: `map 2M x ${blocks2m} (map_pages, 1 block per call)`,
      ns: nsPerOp(
        timed(fresh(A64S1), (f) => mapEach(f, SZ_2M, region)),
        blocks2m,
        o,
      ),
      kernelNs: KERNEL_NS.map2m,
    },
    {
      name: "batched map 4K (map_pages pgcount), per page",
      ns: nsPerOp(
        timed(fresh(A64S1), (f) => mapBatched(f, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.mapBatchedPerPage,
    },
    {
      name: "iovaToPhysLength over 4K leaves",
      ns: nsPerOp(
        timed(mapped1g(A64S1, SZ_4K), (f) => lookupLength(f, SZ_4K, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.lookup4k,
    },
    {
      name: "iovaToPhysLength over 2M leaves (4K stride)",
      ns: nsPerOp(
        timed(mapped1g(A64S1, SZ_2M), (f) => lookupLength(f, SZ_4K, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.lookup2m,
    },
    {
      name: "iova_to_phys (ioPgtableIovaToPhys, the wrapper) over 4K leaves",
      ns: nsPerOp(
        timed(mapped1g(A64S1, SZ_4K), (f) => lookupPhys(f, SZ_4K, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.lookup4k,
    },
    {
      name: `unmap 4K x ${pages4k} (unmap_pages, 1 page per call)`,
      ns: nsPerOp(
        timed(mapped1g(A64S1, SZ_4K), (f) => unmapEach(f, SZ_4K, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.unmap4k,
    },
    {
      name: "batched unmap 4K (unmap_pages pgcount), per page",
      ns: nsPerOp(
        timed(mapped1g(A64S1, SZ_4K), (f) => unmapBatched(f, SZ_4K, region)),
        pages4k,
        o,
      ),
      kernelNs: KERNEL_NS.unmapBatchedPerPage,
    },
  ];
  return rows;
}

/**
 * The cfg and page size each other io-pgtable format is timed with, by script `fmt` name
 * (the harness's defaults for that format).
 */
export const OTHER_FORMAT_SPECS: Readonly<Record<string, readonly [FormatSpec, number]>> = {
  v7s: [{ fmt: IoPgtableFmt.ARM_V7S, pgsizeBitmap: 0x1111000, ias: 32, oas: 32 }, SZ_4K],
  dart1: [{ fmt: IoPgtableFmt.APPLE_DART, pgsizeBitmap: SZ_16K, ias: 32, oas: 36 }, SZ_16K],
  dart2: [{ fmt: IoPgtableFmt.APPLE_DART2, pgsizeBitmap: SZ_16K, ias: 32, oas: 42 }, SZ_16K],
};

/**
 * v7s and DART rows: page map / lookup / unmap over the same region, for every format of the
 * registry (@iommu/script) with a spec above, in registry order; empty when unavailable.
 */
export function runOtherFormatsBench(o: MeasureOptions = DEFAULT_MEASURE, region = SZ_1G): BenchRow[] {
  const rows: BenchRow[] = [];
  const mapped1g = (spec: FormatSpec, pgsize: number) => mappedRegion(spec, pgsize, region);
  for (const name of fmtNames()) {
    const known = OTHER_FORMAT_SPECS[name];
    if (!known) continue;
    const [spec, pgsize] = known;
    if (!create(spec)) continue;
    const n = region / pgsize;
    const size = pgsize === SZ_4K ? "4K" : "16K";
    try {
      rows.push(
        {
          name: `${name}: map ${size} x ${n}`,
          ns: nsPerOp(
            timed(fresh(spec), (f) => mapEach(f, pgsize, region)),
            n,
            o,
          ),
        },
        {
          name: `${name}: iovaToPhysLength over ${size} leaves`,
          ns: nsPerOp(
            timed(mapped1g(spec, pgsize), (f) => lookupLength(f, pgsize, region)),
            n,
            o,
          ),
        },
        {
          name: `${name}: unmap ${size} x ${n}`,
          ns: nsPerOp(
            timed(mapped1g(spec, pgsize), (f) => unmapEach(f, pgsize, region)),
            n,
            o,
          ),
        },
      );
    } catch (e) {
      rows.push({ name: `${name}: failed`, ns: Number.NaN, note: (e as Error).message });
    }
  }
  return rows;
}

export interface ScanRow {
  leaf: string;
  /** Median µs to translate the whole 1 GiB region: one address lookup per 4 KiB (today's callers). */
  perPage4kUs: number;
  /** …and stepping by the length `iova_to_phys_length` returns (the series' callers). */
  lengthUs: number;
  lengthWalks: number;
}

/**
 * The series' headline: translating a whole 1 GiB region (what VFIO unmap does) with one
 * address lookup per 4K step, as today's callers do, versus stepping by the length
 * iova_to_phys_length returns.
 */
export function runLpaeScanBench(o: MeasureOptions = DEFAULT_MEASURE, region = SZ_1G): ScanRow[] | null {
  if (!create(A64S1)) return null;
  const mapped1g = (spec: FormatSpec, pgsize: number) => mappedRegion(spec, pgsize, region);
  const rows: ScanRow[] = [];
  for (const [leaf, pgsize] of [
    ["4K", SZ_4K],
    ["2M", SZ_2M],
  ] as const) {
    let walks = 0;
    const byLength = (f: Fixture) => {
      walks = 0;
      for (let iova = BASE; iova < BASE + region; iova += pl.length) {
        f.ops.iovaToPhysLength(iova, pl);
        walks++;
      }
    };
    const perPageUs = nsPerOp(
      timed(mapped1g(A64S1, pgsize), (f) => lookupPhys(f, SZ_4K, region)),
      1000,
      o,
    );
    const lengthUs = nsPerOp(timed(mapped1g(A64S1, pgsize), byLength), 1000, o);
    rows.push({ leaf, perPage4kUs: perPageUs, lengthUs, lengthWalks: walks });
  }
  return rows;
}
