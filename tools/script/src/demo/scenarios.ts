/**
 * The series' scenarios, laid out per IOMMU granule. Each one names a VFIO mapping whose leaf
 * sizes and physical runs are known in advance, so the walk counts it must produce follow
 * from the kernel-callers.md §7 formulas (see walk-model.ts).
 *
 * The 4 KiB names are the series' own (`2M-on-2M`, `1G-on-1G`, `1G-on-2M`, ...). A 16 KiB or
 * 64 KiB granule has other leaf sizes (16K/32M, 64K/512M), so each scenario maps onto the
 * nearest layout that granule can build:
 *
 * | scenario kind | 4K granule          | 16K granule            | 64K granule              |
 * |---------------|---------------------|------------------------|--------------------------|
 * | block         | 2M-on-2M            | 32M-on-32M             | 512M-on-512M             |
 * | block-on-gran.| 2M-on-4K            | 32M-on-16K             | 512M-on-64K              |
 * | huge          | 1G-on-1G            | (no 1G leaf)           | (no 1G leaf)             |
 * | 1g-blocks     | 1G-on-2M            | 1G-on-32M              | 1G-on-512M               |
 * | 1g-thp        | 1G-on-2M-thp        | (= scattered below)    | (= scattered below)      |
 * | scattered     | 1G-on-4K-scattered  | 1G-on-16K-scattered    | 1G-on-64K-scattered      |
 * | sparse-holes  | 1G-on-2M, every other 2M leaf punched out (32M / 512M on 16K / 64K) |
 * | replay        | the 1g-blocks layout replayed onto a second SMMU's domain               |
 *
 * Physical backing comes from @iommu/vfio's user memory: `hugetlb1g` (1 GiB physically
 * contiguous slots), `thp` (2 MiB slots, never adjacent) and `scattered` (4 KiB slots, never
 * adjacent). On 16K/64K domains type1 can only map granule-aligned runs, so "scattered"
 * there means 2 MiB runs (the finest backing such a domain accepts) carved into granule
 * leaves. `1G-on-2M` keeps the backing contiguous (R = 1) and offsets the IOVA by 2 MiB so
 * iommu_map() cannot use 1 GiB leaves; `1G-on-2M-thp` is the THP case: 512 separate runs.
 * `2M-on-4K` is one contiguous run in granule leaves (IOVA offset by one granule): the
 * length-aware loop still needs one lookup per leaf, so contiguity alone gains nothing.
 */
import { SZ_1G, SZ_1K, SZ_1M, SZ_2M, SZ_4K, SZ_32M, SZ_256M, SZ_512M } from "@iommu/core";
import type { MemKind } from "@iommu/vfio";

export type Granule = 0x1000 | 0x4000 | 0x10000;
export const GRANULES: readonly Granule[] = [0x1000, 0x4000, 0x10000];

export type ScenarioKind =
  | "block"
  | "block-on-granule"
  | "huge"
  | "1g-blocks"
  | "1g-thp"
  | "scattered"
  | "sparse-holes"
  | "replay"
  | "leaf"
  | "leaves"
  | "contiguous";

/** CPU PAGE_SIZE: VFIO's lookup step today. */
export const PG = SZ_4K;

export interface Scenario {
  kind: ScenarioKind;
  /** Table name, e.g. `1G-on-2M`. */
  name: string;
  granule: Granule;
  /** Size of the leaves the mapping installs (P). */
  leafSize: number;
  /** Bytes of the vfio_dma (S). */
  regionSize: number;
  /** Backing of the user memory. */
  memKind: MemKind;
  /** Added to a 1 GiB-aligned IOVA: a 2 MiB offset stops iommu_map() from using 1 GiB leaves. */
  iovaOffset: number;
  /** Unmap every other leaf behind VFIO's back before the measured unmap (sparse-holes). */
  punchEveryOther: boolean;
  /** What is measured: VFIO_IOMMU_UNMAP_DMA, or attaching a second domain (vfio_iommu_replay). */
  op: "unmap" | "replay";
  /** §7 inputs, from the layout: mapped leaves N, physical runs R, hole pages, hole spans. */
  leaves: number;
  runs: number;
  holePages: number;
  holeSpans: number;
  endsInHole: boolean;
}

