import { describe, expect, it } from "vitest";
import { blockAt, layoutTable } from "./layout.js";
import { runTableScript } from "./table-source.js";

const TWO_BLOCKS =
  "fmt arm64-s1 granule 4k ias 48 oas 48\nmap 40000000 80000000 200000 rw\nmap 40200000 90000000 3000 r\n";

describe("layoutTable", () => {
  it("draws the two-blocks table level by level: table pages at their addresses, leaves, holes", () => {
    const l = layoutTable(runTableScript(TWO_BLOCKS).inspector!);
    expect(l.rows.map((r) => r.blocks.length)).toEqual([1, 1, 2, 3]);
    expect(l.rows.map((r) => r.tables.length)).toEqual([1, 1, 1, 1]);
    expect(l.leafBlocks).toBe(4);
    expect(l.extent).toEqual([0x40000000, 0x40203000]);
    expect(l.rows[0]!.tables[0]).toMatchObject({ addr: l.geometry.root, start: 0, size: 2 ** 48 });
    // Each table page is where its parent's table entry points, covering that entry's IOVA range.
    for (let d = 1; d < 4; d++) {
      const parent = l.rows[d - 1]!.blocks.find((b) => b.kind === "table")!;
      expect(l.rows[d]!.tables[0]).toMatchObject({
        addr: parent.pte.nextTable,
        start: parent.start,
        size: parent.size,
      });
    }
    const l2 = l.rows[2]!;
    expect(l2.blocks.map((b) => [b.kind, b.start, b.size])).toEqual([
      ["leaf", 0x40000000, 0x200000],
      ["table", 0x40200000, 0x200000],
    ]);
    // The rest of the L2 table (1 GiB at 0x40000000) is one hole.
    expect(l2.holes).toEqual([{ depth: 2, start: 0x40400000, size: 0x40000000 - 0x400000 }]);
    // The L3 table: three pages, then a hole to the end of its 2 MiB.
    expect(l.rows[3]!.holes).toEqual([{ depth: 3, start: 0x40203000, size: 0x1fd000 }]);
    expect(blockAt(l2, 0x40123456)?.kind).toBe("leaf");
    expect(blockAt(l2, 0x40400000)).toBeUndefined();
  });

  it("merges a contiguous run into one block at its leaf size", () => {
    const t = runTableScript("fmt amdv1\nmap 10000 200000 10000 rw\n");
    const l = layoutTable(t.inspector!);
    const leaves = l.rows.flatMap((r) => r.blocks).filter((b) => b.kind === "leaf");
    const items = t.inspector!.stats().leafItems;
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ start: 0x10000, size: 0x10000, items });
    expect(l.leafBlocks).toBe(1);
  });

  it("has one empty top table for an empty table", () => {
    const l = layoutTable(runTableScript("fmt arm64-s1\n").inspector!);
    expect(l.leafBlocks).toBe(0);
    expect(l.rows[0]!.holes).toEqual([{ depth: 0, start: 0, size: 2 ** 48 }]);
  });
});
