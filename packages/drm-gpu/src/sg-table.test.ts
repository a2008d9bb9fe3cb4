import { SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { GpuMemory, GpuPages } from "./gpu-memory.js";
import { sgAllocTableFromPages } from "./sg-table.js";

describe("sg_alloc_table_from_pages + the BO memory layouts", () => {
  const mem = () => new GpuMemory({ base: 2 ** 32 });
  it("scattered pages: one segment per page, none adjacent", () => {
    const p = new GpuPages(8);
    expect(mem().fill(p, 0, 8, "scattered")).toBe(0);
    const sgt = sgAllocTableFromPages(p, 0, 8);
    expect(sgt.nents).toBe(8);
    expect(sgt.len.every((l) => l === SZ_4K)).toBe(true);
  });
  it("contiguous 4K folios: one 2M-aligned segment", () => {
    const p = new GpuPages(1024);
    expect(mem().fill(p, 0, 1024, "contiguous")).toBe(0);
    const sgt = sgAllocTableFromPages(p, 0, 1024);
    expect(sgt.nents).toBe(1);
    expect(sgt.addr[0]! % SZ_2M).toBe(0);
    expect(sgt.len[0]).toBe(4 * 2 ** 20);
    expect(p.folioShift[0]).toBe(12);
  });
  it("THP: a 2M segment per folio, then scattered tail pages", () => {
    const p = new GpuPages(1026);
    expect(mem().fill(p, 0, 1026, "thp")).toBe(0);
    const sgt = sgAllocTableFromPages(p, 0, 1026);
    expect(sgt.len).toEqual([SZ_2M, SZ_2M, SZ_4K, SZ_4K]);
    expect(p.folioShift[0]).toBe(21);
    expect(p.folioShift[1025]).toBe(12);
  });
  it("1G folios: contiguous and 1G aligned even for a smaller BO", () => {
    const p = new GpuPages(1024);
    expect(mem().fill(p, 0, 1024, "huge1g")).toBe(0);
    const sgt = sgAllocTableFromPages(p, 0, 1024);
    expect(sgt.len).toEqual([4 * 2 ** 20]);
    expect(sgt.addr[0]! % 2 ** 30).toBe(0);
    expect(p.folioShift[1023]).toBe(30);
  });
  it("max_segment caps merging", () => {
    const p = new GpuPages(4);
    mem().fill(p, 0, 4, "contiguous");
    expect(sgAllocTableFromPages(p, 0, 4, 2 * SZ_4K).len).toEqual([2 * SZ_4K, 2 * SZ_4K]);
  });
  it("an injected allocation failure fills nothing", () => {
    const m = mem();
    const p = new GpuPages(4);
    m.failNth(1);
    expect(m.fill(p, 0, 4, "scattered")).toBe(-12);
    expect([...p.pfns]).toEqual([-1, -1, -1, -1]);
  });
});