/** The block (level-2 leaf) size of a granule: 2M, 32M, 512M. */
export function blockSize(g: Granule): number {
  return g === 0x1000 ? SZ_2M : g === 0x4000 ? SZ_32M : SZ_512M;
}

/** `4K`, `2M`, `1G`... for power-of-two sizes. */
export function sizeName(bytes: number): string {
  const units: Array<[number, string]> = [
    [2 ** 40, "T"],
    [SZ_1G, "G"],
    [SZ_1M, "M"],
    [SZ_1K, "K"],
  ];
  for (const [u, s] of units) if (bytes >= u && bytes % u === 0) return `${bytes / u}${s}`;
  return `${bytes}`;
}

function make(
  kind: ScenarioKind,
  name: string,
  g: Granule,
  p: Omit<
    Scenario,
    "kind" | "name" | "granule" | "holePages" | "holeSpans" | "endsInHole" | "punchEveryOther"
  > &
    Partial<Pick<Scenario, "holePages" | "holeSpans" | "endsInHole" | "punchEveryOther">>,
): Scenario {
  return {
    kind,
    name,
    granule: g,
    holePages: 0,
    holeSpans: 0,
    endsInHole: false,
    punchEveryOther: false,
    ...p,
  };
}

/** The scenarios a granule supports, in table order. */
export function scenariosFor(g: Granule): Scenario[] {
  const B = blockSize(g);
  const b = sizeName(B);
  const out: Scenario[] = [];
  const unmap = "unmap" as const;
  out.push(
    make("block", `${b}-on-${b}`, g, {
      leafSize: B,
      regionSize: B,
      memKind: "hugetlb1g",
      iovaOffset: 0,
      op: unmap,
      leaves: 1,
      runs: 1,
    }),
  );
  out.push(
    make("block-on-granule", `${b}-on-${sizeName(g)}`, g, {
      leafSize: g,
      regionSize: B,
      memKind: "hugetlb1g",
      iovaOffset: g,
      op: unmap,
      leaves: B / g,
      runs: 1,
    }),
  );
  if (g === 0x1000)
    out.push(
      make("huge", "1G-on-1G", g, {
        leafSize: SZ_1G,
        regionSize: SZ_1G,
        memKind: "hugetlb1g",
        iovaOffset: 0,
        op: unmap,
        leaves: 1,
        runs: 1,
      }),
    );
  // Contiguous 1 GiB in B leaves: 4K needs the IOVA offset to keep iommu_map() off 1G leaves.
  const blocks = {
    leafSize: B,
    regionSize: SZ_1G,
    memKind: "hugetlb1g" as const,
    iovaOffset: g === 0x1000 ? SZ_2M : 0,
    leaves: SZ_1G / B,
    runs: 1,
  };
  out.push(make("1g-blocks", `1G-on-${b}`, g, { ...blocks, op: unmap }));
  if (g === 0x1000)
    out.push(
      make("1g-thp", "1G-on-2M-thp", g, {
        leafSize: SZ_2M,
        regionSize: SZ_1G,
        memKind: "thp",
        iovaOffset: 0,
        op: unmap,
        leaves: SZ_1G / SZ_2M,
        runs: SZ_1G / SZ_2M,
      }),
    );
  out.push(
    make("scattered", `1G-on-${sizeName(g)}-scattered`, g, {
      leafSize: g,
      regionSize: SZ_1G,
      memKind: g === 0x1000 ? "scattered" : "thp",
      iovaOffset: 0,
      op: unmap,
      leaves: SZ_1G / g,
      runs: g === 0x1000 ? SZ_1G / g : SZ_1G / SZ_2M,
    }),
  );
  // Every other B leaf of a contiguous 1 GiB is unmapped: each empty B slot is one hole span.
  const n = SZ_1G / B;
  out.push(
    make("sparse-holes", "sparse-holes", g, {
      ...blocks,
      op: unmap,
      punchEveryOther: true,
      leaves: Math.ceil(n / 2),
      runs: Math.ceil(n / 2),
      holePages: Math.floor(n / 2) * (B / PG),
      holeSpans: Math.floor(n / 2),
      endsInHole: n % 2 === 0,
    }),
  );
  // The series names this scenario `replay` on every granule; the layout is the 1g-blocks one.
  out.push(make("replay", "replay", g, { ...blocks, op: "replay" }));
  return out;
}

