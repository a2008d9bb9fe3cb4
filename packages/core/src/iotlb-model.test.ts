import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IotlbGather } from "./gather.js";
import { IotlbChecker, type IotlbCommandFeed } from "./iotlb-checker.js";
import { IotlbModel } from "./iotlb-model.js";
import { IOMMU_READ, IOMMU_WRITE } from "./prot.js";
import { SZ_2M, SZ_4K } from "./sizes.js";
import { type FakeDomain, makeDomain } from "./testing/fake-pgtable.js";

/** A fake driver whose iotlb_sync invalidates the synced range, then completes it with a barrier. */
function syncedRangeFeed(
  d: FakeDomain,
  mutate: (r: { start: number; endExcl: number }) => unknown = (r) => r,
): IotlbCommandFeed {
  let seen = 0;
  return {
    drain(model) {
      for (; seen < d.synced.length; seen++) {
        const r = mutate(d.synced[seen]!) as { start: number; endExcl: number } | null;
        if (r)
          model.issue({
            scope: "range",
            tag: model.tag,
            iova: r.start,
            size: r.endExcl - r.start,
            leafOnly: true,
            leafSize: 0,
          });
        model.sync();
      }
    },
  };
}

const RW = IOMMU_READ | IOMMU_WRITE;

describe("IotlbModel: translation", () => {
  it("fills on a miss, serves hits, counts its own walks and leaves the domain's counters alone", () => {
    const d = makeDomain();
    const m = new IotlbModel(d);
    new IotlbChecker(d, m).map(0x20_0000, 0x8000_0000, SZ_2M, RW);
    const before = d.counters.snapshot();
    const r = m.translate(0x20_1234, "read");
    expect(r).toMatchObject({ ok: true, hit: false, phys: 0x8000_1234 });
    expect(m.translate(0x3f_f000, "write")).toMatchObject({ ok: true, hit: true, phys: 0x801f_f000 });
    // One 2 MiB leaf → one entry covering all of it.
    expect(m.entries).toHaveLength(1);
    expect(m.entries[0]).toMatchObject({ iova: 0x20_0000, size: SZ_2M, phys: 0x8000_0000 });
    expect(m.stats).toMatchObject({ accesses: 2, hits: 1, misses: 1, walks: 1, faults: 0 });
    expect(d.counters.since(before)).toMatchObject({ walks: 0, pteReads: 0 });
  });

  it("an unmapped IOVA faults and caches nothing", () => {
    const d = makeDomain();
    const m = new IotlbModel(d);
    expect(m.translate(0x5000).ok).toBe(false);
    expect(m.entries).toHaveLength(0);
    expect(m.stats.faults).toBe(1);
  });

  it.each([
    // LRU: the reuse of 0x1000 makes 0x2000 the victim; FIFO evicts the oldest insertion.
    ["lru", [0x1000, 0x3000]],
    ["fifo", [0x2000, 0x3000]],
  ] as const)("replacement %s: capacity 2, accesses 1,2,1,3 keep %j", (policy, kept) => {
    const d = makeDomain();
    const c = new IotlbChecker(d, new IotlbModel(d, { capacity: 2, replacement: policy }));
    c.map(0x1000, 0x10_1000, 3 * SZ_4K, RW);
    for (const va of [0x1000, 0x2000, 0x1000, 0x3000]) c.model.translate(va);
    expect(c.model.stats.evictions).toBe(1);
    expect(c.model.entries.map((e) => e.iova).sort((a, b) => a - b)).toEqual(kept);
  });
});

