/**
 * `iommu demo` rows for virtio-iommu (drivers/iommu/virtio-iommu.c) under VFIO type1: the
 * domain has no page table, only intervals — one per map_pages call, i.e. one per MAP request
 * to the device (whose host ARM LPAE S2 table receives it). VFIO_IOMMU_MAP_DMA goes through
 * iommu_map(), which splits by pgsize_bitmap = the device's page_size_mask: with QEMU's mask
 * (every power of two ≥ 4K) a contiguous, aligned 2 MiB or 1 GiB region is ONE interval; with
 * scattered 4K backing every page is its own MAP. The measured operation is
 * VFIO_IOMMU_UNMAP_DMA, whose vfio_unmap_unpin() walks the region with iova_to_phys (legacy:
 * one lookup per 4K page) or iova_to_phys_length (one per interval unit).
 *
 * Expectations: kernel-callers.md §7 row 1 — legacy S/PG + (R − 1), length-aware (ideal) N + H,
 * with N the intervals, R the physical runs, H = 0 here.
 */
import { errnoName, type IommuDriver, SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import { type ViommuDomain, VirtioIommu, VirtioIommuDevice } from "@iommu/drivers-virtio-iommu";
import { createIoPgtableDomain } from "@iommu/io-pgtable";
import {
  type MemKind,
  UserMm,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VfioCounters,
  VfioIommu,
} from "@iommu/vfio";
import { type Clock, performanceClock } from "../../clock.js";
import type { CallerScenario, LookupMode } from "../caller.js";
import type { Measurement } from "../run.js";
import { PG } from "../scenarios.js";

const VADDR = 0x40_0000_0000;
const IOVA = 0x80_0000_0000;
const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
/** QEMU's page_size_mask: every power of two from 4K up. */
const QEMU_MASK = 0xffff_ffff_ffff_f000n;

interface VirtioVfioCase {
  readonly id: string;
  readonly regionSize: number;
  readonly memKind: MemKind;
  readonly pageSizeMask: bigint;
  /** Intervals (MAP requests) the mapping makes: §7's N. */
  readonly intervals: number;
  /** Physical runs of the backing: §7's R. */
  readonly runs: number;
  readonly byDefault: boolean;
}

function check(ret: number, what: string): void {
  if (ret !== 0) throw new Error(`demo: ${what} failed: ${errnoName(ret) ?? ret}`);
}

/**
 * One guest driver instance (one virtio-iommu device, endpoint 0) as an IommuDriver whose
 * domains come back attached: VFIO type1 allocates and attaches in one step.
 */
function attachedVirtio(pageSizeMask: bigint, domains: ViommuDomain[]): IommuDriver {
  const device = new VirtioIommuDevice({
    createHostDomain: () => createIoPgtableDomain("arm64-s2", { ias: 48, oas: 48 }),
    pageSizeMask,
    inputRange: { start: 0, end: 2 ** 48 - 1 },
  });
  const viommu = VirtioIommu.probe(device);
  if (typeof viommu === "number") throw new Error(`demo: viommu_probe failed: ${viommu}`);
  const ep = viommu.probeDevice([0]);
  if (typeof ep === "number") throw new Error(`demo: probe_device failed: ${ep}`);
  return {
    name: viommu.name,
    pgsizeBitmap: viommu.pgsizeBitmap,
    capable: (cap) => viommu.capable(cap),
    domainAllocPagingFlags(flags, options) {
      const d = viommu.domainAllocPagingFlags(flags, options);
      if (typeof d === "number") return d;
      const ret = viommu.attachDev(d, ep);
      if (ret) {
        d.ops?.free?.(d);
        return ret;
      }
      domains.push(d);
      return d;
    },
  };
}

/** Map the region through VFIO onto a fresh device, then time VFIO_IOMMU_UNMAP_DMA in `mode` (or the `runs` unmap mode). */
function measureCase(c: VirtioVfioCase, mode: LookupMode | "runs", clock: Clock): Measurement {
  const mm = new UserMm({});
  mm.memory.addRegion({ vaddr: VADDR, size: Math.max(c.regionSize, SZ_2M), kind: c.memKind, seed: 1 });
  const domains: ViommuDomain[] = [];
  const counters = new VfioCounters();
  const container = new VfioIommu({ mm, unmapMode: mode, counters });
  check(container.attachGroup(1, { driver: attachedVirtio(c.pageSizeMask, domains) }), "attach group 1");
  check(container.mapDma({ flags: RW, vaddr: VADDR, iova: IOVA, size: c.regionSize }), "VFIO_IOMMU_MAP_DMA");
  const d = domains[0]!;
  if (d.mappings.size !== c.intervals)
    throw new Error(`demo: ${c.id}: ${d.mappings.size} intervals, expected ${c.intervals}`);
  const before = counters.snapshot();
  const reads = d.counters.pteReads;
  const t0 = clock();
  const req = { flags: 0, iova: IOVA, size: c.regionSize };
  check(container.unmapDma(req), "VFIO_IOMMU_UNMAP_DMA");
  const ns = Number(clock() - t0);
  if (req.size !== c.regionSize) throw new Error(`demo: unmapped ${req.size} bytes`);
  // The device saw every UNMAP: nothing is left in the host table.
  if (d.viommu.device.domain(d.id)?.mappings.size) throw new Error(`demo: ${c.id}: device kept mappings`);
  const after = counters.snapshot();
  return {
    walks: after.iovaToPhys - before.iovaToPhys,
    pteReads: d.counters.pteReads - reads,
    unmapCalls: after.unmapCalls - before.unmapCalls,
    iotlbSyncs: after.iotlbSync - before.iotlbSync,
    ns,
  };
}

function scenario(c: VirtioVfioCase): CallerScenario {
  return {
    id: c.id,
    caller: "vfio",
    driver: "virtio-iommu",
    format: "intervals",
    granule: SZ_4K,
    leafSize: c.regionSize / c.intervals,
    regionSize: c.regionSize,
    byDefault: c.byDefault,
    // §7 row 1 (H = 0): legacy S/PG + (R − 1); length-aware N.
    expected: { legacy: c.regionSize / PG + (c.runs - 1), length: c.intervals },
    measure: (mode, clock = performanceClock) => measureCase(c, mode, clock),
    measureRuns: (clock = performanceClock) => measureCase(c, "runs", clock),
  };
}

/** The virtio-iommu rows: one MAP per region (2M, 1G) and many small MAPs (4K pages). */
export const VIRTIO_IOMMU_SCENARIOS: readonly CallerScenario[] = [
  // 2 MiB, one huge page, QEMU's mask: iommu_pgsize() picks 2M, one MAP request.
  scenario({
    id: "virtio-unmap-2M-one-MAP",
    regionSize: SZ_2M,
    memKind: "hugetlb2m",
    pageSizeMask: QEMU_MASK,
    intervals: 1,
    runs: 1,
    byDefault: true,
  }),
  // 1 GiB, one 1G huge page: one 1G MAP request.
  scenario({
    id: "virtio-unmap-1G-one-MAP",
    regionSize: SZ_1G,
    memKind: "hugetlb1g",
    pageSizeMask: QEMU_MASK,
    intervals: 1,
    runs: 1,
    byDefault: false,
  }),
  // A 4K-only page_size_mask still gives ONE MAP for contiguous memory: map_pages(4K, 512).
  scenario({
    id: "virtio-unmap-2M-one-MAP-4K-mask",
    regionSize: SZ_2M,
    memKind: "hugetlb2m",
    pageSizeMask: 0x1000n,
    intervals: 1,
    runs: 1,
    byDefault: false,
  }),
  // Scattered 4K backing: VFIO maps page by page, 512 MAP requests of 4K.
  scenario({
    id: "virtio-unmap-2M-512-MAPs",
    regionSize: SZ_2M,
    memKind: "scattered",
    pageSizeMask: QEMU_MASK,
    intervals: 512,
    runs: 512,
    byDefault: false,
  }),
  // 1 GiB of scattered 4K pages: 262,144 MAP requests.
  scenario({
    id: "virtio-unmap-1G-262144-MAPs",
    regionSize: SZ_1G,
    memKind: "scattered",
    pageSizeMask: QEMU_MASK,
    intervals: SZ_1G / SZ_4K,
    runs: SZ_1G / SZ_4K,
    byDefault: false,
  }),
];