/** Every scenario of every granule. */
export function allScenarios(granules: readonly Granule[] = GRANULES): Scenario[] {
  return granules.flatMap(scenariosFor);
}

/**
 * What a driver that owns its page-table format (exynos, omap, rockchip, ...) can build: the
 * leaf sizes its table installs and the largest VFIO region its aperture window takes.
 */
export interface DriverLayout {
  /**
   * Leaf sizes of the table, ascending, 4 KiB first: the sizes `iova_to_phys_length` reports
   * for a mapped IOVA (exynos 4K/64K/1M, omap 4K/64K/1M/16M; rockchip's 8K..4M
   * `pgsize_bitmap` entries are runs of 4 KiB PTEs, so its only leaf is 4K).
   */
  readonly leafSizes: readonly number[];
  /** Region of the multi-leaf scenarios (default 256 MiB: fits sprd's whole aperture). */
  readonly region?: number;
}

/**
 * The scenarios of a driver with its own table, 4 KiB granule, in table order:
 *
 * | kind       | name                 | layout                                                               |
 * |------------|----------------------|----------------------------------------------------------------------|
 * | leaf       | P-on-P               | one leaf of each size P > 4K (1M section, 64K large page, 16M super) |
 * | leaves     | 256M-on-P            | 256 MiB physically contiguous in P leaves (R = 1); the IOVA is offset by P when a larger leaf exists, so iommu_map() cannot pick it |
 * | contiguous | 256M-on-4K           | 4K-only tables: 256 MiB contiguous in 4K leaves (R = 1): no gain     |
 * | scattered  | 256M-on-4K-scattered | 4K leaves, no two pages contiguous (R = N): only the run-ending lookup is saved |
 *
 * A table whose smallest leaf is above 4 KiB (a 16 KiB Apple DART: one page size) has that
 * leaf as its granule: type1 can then only map granule-aligned runs, so its scattered case is
 * 2 MiB runs carved into granule leaves, as for the 16K/64K granules of {@link scenariosFor}.
 */
export function driverScenarios(layout: DriverLayout): Scenario[] {
  const smallest = layout.leafSizes[0] ?? SZ_4K;
  const g: Granule = smallest === 0x4000 || smallest === 0x10000 ? smallest : 0x1000;
  const S = layout.region ?? SZ_256M;
  const sizes = layout.leafSizes.filter((p) => p > SZ_4K);
  const out: Scenario[] = [];
  for (const P of [...sizes].reverse())
    out.push(
      make("leaf", `${sizeName(P)}-on-${sizeName(P)}`, g, {
        leafSize: P,
        regionSize: P,
        memKind: "hugetlb1g",
        iovaOffset: 0,
        op: "unmap",
        leaves: 1,
        runs: 1,
      }),
    );
  for (const P of [...sizes].reverse()) {
    // A leaf as large as the region is already its `leaf` scenario.
    if (P === S) continue;
    const larger = sizes.some((q) => q > P);
    out.push(
      make("leaves", `${sizeName(S)}-on-${sizeName(P)}`, g, {
        leafSize: P,
        regionSize: S,
        memKind: "hugetlb1g",
        iovaOffset: larger ? P : 0,
        op: "unmap",
        leaves: S / P,
        runs: 1,
      }),
    );
  }
  if (sizes.length === 0)
    out.push(
      make("contiguous", `${sizeName(S)}-on-4K`, g, {
        leafSize: SZ_4K,
        regionSize: S,
        memKind: "hugetlb1g",
        iovaOffset: 0,
        op: "unmap",
        leaves: S / SZ_4K,
        runs: 1,
      }),
    );
  out.push(
    make("scattered", `${sizeName(S)}-on-${sizeName(g)}-scattered`, g, {
      leafSize: g,
      regionSize: S,
      memKind: g === 0x1000 ? "scattered" : "thp",
      iovaOffset: 0,
      op: "unmap",
      leaves: S / g,
      runs: g === 0x1000 ? S / SZ_4K : S / SZ_2M,
    }),
  );
  return out;
}
