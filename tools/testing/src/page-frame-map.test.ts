import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PageFrameMap } from "./page-frame-map.js";

describe("PageFrameMap", () => {
  it("set / get / delete / size, keys ascending after inserts and deletes", () => {
    const m = new PageFrameMap();
    m.set(7, { ppfn: 70, prot: 1 });
    m.set(2, { ppfn: 20, prot: 3 });
    m.set(2 ** 51, { ppfn: 1, prot: 1 });
    m.set(7, { ppfn: 71, prot: 2 });
    expect([m.size, m.get(7), m.keys()]).toEqual([3, { ppfn: 71, prot: 2 }, [2, 7, 2 ** 51]]);
    expect([m.delete(2), m.delete(2), m.keys()]).toEqual([true, false, [7, 2 ** 51]]);
  });

  it("between and anyIn agree with a linear scan of the keys", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 210 }),
        fc.integer({ min: 0, max: 210 }),
        (keys, x, y) => {
          const m = new PageFrameMap();
          for (const k of keys) m.set(k, { ppfn: k, prot: 0 });
          const [lo, hi] = x <= y ? [x, y] : [y, x];
          const scan = keys.filter((k) => k >= lo && k < hi).sort((a, b) => a - b);
          expect(m.between(lo, hi)).toEqual(scan);
          expect(m.anyIn(lo, hi)).toBe(scan.length > 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
