/**
 * The core's IOTLB model on virtio-iommu domains, fed by the requests the driver really queues
 * (UNMAP, ATTACH, DETACH) and the viommu_sync_req() calls that complete them: random
 * map/unmap/access sequences stay clean; broken variants (an UNMAP dropped, the kick/sync
 * skipped, an UNMAP narrower than what was unmapped, a DETACH not honoured) are each caught with
 * the right diagnosis; and three kernel quirks the package reproduces are caught as they are.
 */
import {
  type IotlbChecker as Checker,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IotlbChecker,
  type IotlbFinding,
  PhysLength,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { IOTLB_WINDOW_PAGES, type IotlbOp, iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ViommuIotlbFeedOptions,
  viommuDecodeRequest,
  viommuIotlbFeed,
  viommuIotlbModel,
} from "./iotlb.js";
import { VIOMMU_LOG_PENDING, type ViommuLoggedRequest } from "./request-log.js";
import { guest } from "./testing/setup.js";
import type { ViommuDomain } from "./viommu-domain.js";
import type { VirtioIommuDeviceOptions } from "./virtio-iommu-device.js";
import {
  VIRTIO_IOMMU_S_RANGE,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_UNMAP,
} from "./virtio-iommu-uapi.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(
  feed: ViommuIotlbFeedOptions = {},
  capacity = 64,
  device: Partial<VirtioIommuDeviceOptions> = {},
) {
  const g = guest({ logCapacity: 4096, ...device });
  g.domain.counters = new IommuCounters();
  const model = viommuIotlbModel(g.domain, { capacity });
  return { ...g, c: new IotlbChecker(g.domain, model, viommuIotlbFeed(g.domain, { endpoint: 0, ...feed })) };
}

/** The step's range as runIotlbClean computes it. */
function rangeOf(o: Exclude<IotlbOp, { t: "access" }>): [number, number] {
  const iova = o.block ? Math.floor(o.page / 512) * SZ_2M : o.page * SZ_4K;
  const size = o.block ? SZ_2M : Math.min(o.n, IOTLB_WINDOW_PAGES - o.page) * SZ_4K;
  return [iova, iova + size];
}

/**
 * Whether a step would run into one of the driver's known quirks (README), read off the
 * driver's intervals with a plain scan: a MAP over a live mapping (map-no-overlap-check: the
 * tree takes it, the device refuses it), an unmap that removes less than asked
 * (unmap-short-zero: no UNMAP is sent), or one whose removed intervals do not tile
 * [iova, iova + removed) (the UNMAP names that range, which the device refuses to split).
 */
function quirky(d: ViommuDomain, o: IotlbOp): boolean {
  if (o.t === "access") return false;
  const [lo, hi] = rangeOf(o);
  const t = d.mappings;
  const hit = t.nodes().filter((n) => t.startOf(n) < hi && t.endOf(n) > lo);
  if (o.t === "map") return hit.length > 0;
  if (hit.length === 0 || t.startOf(hit[0]!) < lo) return false; // nothing removed
  let at = lo;
  for (const n of hit) {
    if (t.startOf(n) !== at) return true;
    at = t.endOf(n);
  }
  return at - lo < hi - lo;
}

describe("virtio-iommu under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["spec device", { mode: "spec" }],
    ["QEMU device", { mode: "qemu" }],
    ["page_size_mask 4K only (one MAP per map_pages of n pages)", { pageSizeMask: SZ_4K }],
  ] as const)("%s (steps that hit a known quirk are left out and counted)", (_name, device) => {
    const seen = { hits: 0, evictions: 0, invalidations: 0, syncs: 0 };
    let executed = 0;
    let skipped = 0;
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { domain: d, c } = setup({}, capacity, device);
          for (const o of ops) {
            if (quirky(d, o)) {
              skipped++;
              continue;
            }
            runIotlbClean(d, c, [o]);
            executed++;
          }
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 50 },
    );
    // Not vacuous: hits, evictions, invalidations and barriers all happened, and most steps ran.
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
    expect(executed).toBeGreaterThan(4 * skipped);
  });
});

