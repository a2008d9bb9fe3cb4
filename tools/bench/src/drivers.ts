/**
 * The "direct drivers" section: the drivers that own their page-table format (exynos,
 * rockchip, sun50i, sprd, tegra-smmu, mtk_iommu_v1, s390, omap; the list is the registry's,
 * `directDriverKinds()` of @iommu/script), timed through their domain ops exactly as the
 * io-pgtable section times arm64-s1 through its io_pgtable_ops: map 4K × N (`map_pages`, one
 * page per call), unmap 4K × N (`unmap_pages`, one page per call) and `iova_to_phys_length`
 * over the 4K leaves, N = min(region, the driver's IOVA window) / 4 KiB (sprd's aperture is
 * 256 MiB). The arm64-s1 figures at the same N come from ./io-pgtable.ts's loops.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuDomain,
  type IommuDomainOps,
  IotlbGather,
  PhysLength,
  SizeOut,
  SZ_4K,
  SZ_256M,
} from "@iommu/core";
import { type DirectDriverEntry, directDriverKinds } from "@iommu/script";
import { runLpaeBench } from "./io-pgtable.js";
import { DEFAULT_MEASURE, type MeasureOptions, nsPerOp } from "./measure.js";

const PROT_RW = IOMMU_READ | IOMMU_WRITE;

export interface DriverBenchRow {
  /** `exynos-iommu v5`, or `arm64-s1 LPAE (io-pgtable)` for the reference row. */
  driver: string;
  /** 4 KiB pages per loop (aperture-limited). */
  pages: number;
  /** ns per `map_pages` of one 4K page. */
  map4k: number;
  /** ns per `unmap_pages` of one 4K page. */
  unmap4k: number;
  /** ns per `iova_to_phys_length` over 4K leaves. */
  lookup4k: number;
}

interface Fixture {
  d: IommuDomain;
  ops: IommuDomainOps;
}

const mapped = new SizeOut();
const gather = new IotlbGather();
const pl = new PhysLength();

function fresh(k: DirectDriverEntry): Fixture {
  const d = k.createDriver().domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`${k.key}: domain alloc failed (${d})`);
  if (!d.ops) throw new Error(`${k.key}: domain without ops`);
  return { d, ops: d.ops as IommuDomainOps };
}

function mapAll(k: DirectDriverEntry, f: Fixture, pages: number): void {
  const { d, ops } = f;
  for (let i = 0, iova = k.iova, pa = k.pa; i < pages; i++, iova += SZ_4K, pa += SZ_4K) {
    mapped.value = 0;
    if (ops.mapPages(d, iova, pa, SZ_4K, 1, PROT_RW, 0, mapped) !== 0 || mapped.value !== SZ_4K)
      throw new Error(`${k.key}: map failed at ${iova.toString(16)}`);
  }
}

function unmapAll(k: DirectDriverEntry, f: Fixture, pages: number): void {
  const { d, ops } = f;
  for (let i = 0, iova = k.iova; i < pages; i++, iova += SZ_4K) {
    gather.init();
    if (ops.unmapPages(d, iova, SZ_4K, 1, gather) !== SZ_4K)
      throw new Error(`${k.key}: unmap failed at ${iova.toString(16)}`);
  }
}

function lookupAll(k: DirectDriverEntry, f: Fixture, pages: number): void {
  const { d, ops } = f;
  const walk = ops.iovaToPhysLength;
  if (!walk) throw new Error(`${k.key}: no iovaToPhysLength`);
  for (let i = 0, iova = k.iova; i < pages; i++, iova += SZ_4K) {
    walk(d, iova, pl);
    if (!pl.mapped) throw new Error(`${k.key}: hole at ${iova.toString(16)}`);
  }
}

function timed(setup: () => Fixture, loop: (f: Fixture) => void): () => bigint {
  return () => {
    const f = setup();
    const t0 = process.hrtime.bigint();
    loop(f);
    const dt = process.hrtime.bigint() - t0;
    f.ops.free?.(f.d);
    return dt;
  };
}

/** One driver's three figures over `pages` 4K pages. */
export function benchDriver(
  k: DirectDriverEntry & { readonly driver?: string },
  pages: number,
  o: MeasureOptions,
): DriverBenchRow {
  const mappedFixture = () => {
    const f = fresh(k);
    mapAll(k, f, pages);
    return f;
  };
  return {
    driver: `${k.driver ?? k.key} ${k.format}`,
    pages,
    map4k: nsPerOp(
      timed(
        () => fresh(k),
        (f) => mapAll(k, f, pages),
      ),
      pages,
      o,
    ),
    unmap4k: nsPerOp(
      timed(mappedFixture, (f) => unmapAll(k, f, pages)),
      pages,
      o,
    ),
    lookup4k: nsPerOp(
      timed(mappedFixture, (f) => lookupAll(k, f, pages)),
      pages,
      o,
    ),
  };
}

export interface DriverBenchOptions {
  measure?: MeasureOptions;
  /** Bytes mapped per loop before the aperture limit (default 256 MiB). */
  region?: number;
  /** Only these drivers (registry `key`s); default all. */
  only?: readonly string[];
}

/**
 * The arm64-s1 reference row at `region` (the io-pgtable section's loops), then one row per
 * registry direct driver, N = min(region, window) / 4 KiB.
 */
export function runDriversBench(options: DriverBenchOptions = {}): DriverBenchRow[] {
  const o = options.measure ?? DEFAULT_MEASURE;
  const region = options.region ?? SZ_256M;
  const rows: DriverBenchRow[] = [];
  const lpae = runLpaeBench(o, region);
  if (lpae) {
    const ns = (prefix: string) => lpae.find((r) => r.name.startsWith(prefix))?.ns ?? Number.NaN;
    rows.push({
      driver: "arm64-s1 LPAE (io-pgtable)",
      pages: region / SZ_4K,
      map4k: ns("map 4K"),
      unmap4k: ns("unmap 4K"),
      lookup4k: ns("iovaToPhysLength over 4K"),
    });
  }
  for (const k of directDriverKinds()) {
    if (options.only && !options.only.includes(k.key)) continue;
    rows.push(benchDriver(k, Math.min(region, k.window) / SZ_4K, o));
  }
  return rows;
}
