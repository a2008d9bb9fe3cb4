import { describe, expect, it } from "vitest";
import { IommuCounters } from "./counters.js";
import { PhysMem } from "./phys-mem.js";
import { TableAllocator } from "./table-allocator.js";

describe("TableAllocator", () => {
  it("places blocks deterministically: natural alignment above the high-water mark", () => {
    const a = new TableAllocator();
    expect(a.alloc(4096)).toBe(0x80000000);
    expect(a.alloc(0x400)).toBe(0x80001000); // rounded up to 4 KiB
    expect(a.alloc(0x10000)).toBe(0x80010000); // 64 KiB aligned; the gap below is not reused
    expect(a.alloc(0x3000)).toBe(0x80020000); // 16 KiB block at the mark
    expect(a.liveCount).toBe(4);
    expect(a.liveBytes).toBe(0x1000 + 0x1000 + 0x10000 + 0x4000);
  });

  it("reuses the most recently freed block of the same size first, zeroed", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const x = a.alloc(4096);
    const y = a.alloc(4096);
    a.mem.write32(y + 8, 0xdead);
    a.release(x);
    a.release(y);
    expect(a.alloc(4096)).toBe(y);
    expect(a.mem.read32(y + 8)).toBe(0);
    expect(a.alloc(4096)).toBe(x);
    expect(a.alloc(8192)).toBe(0x2000);
  });

  it("injects failure at the n-th allocation and counts into the domain counters", () => {
    const counters = new IommuCounters();
    const a = new TableAllocator(undefined, { counters });
    a.failNth(2);
    expect(a.alloc(4096)).toBeGreaterThan(0);
    expect(a.alloc(4096)).toBe(-1);
    expect(a.alloc(4096)).toBeGreaterThan(0);
    a.release(0x80000000);
    expect([counters.tablesAllocated, counters.tablesFreed, a.failedTotal]).toEqual([2, 1, 1]);
  });

  it("fails when the arena is exhausted, and reset() starts afresh but keeps totals", () => {
    const a = new TableAllocator(undefined, { arenaBytes: 0x2000 });
    a.alloc(4096);
    a.alloc(4096);
    expect(a.alloc(4096)).toBe(-1);
    a.reset();
    expect(a.liveCount).toBe(0);
    expect(a.alloc(4096)).toBe(0x80000000);
    expect(a.allocatedTotal).toBe(3);
  });

  it("lists the live blocks in address order (copies, not the allocator's state)", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const x = a.alloc(4096);
    const y = a.alloc(0x4000);
    const z = a.alloc(4096);
    a.release(x);
    const blocks = a.liveBlocks();
    expect(blocks).toEqual(
      [
        { pa: y, bytes: 0x4000 },
        { pa: z, bytes: 0x1000 },
      ].sort((p, q) => p.pa - q.pa),
    );
    (blocks[0] as { pa: number }).pa = 0x1234000;
    expect(a.liveBlocks()[0]!.pa).toBe(Math.min(y, z));
  });

  it("refuses to free what it did not allocate", () => {
    const a = new TableAllocator();
    expect(() => a.release(0x1234000)).toThrow(/not a live table block/);
  });

  it("mapping 1 TiB with 1 GiB leaves costs kilobytes: memory exists only where tables are", () => {
    const a = new TableAllocator();
    for (let i = 0; i < 3; i++) a.alloc(4096);
    expect(a.mem.pageCount).toBe(3);
  });
});

describe("PhysMem", () => {
  it("reads and writes 32/64-bit little-endian words; absent memory reads as zero", () => {
    const m = new PhysMem();
    m.addChunk(0x1000, 0x2000);
    m.write64(0x1ff8, 0x1122334455667788n);
    expect(m.read32(0x1ff8)).toBe(0x55667788);
    expect(m.read32(0x1ffc)).toBe(0x11223344);
    expect(m.read64(0x1ff8)).toBe(0x1122334455667788n);
    expect(m.read64(0x9000)).toBe(0n);
    expect(() => m.write32(0x9000, 1)).toThrow();
    const c = m.chunk(0x2008)!;
    expect(c.pa).toBe(0x1000);
  });

  it("keeps neighbouring small chunks apart although they share a backing slab", () => {
    const m = new PhysMem();
    const a = m.addChunk(0x10000, 0x1000);
    const b = m.addChunk(0x11000, 0x1000);
    a.words.fill(0xffffffff);
    expect(b.words.every((w) => w === 0)).toBe(true);
    expect(a.words.buffer).toBe(b.words.buffer);
    m.removeRange(0x10000, 0x1000);
    const again = m.addChunk(0x10000, 0x1000);
    expect(again.words.every((w) => w === 0)).toBe(true); // re-added chunks come back zeroed
    expect(m.exportRange(0x11000, 8)).toEqual(new Uint8Array(8));
  });

  it("hands slabs a PhysMem gave up to the next one, zeroed", () => {
    const a = new PhysMem();
    const c = a.addChunk(0x40000, 0x1000);
    c.words.fill(0xdeadbeef);
    const slab = c.words.buffer;
    a.removeRange(0x40000, 0x1000); // the slab's last page: back to the pool
    const b = new PhysMem();
    const d = b.addChunk(0x90000, 0x1000);
    expect(d.words.buffer).toBe(slab);
    expect(d.words.every((w) => w === 0)).toBe(true);
    expect(a.read32(0x40000)).toBe(0);
  });

  it("round-trips a memory image through export and import", () => {
    const src = new PhysMem();
    src.addChunk(0x40000, 0x3000);
    for (let i = 0; i < 0x3000; i += 4) src.write32(0x40000 + i, (i * 2654435761) >>> 0);
    const image = src.exportRange(0x40000, 0x3000);
    const dst = new PhysMem();
    dst.importRange(0x40000, image);
    expect(dst.exportRange(0x40000, 0x3000)).toEqual(image);
    expect(dst.ranges()).toEqual([{ pa: 0x40000, bytes: 0x3000 }]);
    // A partial-page import keeps what was there and rounds out to pages.
    dst.importRange(0x40ffe, new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]));
    expect(dst.read32(0x41000)).toBe(((image[0x1003]! << 24) | (image[0x1002]! << 16) | 0xddcc) >>> 0);
    const fresh = new PhysMem();
    fresh.importRange(0x7ffe, new Uint8Array([1, 2, 3, 4]));
    expect(fresh.ranges()).toEqual([{ pa: 0x7000, bytes: 0x2000 }]);
    expect(fresh.read32(0x8000)).toBe(0x0403);
  });
});
