// lib/interval_tree.c semantics (interval_tree_insert/remove/iter_first) against a linear
// reference list, overlaps and equal starts included.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntervalTree } from "./interval-tree.js";
import { RefTree } from "./testing/setup.js";

const P = 4096;

type Op =
  | { k: "ins"; s: number; len: number }
  | { k: "del"; pick: number }
  | { k: "first"; lo: number; len: number }
  | { k: "at"; x: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("ins" as const), s: fc.nat(63), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ k: fc.constant("del" as const), pick: fc.nat(1000) }),
  fc.record({ k: fc.constant("first" as const), lo: fc.nat(70), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ k: fc.constant("at" as const), x: fc.nat(72 * P - 1) }),
);

describe("IntervalTree against a linear reference", () => {
  it("agrees on insert, remove, iter_first, the point lookup and the hole bounds (≥ 10,000 ops)", () => {
    let executed = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 200 }), (ops) => {
        const t = new IntervalTree();
        const ref = new RefTree();
        // paddr = insertion number: identifies the node in both.
        let next = 0;
        const byPaddr = new Map<number, number>();
        for (const o of ops) {
          if (o.k === "del" && ref.list.length === 0) continue;
          executed++;
          if (o.k === "ins") {
            const n = t.insert(o.s * P, (o.s + o.len) * P, next, 3);
            byPaddr.set(next, n);
            ref.insert(o.s * P, (o.s + o.len) * P, next, 3);
            next++;
          } else if (o.k === "del") {
            const r = ref.list[o.pick % ref.list.length]!;
            ref.remove(r);
            t.remove(byPaddr.get(r.paddr)!);
          } else if (o.k === "first") {
            const n = t.first(o.lo * P, (o.lo + o.len) * P);
            const r = ref.first(o.lo * P, (o.lo + o.len) * P);
            expect(n === -1 ? undefined : t.paddrOf(n)).toBe(r?.paddr);
          } else {
            const n = t.lookup(o.x);
            const r = ref.at(o.x);
            expect(n === -1 ? undefined : t.paddrOf(n)).toBe(r?.paddr);
            if (r) {
              const before = ref.list.slice(0, ref.list.indexOf(r));
              expect(t.endBefore).toBe(Math.max(0, ...before.map((b) => b.end)));
            } else {
              const atOrBefore = ref.list.filter((b) => b.start <= o.x);
              expect(t.maxEndAtOrBefore(o.x)).toBe(Math.max(0, ...atOrBefore.map((b) => b.end)));
              const after = ref.list.filter((b) => b.start > o.x);
              expect(t.startAfter(o.x)).toBe(
                Math.min(Number.POSITIVE_INFINITY, ...after.map((b) => b.start)),
              );
            }
          }
          expect(t.size).toBe(ref.list.length);
        }
        expect(t.nodes().map((n) => t.paddrOf(n))).toEqual(ref.list.map((r) => r.paddr));
      }),
      { numRuns: 160, seed: 0x7e57 },
    );
    expect(executed).toBeGreaterThanOrEqual(10_000);
  });

  it("keeps equal starts in insertion order, as interval_tree_insert() puts equal keys right", () => {
    const t = new IntervalTree();
    t.insert(0, 2 * P, 1, 0);
    t.insert(0, 4 * P, 2, 0);
    expect(t.paddrOf(t.lookup(P))).toBe(1);
    expect(t.paddrOf(t.lookup(3 * P))).toBe(2);
  });

  it("holds a quarter million intervals and finds each with O(log n) work", () => {
    const t = new IntervalTree();
    const n = 262_144;
    for (let i = 0; i < n; i++) t.insert(i * 2 * P, i * 2 * P + P, i, 3);
    for (let i = 0; i < n; i += 997) {
      expect(t.paddrOf(t.lookup(i * 2 * P + 5))).toBe(i);
      expect(t.lookup(i * 2 * P + P)).toBe(-1);
    }
    // Front removals (VFIO unmaps in ascending order) stay cheap too.
    for (let i = 0; i < n; i++) t.remove(t.first(0, 2 ** 64));
    expect(t.size).toBe(0);
  });

  it("works at the top of the 64-bit space (exact 4 KiB multiples)", () => {
    const t = new IntervalTree();
    const top = 2 ** 64;
    t.insert(top - 2 * P, top, 7, 3);
    expect(t.paddrOf(t.lookup(top - P))).toBe(7);
    expect(t.lookup(top - 3 * P)).toBe(-1);
    expect(t.startAfter(0)).toBe(top - 2 * P);
  });
});

describe("visitOverlaps (interval_tree_iter_first/next) against the linear reference", () => {
  it("every overlapping interval in order, the largest end before the first, the next start past the range", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(63), fc.integer({ min: 1, max: 8 })), { maxLength: 60 }),
        fc.nat(70),
        fc.integer({ min: 1, max: 16 }),
        (ins, lo, len) => {
          const t = new IntervalTree();
          const ref = new RefTree();
          ins.forEach(([s, l], i) => {
            t.insert(s * P, (s + l) * P, i, 3);
            ref.insert(s * P, (s + l) * P, i, 3);
          });
          const a = lo * P;
          const b = (lo + len) * P;
          const got: number[] = [];
          let before = -1;
          const next = t.visitOverlaps(a, b, (n, m) => {
            if (before < 0) before = m;
            got.push(t.paddrOf(n));
          });
          const hit = ref.list.filter((r) => r.start < b && r.end > a);
          expect(got).toEqual(hit.map((r) => r.paddr));
          if (hit.length > 0) {
            const i = ref.list.indexOf(hit[0]!);
            expect(before).toBe(Math.max(0, ...ref.list.slice(0, i).map((r) => r.end)));
          }
          const past = ref.list.find((r) => r.start >= b);
          expect(next).toBe(past ? past.start : Number.POSITIVE_INFINITY);
          // Reads: every overlapping node, plus the one past the range when there is one.
          expect(t.lastReads).toBeGreaterThanOrEqual(hit.length + (past ? 1 : 0));
        },
      ),
      { numRuns: 500 },
    );
  });
  it("stops when the callback returns false; nested walks from the callback are allowed", () => {
    const t = new IntervalTree();
    for (let i = 0; i < 10; i++) t.insert(i * P, (i + 1) * P, i, 3);
    const outer: number[] = [];
    let inner = 0;
    t.visitOverlaps(0, 10 * P, (n) => {
      outer.push(t.paddrOf(n));
      t.visitOverlaps(0, 10 * P, () => {
        inner++;
      });
      return outer.length < 3;
    });
    expect(outer).toEqual([0, 1, 2]);
    expect(inner).toBe(30);
  });
});
