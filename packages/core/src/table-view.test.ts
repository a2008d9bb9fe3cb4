import { describe, expect, it } from "vitest";
import { PhysMem } from "./phys-mem.js";
import { TableView } from "./table-view.js";

describe("TableView", () => {
  it("resolves a table to its chunk's words once, answers -1 where no memory is, forgets on drop", () => {
    const mem = new PhysMem();
    const c = mem.addChunk(0x4000, 0x2000);
    const v = new TableView();
    expect([v.resolve(mem, 0x5400), v.words === c.words, v.pa]).toEqual([0x1400 >>> 2, true, 0x5400]);
    expect([v.resolve(mem, 0x9000), v.pa]).toEqual([-1, 0x5400]); // absent: the view stays
    mem.removeRange(0x4000, 0x2000);
    mem.addChunk(0x4000, 0x2000);
    expect(v.words === c.words).toBe(true); // stale until dropped: callers drop on every free
    v.drop();
    v.resolve(mem, 0x5400);
    expect([v.words === c.words, v.words === mem.chunk(0x5400)!.words]).toEqual([false, true]);
  });
});