describe("IotlbModel: invalidation", () => {
  function filled() {
    const d = makeDomain();
    const m = new IotlbModel(d, { tag: 3, walkCache: 8 });
    m.insert(0x1000, SZ_4K, 0x9000);
    m.insert(0x20_0000, SZ_2M, 0x4000_0000);
    m.insert(0x1000, SZ_4K, 0x9000, -1, 4); // another tag
    m.insertWalk(2, 0, SZ_2M, 0x7000);
    return m;
  }

  it("by tag drops only that tag, both caches", () => {
    const m = filled();
    m.invalidateTag(3);
    expect(m.entries.map((e) => e.tag)).toEqual([4]);
    expect(m.walkEntries).toHaveLength(0);
  });

  it("by range: overlap drops the whole leaf; leaf-only keeps the walk cache", () => {
    const m = filled();
    m.invalidateRange(0x3f_f000, SZ_4K, { leafOnly: true });
    expect(m.entries.map((e) => e.iova)).toEqual([0x1000, 0x1000]);
    expect(m.walkEntries).toHaveLength(1);
    m.invalidateRange(0x1000, SZ_4K);
    expect(m.entries.map((e) => e.tag)).toEqual([4]);
    expect(m.walkEntries).toHaveLength(0);
  });

  it("a TTL (leaf size) hint skips entries of other sizes", () => {
    const m = filled();
    m.invalidateRange(0, 0x40_0000, { leafSize: SZ_4K, leafOnly: true });
    expect(m.entries.map((e) => e.size)).toEqual([SZ_2M, SZ_4K]);
  });

  it("walk invalidation drops table entries only; all drops everything", () => {
    const m = filled();
    m.invalidateWalk(0x1000, SZ_4K);
    expect(m.walkEntries).toHaveLength(0);
    expect(m.entries).toHaveLength(3);
    m.invalidateAll();
    expect(m.entries).toHaveLength(0);
  });

  it("issued invalidations wait for sync", () => {
    const m = filled();
    m.issue({ scope: "tag", tag: 3, iova: 0, size: 0, leafOnly: false, leafSize: 0 });
    expect(m.entries).toHaveLength(3);
    expect(m.pendingCovers(m.entries[0]!)).toBe(true);
    expect(m.pendingCovers(m.entries[2]!)).toBe(false);
    m.sync();
    expect(m.entries).toHaveLength(1);
    expect(m.pending).toHaveLength(0);
  });
});

describe("IotlbChecker", () => {
  function setup(mutate?: (r: { start: number; endExcl: number }) => unknown) {
    const d = makeDomain();
    const m = new IotlbModel(d);
    const c = new IotlbChecker(d, m, syncedRangeFeed(d, mutate));
    c.map(0x1000, 0x10_1000, 4 * SZ_4K, RW);
    for (let va = 0x1000; va < 0x5000; va += SZ_4K) c.access(va);
    return { d, m, c };
  }

  it("a correct unmap + sync leaves nothing stale", () => {
    const { c } = setup();
    expect(c.unmap(0x2000, 2 * SZ_4K)).toBe(2 * SZ_4K);
    expect(c.access(0x2000).ok).toBe(false);
    expect(c.findings).toEqual([]);
    expect(c.overInvalidation()).toMatchObject({ bytesUnmapped: 0x2000, bytesInvalidated: 0x2000, ratio: 1 });
  });

  it("a sync that drops the last page: sync-stale on the unmap, then stale-access", () => {
    const { c } = setup((r) => ({ start: r.start, endExcl: r.endExcl - SZ_4K }));
    c.unmap(0x2000, 2 * SZ_4K);
    expect(c.findings).toHaveLength(1);
    expect(c.findings[0]).toMatchObject({
      kind: "sync-stale",
      op: "unmap",
      iova: 0x3000,
      size: SZ_4K,
      cache: "iotlb",
      cause: { op: "unmap", iova: 0x2000, size: 0x2000 },
    });
    const r = c.access(0x3000);
    expect(r).toMatchObject({ ok: true, hit: true, phys: 0x10_3000 });
    expect(c.findings[1]).toMatchObject({ kind: "stale-access", op: "access", iova: 0x3000, size: 1 });
  });

  it("an invalidation without a barrier: missing-sync", () => {
    const d = makeDomain();
    const m = new IotlbModel(d);
    let seen = 0;
    const c = new IotlbChecker(d, m, {
      drain(model) {
        for (; seen < d.synced.length; seen++) {
          const r = d.synced[seen]!;
          model.issue({
            scope: "range",
            tag: 0,
            iova: r.start,
            size: r.endExcl - r.start,
            leafOnly: true,
            leafSize: 0,
          });
        }
      },
    });
    c.map(0x1000, 0x10_1000, SZ_4K, RW);
    c.access(0x1000);
    c.unmap(0x1000, SZ_4K);
    expect(c.findings.map((f) => [f.kind, f.op, f.iova, f.size])).toEqual([
      ["missing-sync", "unmap", 0x1000, SZ_4K],
    ]);
  });

  it("unmap_fast defers the check to the caller's sync", () => {
    const { c } = setup();
    const g = new IotlbGather();
    c.unmapFast(0x1000, SZ_4K, g);
    expect(c.findings).toEqual([]);
    // An access before the sync is served stale: the deferred-flush window, reported.
    expect(c.access(0x1000).hit).toBe(true);
    expect(c.byKind("stale-access")).toHaveLength(1);
    c.iotlbSync(g);
    expect(c.byKind("sync-stale")).toHaveLength(0);
    expect(c.access(0x1000).ok).toBe(false);
  });

  it("property: random map/unmap/access through a correct driver is clean and matches a reference", () => {
    let hits = 0;
    let evictions = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              t: fc.constant("map" as const),
              page: fc.nat(31),
              n: fc.integer({ min: 1, max: 4 }),
            }),
            fc.record({
              t: fc.constant("unmap" as const),
              page: fc.nat(31),
              n: fc.integer({ min: 1, max: 4 }),
            }),
            fc.record({ t: fc.constant("access" as const), page: fc.nat(19), n: fc.constant(1) }),
          ),
          { minLength: 20, maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 8 }),
        (ops, capacity) => {
          const d = makeDomain(undefined, SZ_4K);
          const c = new IotlbChecker(d, new IotlbModel(d, { capacity }), syncedRangeFeed(d));
          const ref = new Map<number, number>();
          for (const o of ops) {
            const va = (o.page + 1) * SZ_4K;
            if (o.t === "map") {
              let free = true;
              for (let i = 0; i < o.n; i++) if (ref.has(va + i * SZ_4K)) free = false;
              if (!free) continue;
              c.map(va, 0x100_0000 + va, o.n * SZ_4K, RW);
              for (let i = 0; i < o.n; i++) ref.set(va + i * SZ_4K, 0x100_0000 + va + i * SZ_4K);
            } else if (o.t === "unmap") {
              const n = c.unmap(va, o.n * SZ_4K);
              for (let i = 0; i < n / SZ_4K; i++) ref.delete(va + i * SZ_4K);
            } else {
              const r = c.access(va + 0x123);
              expect(r.ok).toBe(ref.has(va));
              if (r.ok) expect(r.phys).toBe(ref.get(va)! + 0x123);
            }
          }
          expect(c.findings).toEqual([]);
          expect(c.model.entries.length).toBeLessThanOrEqual(capacity);
          hits += c.model.stats.hits;
          evictions += c.model.stats.evictions;
        },
      ),
      { numRuns: 200 },
    );
    // Not vacuous: cached translations were served and the capacity bit.
    expect(hits).toBeGreaterThan(0);
    expect(evictions).toBeGreaterThan(0);
  });
});

