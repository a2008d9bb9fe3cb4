// vfio_unmap_unpin's loop both ways, against counts worked out by hand from the loop
// (kernel-callers.md §7): legacy = one lookup per 4 KiB page of a run (+1 for the page that
// breaks it) and per hole page; length = one lookup per leaf and per hole unit.
import { describe, expect, it } from "vitest";
import { runTableScript } from "./table-source.js";
import { vfioUnmapRange } from "./unmap-compare.js";

function table(script: string) {
  return runTableScript(`fmt arm64-s1 granule 4k ias 48 oas 48\n${script}`);
}

describe("vfioUnmapRange", () => {
  it("2 MiB on a 2 MiB leaf: 512 walks today, 1 with iova_to_phys_length; one unmap, one sync", () => {
    for (const [mode, walks] of [
      ["legacy", 512],
      ["length", 1],
    ] as const) {
      const t = table("map 40000000 80000000 200000 rw\n");
      const r = vfioUnmapRange(t.table!.domain, 0x40000000, 0x200000, mode);
      expect(r.counts).toMatchObject({ walks, unmapCalls: 1, iotlbSyncs: 1 });
      expect(r.unmapped).toBe(0x200000);
      expect(r.events.filter((e) => e.kind === "lookup")).toHaveLength(walks);
      expect(t.inspector!.walk(0x40000000).end).toBe("hole");
    }
  });

  it("a run across a 2 MiB block and three 4 KiB pages (physically contiguous): 515 vs 4 walks", () => {
    const legacy = vfioUnmapRange(
      table("map 40000000 80000000 200000 rw\nmap 40200000 80200000 3000 rw\n").table!.domain,
      0x40000000,
      0x203000,
      "legacy",
    );
    const length = vfioUnmapRange(
      table("map 40000000 80000000 200000 rw\nmap 40200000 80200000 3000 rw\n").table!.domain,
      0x40000000,
      0x203000,
      "length",
    );
    expect([legacy.counts.walks, length.counts.walks]).toEqual([0x203, 4]);
    expect([legacy.counts.unmapCalls, length.counts.unmapCalls]).toEqual([1, 1]);
    expect([legacy.unmapped, length.unmapped]).toEqual([0x203000, 0x203000]);
  });

  it("a 2 MiB hole after the leaf: 512 + 1 + 512 walks today, 2 with the length (the breaking probe is reused)", () => {
    const legacy = vfioUnmapRange(
      table("map 40000000 80000000 200000 rw\n").table!.domain,
      0x40000000,
      0x400000,
      "legacy",
    );
    const length = vfioUnmapRange(
      table("map 40000000 80000000 200000 rw\n").table!.domain,
      0x40000000,
      0x400000,
      "length",
    );
    expect(legacy.counts.walks).toBe(512 + 1 + 512);
    expect(length.counts.walks).toBe(2);
    expect(length.events[1]).toEqual({
      kind: "lookup",
      iova: 0x40200000,
      mapped: false,
      phys: 0,
      length: 0x200000,
    });
  });

  it("physically discontiguous pages are separate runs: one unmap each, synced once", () => {
    const r = vfioUnmapRange(
      table("map 0 10000 1000 rw\nmap 1000 30000 1000 rw\n").table!.domain,
      0,
      0x2000,
      "length",
    );
    expect(r.counts).toMatchObject({ walks: 2, unmapCalls: 2, iotlbSyncs: 1 });
  });
});
