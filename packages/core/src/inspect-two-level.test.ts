import { describe, expect, it } from "vitest";
import { type TwoLevelTable32, visitTwoLevel32, walkTwoLevel32 } from "./inspect-two-level.js";
import type { PteInfo } from "./inspector.js";
import { PhysMem } from "./phys-mem.js";

/** A toy layout: four 1 GiB level-1 entries, four 256 MiB level-2 entries; bit 0 = table (L1) / valid (L2), bit 1 = leaf (L1). */
function toy(): TwoLevelTable32 & { mem: PhysMem } {
  const mem = new PhysMem();
  mem.addChunk(0x1000, 0x2000);
  const t: TwoLevelTable32 & { mem: PhysMem } = {
    mem,
    root: 0x1000,
    l1Entries: 4,
    l1Span: 0x4000_0000,
    l2Entries: 4,
    l2Span: 0x1000_0000,
    info(level, tableAddr, index, ent, iova): PteInfo {
      const base = {
        level,
        depth: level - 1,
        tableAddr,
        index,
        entryBytes: 4,
        raw: BigInt(ent),
        iova,
        fields: [],
      };
      const itemSize = level === 1 ? this.l1Span : this.l2Span;
      if (level === 1 && ent & 1)
        return {
          ...base,
          itemSize,
          kind: "table",
          nextTable: ent & ~0xff,
          tableMissing: !mem.chunk(ent & ~0xff),
        };
      if ((level === 1 && ent & 2) || (level === 2 && ent & 1))
        return { ...base, itemSize, kind: "leaf", phys: BigInt((ent & ~0xff) >>> 0), leafSize: itemSize };
      return { ...base, itemSize, kind: "invalid" };
    },
    l1Empty: (ent) => ent === 0xee,
  };
  mem.write32(0x1000, 0x2001); // L1[0] → table at 0x2000
  mem.write32(0x1004, 0x9000_0002); // L1[1]: a 1 GiB leaf
  mem.write32(0x1008, 0xee); // L1[2]: the layout's "empty" value
  mem.write32(0x100c, 0x8001); // L1[3] → a table not in memory
  mem.write32(0x2004, 0x5000_0001); // L2[1] of the table: a 256 MiB leaf
  return t;
}

describe("two-level 32-bit inspection", () => {
  it("walk: leaf below a table, leaf at level 1, hole, missing table, out of range", () => {
    const t = toy();
    const w = walkTwoLevel32(t, 0x1000_0123);
    expect([w.end, w.phys, w.length, w.steps.map((s) => s.kind)]).toEqual([
      "leaf",
      0x5000_0123n,
      0x1000_0000,
      ["table", "leaf"],
    ]);
    expect([walkTwoLevel32(t, 0x4000_0010).phys, walkTwoLevel32(t, 0x2000_0000).end]).toEqual([
      0x9000_0010n,
      "hole",
    ]);
    expect([walkTwoLevel32(t, 0xc000_0000).end, walkTwoLevel32(t, 2 ** 32).end]).toEqual([
      "missing-table",
      "out-of-range",
    ]);
  });

  it("visit: non-empty entries in the window, not below a missing table", () => {
    const t = toy();
    const seen: string[] = [];
    visitTwoLevel32(t, (e) => seen.push(`${e.level}:${e.index}:${e.kind}`));
    expect(seen).toEqual(["1:0:table", "2:1:leaf", "1:1:leaf", "1:3:table"]);
    seen.length = 0;
    visitTwoLevel32(t, (e) => seen.push(`${e.level}:${e.index}`), { from: 0x4000_0000, to: 0x7fff_ffff });
    expect(seen).toEqual(["1:1"]);
  });
});