describe("request-log decoding", () => {
  const req = (type: number, over: Partial<ViommuLoggedRequest> = {}): ViommuLoggedRequest => ({
    type,
    domain: 7,
    endpoint: 3,
    start: 0x4000,
    end: 0x6000,
    status: 0,
    ...over,
  });
  it("UNMAP → the range of its domain; MAP → nothing; a sync entry → the barrier", () => {
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_UNMAP))).toMatchObject({
      scope: "range",
      tag: 7,
      iova: 0x4000,
      size: 0x2000,
      command: "UNMAP",
    });
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_MAP))).toBeNull();
    expect(viommuDecodeRequest(req(0))).toBe("sync");
  });
  it("an UNMAP the device refused invalidates nothing; one not yet returned does", () => {
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_UNMAP, { status: VIRTIO_IOMMU_S_RANGE }))).toBeNull();
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_UNMAP, { status: VIOMMU_LOG_PENDING }))).not.toBeNull();
  });
  it("DETACH → its domain's entries, ATTACH → all of the endpoint's; other endpoints' are ignored", () => {
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_DETACH), 3)).toMatchObject({ scope: "tag", tag: 7 });
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_ATTACH), 3)).toMatchObject({ scope: "tag", tag: -1 });
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_DETACH), 4)).toBeNull();
    expect(viommuDecodeRequest(req(VIRTIO_IOMMU_T_ATTACH), 4)).toBeNull();
  });
  it("the log holds the requests as the device reads them, and each completed sync", () => {
    const { viommu, domain: d, c } = setup();
    const before = viommu.log!.total;
    c.map(0x20_0000, 0x8020_0000, 0x3000, RW);
    c.unmap(0x20_0000, 0x3000);
    const got = viommu.log!.entries.slice(before - viommu.log!.total);
    expect(got.map((r) => [r.type, r.domain, r.start, r.end, r.status])).toEqual([
      // iommu_map splits [2M, 2M + 12K) into an 8K and a 4K chunk: two map_pages, two MAPs;
      // iommu_unmap likewise, then one sync each.
      [VIRTIO_IOMMU_T_MAP, d.id, 0x20_0000, 0x20_2000, 0],
      [VIRTIO_IOMMU_T_MAP, d.id, 0x20_2000, 0x20_3000, 0],
      [0, -1, 0, 0, 0],
      [VIRTIO_IOMMU_T_UNMAP, d.id, 0x20_0000, 0x20_2000, 0],
      [VIRTIO_IOMMU_T_UNMAP, d.id, 0x20_2000, 0x20_3000, 0],
      [0, -1, 0, 0, 0],
    ]);
  });
  it("entries: one granule by default (QEMU's addr_mask), the whole length unit with entry: unit", () => {
    for (const [entry, size] of [
      [undefined, SZ_4K],
      ["unit", SZ_2M],
    ] as const) {
      const g = guest({ logCapacity: 64 });
      const model = viommuIotlbModel(g.domain, entry ? { entry } : {});
      const c = new IotlbChecker(g.domain, model, viommuIotlbFeed(g.domain));
      c.map(SZ_2M, 0x8000_0000, SZ_2M, RW);
      expect(c.access(SZ_2M + 0x5123)).toMatchObject({ ok: true, phys: 0x8000_5123 });
      expect(model.entries.map((e) => [e.iova, e.size])).toEqual([
        [size === SZ_2M ? SZ_2M : SZ_2M + 0x5000, size],
      ]);
      c.unmap(SZ_2M, SZ_2M);
      expect(model.entries).toEqual([]);
      expect(c.findings).toEqual([]);
    }
  });
  it("the feed refuses a driver without a log, and a log that dropped entries", () => {
    const g = guest();
    expect(() => viommuIotlbFeed(g.domain)).toThrow(/logCapacity/);
    const h = guest({ logCapacity: 2 });
    const feed = viommuIotlbFeed(h.domain);
    for (let i = 0; i < 3; i++) h.viommu.syncReq();
    expect(() => feed.drain(viommuIotlbModel(h.domain))).toThrow(/1 entries fell off/);
  });
});

type Variant = {
  name: string;
  feed?: ViommuIotlbFeedOptions;
  device?: Partial<VirtioIommuDeviceOptions>;
  /** Extra steps between the touches and the checked operation. */
  before?: (g: ReturnType<typeof setup>) => void;
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const dropUnmap = (r: ViommuLoggedRequest) => (r.type === VIRTIO_IOMMU_T_UNMAP ? null : r);
const dropSync = (r: ViommuLoggedRequest) => (r.type === 0 ? null : r);
const dropDetach = (r: ViommuLoggedRequest) => (r.type === VIRTIO_IOMMU_T_DETACH ? null : r);
/** The UNMAP names one page less than the driver removed. */
const shortUnmap = (r: ViommuLoggedRequest) =>
  r.type === VIRTIO_IOMMU_T_UNMAP ? { ...r, end: r.end - SZ_4K } : r;

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 3 * SZ_4K],
    touch: 0x3000,
    unmap: [0x1000, 3 * SZ_4K],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "the UNMAP request is dropped",
    feed: { rewrite: dropUnmap },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    name: "the kick / viommu_sync_req is skipped (UNMAP queued, never processed)",
    feed: { rewrite: dropSync },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    // One MAP [8K, 16K), cached page by page; the UNMAP names [8K, 12K).
    name: "the UNMAP covers less than the unmapped interval (one page short)",
    feed: { rewrite: shortUnmap },
    map: [0x2000, 2 * SZ_4K],
    touch: 0x3000,
    unmap: [0x2000, 2 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x3000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x3000 },
  },
  {
    // After the last DETACH the driver sends no UNMAP (the device dropped the domain's
    // mappings): only the DETACH cleaned the device's cache.
    name: "DETACH not honoured (the device keeps the endpoint's entries)",
    feed: { rewrite: dropDetach },
    before: (g) => g.viommu.detachDev(g.ep),
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    name: "DETACH honoured (control)",
    before: (g) => g.viommu.detachDev(g.ep),
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: null,
    thenAccess: null,
  },
];