describe("IotlbModel: IOVAs exact to 2^64", () => {
  /** A fake domain whose aperture is the whole 64-bit space, fed by its synced ranges (u64 sizes). */
  function wide(drop = false) {
    const d = makeDomain();
    d.geometry = { apertureStart: 0, apertureEnd: (1n << 64n) - 1n, forceAperture: true };
    const m = new IotlbModel(d);
    let seen = 0;
    const feed: IotlbCommandFeed = {
      drain(model) {
        for (; seen < d.synced.length; seen++) {
          const r = d.synced[seen]!;
          // endExcl wraps to 0 for a range ending at 2^64.
          const size = r.endExcl > r.start ? r.endExcl - r.start : 2 ** 64 - r.start + r.endExcl;
          if (!drop)
            model.issue({
              scope: "range",
              tag: model.tag,
              iova: r.start,
              size,
              leafOnly: false,
              leafSize: 0,
            });
          model.sync();
        }
      },
    };
    return { d, m, c: new IotlbChecker(d, m, feed) };
  }

  it("at 2^53: adjacent pages keep their own translation and exact offsets", () => {
    const { m, c } = wide();
    const base = 1n << 53n;
    c.map(base, 0x1_0000_0000, SZ_4K, RW);
    c.map(base + 0x1000n, 0x2_0000_0000, SZ_4K, RW);
    expect(c.access(base + 0xfffn, "read")).toMatchObject({ ok: true, hit: false, phys: 0x1_0000_0fff });
    expect(c.access(base + 0x1001n, "write")).toMatchObject({ ok: true, hit: false, phys: 0x2_0000_0001 });
    expect(c.access(base + 0x10n, "read")).toMatchObject({ ok: true, hit: true, phys: 0x1_0000_0010 });
    expect(m.lookup(base + 0x1fffn)?.phys).toBe(0x2_0000_0000);
    expect(m.entries.map((e) => e.iova)).toEqual([2 ** 53, 2 ** 53 + 0x1000]);
    // Below the first page: nothing cached there.
    expect(m.lookup(base - 1n)).toBeUndefined();
    expect(c.findings).toEqual([]);
  });

  it("at 2^63: a 2 MiB block is one entry; its last byte translates exactly", () => {
    const { m, c } = wide();
    const base = 1n << 63n;
    c.map(base, 0x4000_0000, SZ_2M, RW);
    expect(c.access(base + 0x1f_ffffn, "read")).toMatchObject({ ok: true, hit: false, phys: 0x401f_ffff });
    expect(c.access(base + 0x12_3457n, "read")).toMatchObject({ ok: true, hit: true, phys: 0x4012_3457 });
    expect(m.entries).toHaveLength(1);
    expect(m.entries[0]).toMatchObject({ iova: 2 ** 63, size: SZ_2M, phys: 0x4000_0000 });
    // The next byte is outside the block.
    expect(c.access(base + 0x20_0000n, "read").ok).toBe(false);
    c.unmap(base, SZ_2M);
    expect(m.entries).toHaveLength(0);
    expect(c.findings).toEqual([]);
  });

  it("at 2^64 − 4K: the last page, its last byte, and its invalidation (the range ends at 2^64)", () => {
    const { m, c } = wide();
    const last = (1n << 64n) - 0x1000n;
    c.map(last, 0x7000_0000, SZ_4K, RW);
    expect(c.access((1n << 64n) - 1n, "write")).toMatchObject({ ok: true, phys: 0x7000_0fff });
    expect(m.entries[0]!.iova).toBe(2 ** 64 - 4096);
    expect(c.unmap(last, SZ_4K)).toBe(SZ_4K);
    expect(c.findings).toEqual([]);
    expect(m.entries).toHaveLength(0);
    expect(c.access(last + 0x800n).ok).toBe(false);
  });

  it("TTBR1-style upper half: pages just below 2^64 − 2 MiB stay apart from the lower half's", () => {
    const { m, c } = wide();
    const upper = 0xffff_ffff_ffe0_0000n;
    for (let i = 0; i < 8; i++) c.map(upper + BigInt(i * SZ_4K), 0x9000_0000 + i * 0x10_0000, SZ_4K, RW);
    // The same low 48 bits in the lower half map elsewhere.
    c.map(0xffff_ffe0_0000, 0x5000_0000, SZ_4K, RW);
    for (let i = 0; i < 8; i++)
      expect(c.access(upper + BigInt(i * SZ_4K + 0x123), "read").phys).toBe(0x9000_0123 + i * 0x10_0000);
    expect(c.access(0xffff_ffe0_0123, "read").phys).toBe(0x5000_0123);
    expect(m.entries).toHaveLength(9);
    // Invalidating the upper half leaves the lower half's entry.
    m.invalidateRange(1n << 63n, 1n << 63n);
    expect(m.entries.map((e) => e.iova)).toEqual([0xffff_ffe0_0000]);
    expect(c.findings).toEqual([]);
  });

  it("a dropped invalidation up there is reported with exact ranges and the exact accessed address", () => {
    const { c } = wide(true);
    const upper = 0xffff_ffff_ffe0_0000n;
    c.map(upper, 0x9000_0000, 4 * SZ_4K, RW);
    c.access(upper + 0x3abcn, "read");
    c.unmap(upper + 0x3000n, SZ_4K);
    expect(c.findings).toHaveLength(1);
    expect(c.findings[0]).toMatchObject({
      kind: "sync-stale",
      op: "unmap",
      iova: 0xffff_ffff_ffe0_3000,
      size: SZ_4K,
    });
    expect(BigInt(c.findings[0]!.iova)).toBe(upper + 0x3000n);
    const r = c.access(upper + 0x3abdn, "write");
    expect(r).toMatchObject({ hit: true, phys: 0x9000_3abd });
    const f = c.findings[1]!;
    expect(f).toMatchObject({ kind: "stale-access", address: upper + 0x3abdn });
    expect(f.message).toContain("0xffffffffffe03abd");
  });
});
