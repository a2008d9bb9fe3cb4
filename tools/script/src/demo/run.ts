/**
 * Runs one scenario through the VFIO type1 model (@iommu/vfio) on domains from one demo
 * target's drivers (arm-smmu-v3 or a generic_pt format, see targets.ts), once per unmap mode,
 * and measures what the kernel-callers.md §7 model talks about: lookups (walks), PTE reads,
 * unmap calls, IOTLB syncs, and wall time.
 *
 * Every run builds its own process memory, domains and container, so the legacy and
 * the length-aware run start from identical page tables.
 */
import {
  errnoName,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDriver,
  iommuUnmap,
  SZ_1G,
  SZ_2M,
  SZ_64M,
} from "@iommu/core";
import {
  type UnmapMode,
  UserMm,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VfioCounters,
  VfioIommu,
} from "@iommu/vfio";
import { type Clock, performanceClock } from "../clock.js";
import type { DemoRow } from "./row.js";
import type { Scenario } from "./scenarios.js";
import type { DemoTarget } from "./targets.js";
import { walkModel } from "./walk-model.js";

/** What one mode of one scenario measured. */
export interface Measurement {
  walks: number;
  pteReads: number;
  unmapCalls: number;
  iotlbSyncs: number;
  ns: number;
}

/** User virtual address of the scenario's memory (1 GiB aligned, as hugetlb1g needs). */
const VADDR = 0x40_0000_0000;
/** IOVA base of the mapping (1 GiB aligned). */
const IOVA = 0x80_0000_0000;
const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

function check(ret: number, what: string): void {
  if (ret !== 0) throw new Error(`demo: ${what} failed: ${errnoName(ret) ?? ret}`);
}

/** `driver`, also recording every domain it hands out in `out`. */
function recording(driver: IommuDriver, out: IommuDomain[]): IommuDriver {
  return {
    name: driver.name,
    get pgsizeBitmap() {
      return driver.pgsizeBitmap;
    },
    capable: (cap) => driver.capable(cap),
    domainAllocPagingFlags(flags: number, options?: IommuDomainAllocOptions) {
      const d = driver.domainAllocPagingFlags(flags, options);
      if (typeof d !== "number") out.push(d);
      return d;
    },
  };
}

/** Run `scenario` on `target` with one unmap mode. */
export function measure(
  target: DemoTarget,
  scenario: Scenario,
  mode: UnmapMode,
  clock: Clock = performanceClock,
): Measurement {
  const mm = new UserMm(target.userPhys ? { phys: target.userPhys } : {});
  // hugetlb1g regions must be whole 1 GiB pages; the others only need whole 2 MiB windows.
  const unit = scenario.memKind === "hugetlb1g" ? SZ_1G : SZ_2M;
  const backing = Math.ceil(scenario.regionSize / unit) * unit;
  mm.memory.addRegion({ vaddr: VADDR, size: backing, kind: scenario.memKind, seed: 1 });

  // Two IOMMU units: the second group sits behind the second one, whose domains have another
  // ops table, so type1 replays into a new domain instead of reusing the first.
  const domains: IommuDomain[] = [];
  const first = recording(target.createDriver(), domains);
  const second = recording(target.createDriver(), domains);
  const counters = new VfioCounters();
  const container = new VfioIommu({ mm, unmapMode: mode, counters });
  check(container.attachGroup(1, { driver: first }), "attach group 1");
  const iova = (target.iova ?? IOVA) + scenario.iovaOffset;
  check(container.mapDma({ flags: RW, vaddr: VADDR, iova, size: scenario.regionSize }), "VFIO_IOMMU_MAP_DMA");

  if (scenario.punchEveryOther) {
    // Holes behind VFIO's back: every other leaf of the first domain goes away.
    const d = domains[0]!;
    for (let at = scenario.leafSize; at < scenario.regionSize; at += 2 * scenario.leafSize)
      if (iommuUnmap(d, iova + at, scenario.leafSize) !== scenario.leafSize)
        throw new Error("demo: hole punch failed");
  }

  const before = counters.snapshot();
  const readsBefore = domains.reduce((s, d) => s + d.counters.pteReads, 0);
  const t0 = clock();
  if (scenario.op === "unmap") {
    const req = { flags: 0, iova, size: scenario.regionSize };
    check(container.unmapDma(req), "VFIO_IOMMU_UNMAP_DMA");
    if (req.size !== scenario.regionSize) throw new Error(`demo: unmapped ${req.size} bytes`);
  } else {
    check(container.attachGroup(2, { driver: second }), "attach group 2 (replay)");
  }
  const ns = Number(clock() - t0);
  // Domains allocated by the replay attach start from zero, so summing all of them is right.
  const pteReads = domains.reduce((s, d) => s + d.counters.pteReads, 0) - readsBefore;
  const after = counters.snapshot();
  return {
    walks: after.iovaToPhys - before.iovaToPhys,
    pteReads,
    unmapCalls: after.unmapCalls - before.unmapCalls,
    iotlbSyncs: after.iotlbSync - before.iotlbSync,
    ns,
  };
}

const SMALL_REGION = SZ_64M;
const MANY_LEAVES = 65_536;

/**
 * Both modes of one scenario, as a table row. With `repeat` > 1 each mode runs that many
 * times (4× as many for regions under 64 MiB, once for more than 64 Ki leaves) on fresh
 * containers; the counts must agree
 * (the model is deterministic) and the fastest wall time is kept, so JIT warm-up and GC
 * pauses do not decide the ratio.
 */
export function runScenario(
  target: DemoTarget,
  scenario: Scenario,
  repeat = 1,
  clock: Clock = performanceClock,
): DemoRow {
  let legacy: Measurement | undefined;
  let length: Measurement | undefined;
  // Small regions take a millisecond or less, where one GC pause decides: run them more.
  // A quarter million separate leaves takes long enough to time once.
  const runs =
    repeat > 1 && scenario.regionSize < SMALL_REGION
      ? 4 * repeat
      : scenario.leaves > MANY_LEAVES
        ? 1
        : repeat;
  for (let i = 0; i < runs; i++) {
    legacy = keepFastest(legacy, measure(target, scenario, "legacy", clock));
    length = keepFastest(length, measure(target, scenario, "length", clock));
  }
  // The third mode, once: only its counts are shown (no wall time, no model check).
  const r = measure(target, scenario, "runs", clock);
  const pair = (k: keyof Measurement) => ({ legacy: legacy![k], length: length![k] });
  const model = walkModel(scenario, target.gapSyncs);
  return {
    scenario: scenario.name,
    driver: target.driver,
    format: target.format,
    granule: scenario.granule,
    leafSize: scenario.leafSize,
    regionSize: scenario.regionSize,
    walks: pair("walks"),
    pteReads: pair("pteReads"),
    unmapCalls: pair("unmapCalls"),
    iotlbSyncs: pair("iotlbSyncs"),
    ns: pair("ns"),
    expected: { legacy: model.legacy, length: model.length },
    runs: { walks: r.walks, pteReads: r.pteReads },
  };
}

function keepFastest(best: Measurement | undefined, m: Measurement): Measurement {
  if (!best) return m;
  for (const k of ["walks", "pteReads", "unmapCalls", "iotlbSyncs"] as const)
    if (best[k] !== m[k]) throw new Error(`demo: ${k} differs between repetitions (${best[k]} vs ${m[k]})`);
  return m.ns < best.ns ? m : best;
}