function touchAll(c: Checker, iova: number, size: number): void {
  for (let va = iova; va < iova + size; va += SZ_4K) c.access(va);
}

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const g = setup(v.feed ?? {}, 64, v.device);
    const { c } = g;
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    touchAll(c, v.map[0], v.map[1]);
    expect(c.model.stats.hits + c.model.stats.misses).toBe(v.map[1] / SZ_4K);
    v.before?.(g);
    expect(c.findings).toEqual([]);
    c.unmap(v.unmap[0], v.unmap[1]);
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: "unmap", iova: v.unmap[0] } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });

  it("a driver whose iotlb_sync does not kick: missing-sync, and the device really still translates", () => {
    const g = setup();
    const { c, domain: d } = g;
    c.map(0x1000, 0x8000_1000, SZ_4K, RW);
    c.access(0x1000);
    d.ops = { ...d.ops!, iotlbSync: () => {} };
    c.unmap(0x1000, SZ_4K);
    expect(c.findings).toMatchObject([{ kind: "missing-sync", op: "unmap", iova: 0x1000, size: SZ_4K }]);
    // The UNMAP sits in the queue: the device's host table still maps the page.
    expect(g.device.translate(0, 0x1000, new PhysLength())).toMatchObject({ mapped: true });
    c.access(0x1000);
    expect(c.findings[1]).toMatchObject({ kind: "stale-access", iova: 0x1000 });
    // The next kick completes it: the device drops the mapping, the model the entry.
    g.viommu.syncReq();
    c.flushAll();
    expect(g.device.translate(0, 0x1000, new PhysLength()).mapped).toBe(false);
    expect(c.model.lookup(0x1000)).toBeUndefined();
  });
});

describe("kernel quirks the checker catches as they are (no injection)", () => {
  it("unmap-short-zero: an unmap past the interval removes it from the tree, returns 0, sends no UNMAP", () => {
    const g = setup();
    const { c } = g;
    c.map(0x1000, 0x8000_1000, SZ_4K, RW);
    c.access(0x1000);
    expect(c.unmap(0x1000, 2 * SZ_4K)).toBe(0);
    expect(c.findings).toMatchObject([
      { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    ]);
    expect(g.device.translate(0, 0x1000, new PhysLength()).mapped).toBe(true);
  });
  it("an unmap whose removed intervals leave a gap: the UNMAP [iova, iova + removed) would split one, the device refuses (RANGE)", () => {
    // page_size_mask 4K, so iommu_unmap makes one unmap_pages(0, 4K, 3) call.
    const g = setup({}, 64, { pageSizeMask: SZ_4K });
    const { c } = g;
    c.map(0, 0x8000_0000, SZ_4K, RW); // [0, 4K)
    c.map(0x2000, 0x8000_2000, 4 * SZ_4K, RW); // [8K, 24K)
    touchAll(c, 0, 6 * SZ_4K);
    // Both start inside [0, 12K): both removed (20K ≥ 12K asked) and UNMAP [0, 20K) is sent,
    // which would split [8K, 24K) on the device.
    expect(c.unmap(0, 3 * SZ_4K)).toBe(5 * SZ_4K);
    const unmap = g.viommu.log!.entries.filter((r) => r.type === VIRTIO_IOMMU_T_UNMAP).at(-1)!;
    expect([unmap.start, unmap.end, unmap.status]).toEqual([0, 0x5000, VIRTIO_IOMMU_S_RANGE]);
    // Every page the device had cached is still cached (4K hole at 4K), and the checker reports
    // each: an unmap re-walks every cached entry, so the page at 20K — removed with its
    // interval, past [iova, iova + returned) — is caught too.
    expect(c.findings.map((f) => [f.kind, f.op, f.iova, f.size])).toEqual(
      [0, 0x2000, 0x3000, 0x4000, 0x5000].map((va) => ["sync-stale", "unmap", va, SZ_4K]),
    );
    expect(g.device.translate(0, 0x2000, new PhysLength()).mapped).toBe(true);
    expect(g.device.translate(0, 0, new PhysLength()).mapped).toBe(true);
  });
  it("map-no-overlap-check: a MAP over a live mapping changes the tree's answer; the device refuses it", () => {
    const g = setup();
    const { c } = g;
    c.map(0x4000, 0x9000_0000, 0x4000, RW); // [16K, 32K)
    c.access(0x4000);
    c.map(0, 0x8000_0000, 0x1_0000, RW); // [0, 64K) over it: the tree now answers 0x80004000
    expect(c.findings).toMatchObject([{ kind: "sync-stale", op: "map", iova: 0x4000, size: SZ_4K }]);
    expect(g.device.translate(0, 0x4000, new PhysLength()).physNumber).toBe(0x9000_0000);
  });
});
