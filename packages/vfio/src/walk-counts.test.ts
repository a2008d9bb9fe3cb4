/**
 * The walk-count model (kernel-callers.md §7, rows 1 and 2) asserted against the container:
 * per vfio_dma, legacy walks = S/PG + (R − 1), length-aware ideal = N, naive = N + (R − 1);
 * unmap calls on the first domain = R; IOTLB syncs on it = ⌈R / 512⌉; every other domain
 * costs one iommu_unmap (with its sync) and no walk. S = size, N = leaves, R = physical runs.
 */
import { PAGE_SIZE } from "@iommu/core";
import { describe, expect, it } from "vitest";
import type { UnmapMode } from "./context.js";
import { map, setup, unmap, V } from "./testing/harness.js";
import { type LpaeLikeDomain, leavesOf } from "./testing/lpae-like-domain.js";
import type { MemKind } from "./user-memory.js";

const MiB2 = 0x200000;
const GiB = 0x40000000;

interface Scenario {
  name: string;
  kind: MemKind;
  size: number;
  iova: number;
  /** Expected leaves and runs (checked against the table too). */
  n: number;
  r: number;
}

const scenarios: Scenario[] = [
  { name: "2M on one 2M block", kind: "hugetlb2m", size: MiB2, iova: 0x40000000, n: 1, r: 1 },
  { name: "2M as 512 contiguous 4K leaves", kind: "hugetlb2m", size: MiB2, iova: 0x40301000, n: 512, r: 1 },
  { name: "2M scattered (512 runs)", kind: "scattered", size: MiB2, iova: 0x40000000, n: 512, r: 512 },
  {
    name: "2M + 4K scattered (513 runs)",
    kind: "scattered",
    size: MiB2 + 0x1000,
    iova: 0x40000000,
    n: 513,
    r: 513,
  },
  { name: "1G hugetlb as 512 2M blocks", kind: "hugetlb1g", size: GiB, iova: 0x80200000, n: 512, r: 1 },
  { name: "1G hugetlb as one 1G block", kind: "hugetlb1g", size: GiB, iova: 0x80000000, n: 1, r: 1 },
  { name: "1G THP (512 runs of one 2M block)", kind: "thp", size: GiB, iova: 0x80000000, n: 512, r: 512 },
];

function expected(mode: UnmapMode, s: Scenario): number {
  if (mode === "legacy") return s.size / PAGE_SIZE + s.r - 1;
  if (mode === "length") return s.n;
  // One range lookup per batch of 512 runs (the LPAE-like stand-in implements the op).
  if (mode === "runs") return Math.ceil(s.r / 512);
  return s.n + s.r - 1;
}

/** Leaves and maximal physically contiguous runs of the first domain. */
function shape(d: LpaeLikeDomain): { n: number; r: number } {
  const leaves = leavesOf(d);
  let r = 0;
  let prevEnd = -1;
  for (const [, phys, len] of leaves) {
    if (phys !== prevEnd) r++;
    prevEnd = phys + len;
  }
  return { n: leaves.length, r };
}

describe.each<UnmapMode>(["legacy", "length", "length-naive", "runs"])("walk counts, %s mode", (mode) => {
  it.each(scenarios)("unmap: $name", (sc) => {
    const s = setup({ unmapMode: mode });
    s.mm.memory.addRegion({ vaddr: V, size: sc.size, kind: sc.kind, seed: 5 });
    s.c.attachGroup(1);
    s.c.attachGroup(2); // a second driver: one whole-range unmap, no walks
    expect(map(s.c, V, sc.iova, sc.size)).toBe(0);
    expect(shape(s.c.domainList[0]!.domain as LpaeLikeDomain)).toEqual({ n: sc.n, r: sc.r });
    s.c.vfioCounters.reset();
    expect(unmap(s.c, sc.iova, sc.size)).toEqual([0, sc.size]);
    const k = s.c.vfioCounters;
    expect(k.iovaToPhys).toBe(expected(mode, sc));
    expect(k.unmapFast).toBe(sc.r);
    expect(k.unmapCalls).toBe(sc.r + 1);
    expect(k.iotlbSync).toBe(Math.ceil(sc.r / 512) + 1);
    expect(s.mm.pinned).toBe(0);
  });

  it.each(scenarios.filter((sc) => sc.size <= MiB2 + 0x1000 || sc.r === 1))("replay: $name", (sc) => {
    const s = setup({ unmapMode: mode });
    s.mm.memory.addRegion({ vaddr: V, size: sc.size, kind: sc.kind, seed: 5 });
    s.c.attachGroup(1);
    expect(map(s.c, V, sc.iova, sc.size)).toBe(0);
    s.c.vfioCounters.reset();
    expect(s.c.attachGroup(2)).toBe(0);
    expect(s.c.vfioCounters.iovaToPhys).toBe(expected(mode, sc));
    expect(s.c.vfioCounters.mapCalls).toBe(sc.r);
    expect(shape(s.c.domainList[0]!.domain as LpaeLikeDomain)).toEqual({ n: sc.n, r: sc.r });
  });
});

describe("length-aware lookups step over empty spans", () => {
  it("costs one lookup per empty slot where legacy pays one per page (WARNs per step)", () => {
    // A hole can only appear if something outside vfio unmaps the first domain; do that here.
    for (const [mode, walks] of [
      ["legacy", 513 + 512 + 512],
      ["length", 2 + 1],
      ["runs", 1],
    ] as const) {
      const s = setup({ unmapMode: mode });
      s.mm.memory.addRegion({ vaddr: V, size: 3 * MiB2, kind: "hugetlb2m", seed: 5 });
      s.c.attachGroup(1);
      expect(map(s.c, V, 0x40000000, 3 * MiB2)).toBe(0);
      const d = s.c.domainList[0]!.domain;
      d.ops!.unmapPages(d, 0x40200000, MiB2, 1, null); // the middle block vanishes behind vfio's back
      s.c.vfioCounters.reset();
      const warns = s.mm.counters.warns;
      expect(unmap(s.c, 0x40000000, 3 * MiB2)).toEqual([0, 3 * MiB2]);
      expect(s.c.vfioCounters.iovaToPhys).toBe(walks);
      expect(s.mm.counters.warns - warns).toBe(mode === "legacy" ? 512 : 1);
      // The same unmap calls in every mode: one per run on each side of the hole.
      expect(s.c.vfioCounters.unmapFast).toBe(2);
      // The pages behind the hole stay pinned (and charged): the kernel leaks them the same way.
      expect(s.mm.pinned).toBe(512);
    }
  });
});
