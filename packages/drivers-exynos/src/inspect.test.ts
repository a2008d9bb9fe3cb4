/**
 * drivers/iommu/exynos-iommu.c, read back: the inspector's walk, visit, stats and fields on a
 * live domain, and on partial images (a level-1 table whose level-2 tables are not in memory,
 * no level-1 table at all) where it must report, never throw.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, PhysMem, type PteInfo } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createExynosInspector } from "./inspect.js";
import { rawMap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M = 0x10_0000;

function populated() {
  const h = setup();
  iommuMap(h.d, M, 0x8_4000_0000, M, RW);
  iommuMap(h.d, 2 * M + 0x1_0000, 0x4100_0000, 0x1_0000, IOMMU_READ);
  iommuMap(h.d, 2 * M + 0x3_0000, 0x4200_0000, 0x1000, IOMMU_WRITE);
  rawMap(h.d, 3 * M, 0x4000_0010, M, RW); // a section with type bits 3: invalid
  return h;
}

describe("exynos inspector", () => {
  it("geometry", () => {
    const { d } = populated();
    expect(d.ops!.inspect!(d)!.geometry()).toEqual({
      format: "exynos-sysmmu-v5",
      root: d.pgtable,
      topLevel: 1,
      levels: 2,
      topEntries: 4096,
      entryBytes: 4,
      iasBits: 32,
      signExtended: false,
      pgsizeBitmap: 0x11_1000n,
    });
  });

  it("visit: depth-first, zero links skipped, replicas with leafSize and contigIndex, the free count", () => {
    const { d } = populated();
    const seen: PteInfo[] = [];
    d.ops!.inspect!(d)!.visit((e) => {
      seen.push(e);
    });
    expect(seen.map((e) => `${e.level}:${e.index}:${e.kind}`)).toEqual([
      "1:1:leaf",
      "1:2:table",
      ...Array.from({ length: 16 }, (_, j) => `2:${16 + j}:leaf`),
      "2:48:leaf",
      "1:3:invalid",
    ]);
    const sect = seen[0]!;
    expect([sect.phys, sect.leafSize, sect.itemSize, sect.prot, sect.iova]).toEqual([
      0x8_4000_0000n,
      M,
      M,
      RW,
      BigInt(M),
    ]);
    expect(sect.fields.map((f) => f.name)).toEqual(["SECT_BASE", "AP", "type"]);
    const table = seen[1]!;
    expect(table.fields.find((f) => f.name === "free")?.value).toBe(256 - 17);
    expect(table.nextTable).toBe(0x8000_0400);
    const rep = seen[2 + 5]!;
    expect([rep.contigIndex, rep.leafSize, rep.itemSize, rep.phys, rep.prot]).toEqual([
      5,
      0x1_0000,
      0x1000,
      0x4100_5000n,
      IOMMU_READ,
    ]);
    expect(seen[18]!.prot).toBe(IOMMU_WRITE);
  });

  it("visit: a window, and false skips a table's entries", () => {
    const { d } = populated();
    const insp = d.ops!.inspect!(d)!;
    const inWindow: number[] = [];
    insp.visit((e) => void inWindow.push(e.index), { from: 2 * M + 0x2_0000, to: 2 * M + 0x3_0fff });
    expect(inWindow).toEqual([2, 48]);
    const tops: number[] = [];
    insp.visit((e) => {
      tops.push(e.index);
      return false;
    });
    expect(tops).toEqual([1, 2, 3]);
  });

  it("stats: replicas count once by size", () => {
    const { d } = populated();
    const s = d.ops!.inspect!(d)!.stats();
    expect(s.tables).toBe(2);
    expect(s.leafItems).toBe(1 + 16 + 1);
    expect([...s.leavesBySize]).toEqual([
      [M, 1],
      [0x1_0000, 1],
      [0x1000, 1],
    ]);
    expect(s.invalidNonZero).toBe(1);
    expect(s.mappedBytes).toBe(BigInt(M + 0x1_0000 + 0x1000));
  });

  it("walk: leaf, holes of 1 MiB and 4 KiB, out of range", () => {
    const { d } = populated();
    const insp = d.ops!.inspect!(d)!;
    const w = insp.walk(2 * M + 0x1_7abc);
    expect([w.end, w.phys, w.length, w.steps.length]).toEqual(["leaf", 0x4100_7abcn, 0x1_0000, 2]);
    expect(insp.walk(9 * M)).toMatchObject({ end: "hole", length: M });
    expect(insp.walk(9 * M).steps[0]!.fields[0]!.name).toBe("ZERO_LV2LINK");
    expect(insp.walk(2 * M)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(3 * M)).toMatchObject({ end: "hole", length: M });
    expect(insp.walk(2 ** 32)).toMatchObject({ end: "out-of-range", steps: [] });
  });

  it("a partial image: level-2 tables missing, or no level-1 table — reported, never thrown", () => {
    const { d, mmu } = populated();
    const mem = new PhysMem();
    mem.importRange(d.pgtable, d.allocator.mem.exportRange(d.pgtable, 0x4000));
    const insp = createExynosInspector({
      mem,
      pgtable: d.pgtable,
      pgEntShift: 4,
      zeroLv2Link: mmu.zeroLv2Link,
    });
    expect(insp.walk(2 * M + 0x1_0000).end).toBe("missing-table");
    expect(insp.walk(M).end).toBe("leaf");
    const kinds: string[] = [];
    insp.visit((e) => void kinds.push(`${e.kind}${e.tableMissing ? "-missing" : ""}`));
    expect(kinds).toEqual(["leaf", "table-missing", "invalid"]);
    expect(insp.stats().missingTables).toBe(1);
    const none = createExynosInspector({
      mem: new PhysMem(),
      pgtable: 0x1000,
      pgEntShift: 4,
      zeroLv2Link: 1,
    });
    expect(none.walk(0).end).toBe("missing-table");
    expect(none.stats().tables).toBe(1);
  });
});
