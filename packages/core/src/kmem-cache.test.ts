// mm/slub.c as the IOMMU drivers use it: the deterministic kmem_cache model over TableAllocator pages.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IommuCounters } from "./counters.js";
import { KmemCache } from "./kmem-cache.js";
import { PhysMem } from "./phys-mem.js";
import { TableAllocator } from "./table-allocator.js";
import { allocUncounted, releaseUncounted } from "./uncounted-alloc.js";

const cache1k = (a: TableAllocator) => new KmemCache(a, { name: "t", size: 0x400 });

describe("KmemCache", () => {
  it("carves a slab page lowest address first, then takes a new page", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0x1000_0000 });
    const c = cache1k(a);
    const got = Array.from({ length: 5 }, () => c.alloc());
    expect(got).toEqual([0x1000_0000, 0x1000_0400, 0x1000_0800, 0x1000_0c00, 0x1000_1000]);
    expect([c.blockCount, c.liveObjects, c.allocatedTotal, a.liveCount]).toEqual([2, 5, 5, 2]);
  });

  it("object size rounds up to the alignment: 0x300-byte objects aligned to 1 KiB, four a page", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const c = new KmemCache(a, { name: "t", size: 0x300, align: 0x400 });
    expect([c.alloc(), c.alloc(), c.alloc(), c.alloc(), c.alloc()]).toEqual([0, 0x400, 0x800, 0xc00, 0x1000]);
    expect(c.stride).toBe(0x400);
  });

  it("reuses freed objects LIFO before carving, zeroed again", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const c = cache1k(a);
    const [x, y] = [c.alloc(), c.alloc()];
    a.mem.write32(x + 0x3fc, 0xdead_beef);
    a.mem.write32(y, 0x1234);
    expect([c.free(x), c.free(y)]).toEqual([true, true]);
    expect([c.alloc(), c.alloc(), c.alloc()]).toEqual([y, x, 0x800]);
    expect([a.mem.read32(x + 0x3fc), a.mem.read32(y)]).toEqual([0, 0]);
    expect([c.liveObjects, c.freedTotal]).toEqual([3, 2]);
  });

  it("free of an address it does not hold live is refused (an adopted image's table, a double free)", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const c = cache1k(a);
    const x = c.alloc();
    expect([c.free(0x400), c.free(x), c.free(x), c.owns(x), c.liveObjects]).toEqual([
      false,
      true,
      false,
      false,
      0,
    ]);
  });

  it("failNth fails the n-th object allocation only; an allocator failure fails the carve of a new page", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const c = cache1k(a);
    c.failNth(2);
    expect([c.alloc(), c.alloc(), c.alloc()]).toEqual([0, -1, 0x400]);
    c.alloc();
    c.alloc(); // the first page is full
    a.failNth(1);
    expect([c.alloc(), c.failedTotal, c.blockCount]).toEqual([-1, 2, 1]);
    expect(c.alloc()).toBe(0x1000);
  });

  it("pages are taken and given back without the allocator's counters", () => {
    const counters = new IommuCounters();
    const a = new TableAllocator(new PhysMem(), { counters });
    const c = cache1k(a);
    c.alloc();
    c.destroy();
    expect([counters.tablesAllocated, counters.tablesFreed, a.liveCount, a.allocatedTotal]).toEqual([
      0, 0, 0, 1,
    ]);
  });

  it("destroy gives back every page except those holding a leaked object (still counted live)", () => {
    const a = new TableAllocator(new PhysMem(), { base: 0 });
    const c = cache1k(a);
    const objs = Array.from({ length: 9 }, () => c.alloc()); // pages 0, 0x1000, 0x2000
    c.destroy(new Set([objs[5]!]));
    expect(a.liveBlocks()).toEqual([{ pa: 0x1000, bytes: 0x1000 }]);
    expect([c.liveObjects, c.owns(objs[5]!), c.blockCount]).toEqual([1, true, 0]);
    expect(c.alloc()).toBe(0x2000); // a fresh page: the allocator reuses its last freed block first
  });

  it("matches a list model: LIFO reuse, then the lowest uncarved slot (random alloc/free)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { maxLength: 60 }), (ops) => {
        const a = new TableAllocator(new PhysMem(), { base: 0 });
        const c = new KmemCache(a, { name: "t", size: 0x800 });
        const freed: number[] = [];
        const live: number[] = [];
        let next = 0;
        for (const op of ops) {
          if (op < 12 || live.length === 0) {
            let want = freed.pop();
            if (want === undefined) {
              want = next;
              next += 0x800;
            }
            expect(c.alloc()).toBe(want);
            live.push(want);
          } else {
            const [pa] = live.splice(op % live.length, 1);
            expect(c.free(pa!)).toBe(true);
            freed.push(pa!);
          }
          expect(c.liveObjects).toBe(live.length);
        }
        expect(c.blockCount).toBe(Math.ceil(next / 0x1000));
      }),
      { numRuns: 200 },
    );
  });
});

describe("allocUncounted / releaseUncounted", () => {
  it("leave the allocator's counters untouched and restore them, also when release throws", () => {
    const counters = new IommuCounters();
    const a = new TableAllocator(new PhysMem(), { counters });
    const pa = allocUncounted(a, 0x4000);
    releaseUncounted(a, pa);
    expect(() => releaseUncounted(a, pa)).toThrow();
    expect([counters.tablesAllocated, counters.tablesFreed, a.counters]).toEqual([0, 0, counters]);
    a.alloc(0x1000);
    expect(counters.tablesAllocated).toBe(1);
  });
});
