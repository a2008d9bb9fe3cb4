// drivers/iommu/iommufd/pages.c + drivers/iommu/intel/cache.c: iommufd's unmaps (one
// `iommu_unmap` per batch, with the sync inside it), fills and unfills drive a VT-d domain whose
// IOTLB and paging-structure caches the core's IotlbModel tracks from the descriptors the driver
// really queues. Random IOAS map / unmap / copy / attach / detach / access sequences, with device
// accesses interleaved, leave no stale translation behind (issue 17 §2).
import { IotlbChecker, PAGE_SIZE, SZ_2M } from "@iommu/core";
import {
  type DmarDomain,
  IntelIommu,
  type IntelIotlbFeedOptions,
  intelIotlbFeed,
  intelIotlbModel,
  QI_IWD_TYPE,
} from "@iommu/drivers-intel";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { READ_BACK_MODES, type ReadBackMode } from "./context.js";
import type { Iommufd } from "./iommufd.js";
import { ioasAlloc, mapFixed, openIommufd, unmap } from "./testing/harness.js";
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE } from "./uapi.js";

const RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
/** The IOVA window every operation stays in: 256 small slots, then 2 MiB slots. */
const W = 0x4000_0000;
const WINDOW = 8 * SZ_2M;
const SMALL = 0x20_0000_0000;
const SMALL_SIZE = 64 * PAGE_SIZE;
const HUGE = 0x40_0000_0000;
const HUGE_SIZE = 4 * SZ_2M;

type Op =
  | { k: "map"; huge: boolean; page: number; n: number; slot: number; ro: boolean }
  | { k: "unmap"; huge: boolean; slot: number; n: number }
  | { k: "unmapAll" }
  | { k: "copy"; src: number; n: number; dst: number }
  | { k: "attach" }
  | { k: "detach" }
  | { k: "pin"; slot: number; n: number }
  | { k: "unpin"; which: number }
  | { k: "dev"; huge: boolean; slot: number; write: boolean; second: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("map" as const),
      huge: fc.boolean(),
      page: fc.nat(63),
      n: fc.integer({ min: 1, max: 8 }),
      slot: fc.nat(255),
      ro: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("unmap" as const),
      huge: fc.boolean(),
      slot: fc.nat(255),
      n: fc.integer({ min: 1, max: 16 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ k: fc.constant("unmapAll" as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant("copy" as const),
      src: fc.nat(255),
      n: fc.integer({ min: 1, max: 8 }),
      dst: fc.nat(255),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ k: fc.constant("attach" as const) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("detach" as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant("pin" as const),
      slot: fc.nat(255),
      n: fc.integer({ min: 1, max: 4 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ k: fc.constant("unpin" as const), which: fc.nat(7) }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant("dev" as const),
      huge: fc.boolean(),
      slot: fc.nat(255),
      write: fc.boolean(),
      second: fc.boolean(),
    }),
    weight: 8,
  },
);

interface World {
  ictx: Iommufd;
  unit: IntelIommu;
  ioas: number;
  access: number;
  /** The first domain: attached for the whole sequence (the storage domain while it lives). */
  c1: IotlbChecker;
  /** The second domain while attached: its HWPT id and checker. */
  second: { id: number; c: IotlbChecker } | null;
  /** Findings of second domains already detached. */
  retired: IotlbChecker[];
}

function checkedDomain(
  unit: IntelIommu,
  dev: string,
  feed: IntelIotlbFeedOptions = {},
): { d: DmarDomain; c: IotlbChecker } {
  const d = unit.domainAllocPagingFlags(0) as DmarDomain;
  expect(unit.attachDev(d, dev)).toBe(0);
  const c = new IotlbChecker(d, intelIotlbModel(d, { capacity: 16, walkCache: 8 }), intelIotlbFeed(d, feed));
  return { d, c };
}

function world(mode: ReadBackMode, feed: IntelIotlbFeedOptions = {}): World {
  const ictx = openIommufd({ readBack: mode });
  ictx.mm.memory.addRegion({ vaddr: SMALL, size: SMALL_SIZE, kind: "scattered", seed: 5 });
  ictx.mm.memory.addRegion({ vaddr: HUGE, size: HUGE_SIZE, kind: "hugetlb2m", seed: 6 });
  const unit = new IntelIommu();
  const ioas = ioasAlloc(ictx);
  const { d, c } = checkedDomain(unit, "dev0", feed);
  expect(ictx.attachDomain(ioas, d)).toBeGreaterThan(0);
  const access = ictx.accessCreate(ioas);
  return { ictx, unit, ioas, access, c1: c, second: null, retired: [] };
}

const slotIova = (huge: boolean, slot: number) =>
  W + (huge ? 4 * SZ_2M + (slot % 4) * SZ_2M : slot * PAGE_SIZE);

/** One iommufd operation; true when it changed what a domain maps. */
function step(w: World, op: Op): boolean {
  const { ictx } = w;
  switch (op.k) {
    case "map": {
      const unit = op.huge ? SZ_2M : PAGE_SIZE;
      const uptr = op.huge ? HUGE + (op.page % 4) * SZ_2M : SMALL + op.page * PAGE_SIZE;
      const len = Math.min(
        op.huge ? unit : op.n * unit,
        (op.huge ? HUGE + HUGE_SIZE : SMALL + SMALL_SIZE) - uptr,
      );
      const flags = op.ro ? IOMMU_IOAS_MAP_READABLE : RW;
      mapFixed(ictx, w.ioas, uptr, len, slotIova(op.huge, op.slot), flags);
      return true;
    }
    case "unmap":
      unmap(ictx, w.ioas, slotIova(op.huge, op.slot), op.huge ? SZ_2M : op.n * PAGE_SIZE);
      return true;
    case "unmapAll":
      unmap(ictx, w.ioas, 0, (1n << 64n) - 1n);
      return true;
    case "copy":
      ictx.ioasCopy({
        flags: IOMMU_IOAS_MAP_FIXED_IOVA | RW,
        srcIoasId: w.ioas,
        dstIoasId: w.ioas,
        srcIova: slotIova(false, op.src),
        dstIova: slotIova(false, op.dst),
        length: op.n * PAGE_SIZE,
      });
      return true;
    case "attach": {
      if (w.second) return false;
      const { d, c } = checkedDomain(w.unit, "dev1");
      const id = ictx.attachDomain(w.ioas, d);
      if (id > 0) w.second = { id, c };
      return true;
    }
    case "detach": {
      if (!w.second) return false;
      expect(ictx.destroy(w.second.id)).toBe(0);
      // The domain and its tables are freed with the HWPT (no device uses it any more): its
      // checker keeps the findings of its life.
      w.retired.push(w.second.c);
      w.second = null;
      return false;
    }
    case "pin":
      ictx.accessPages(w.access, slotIova(false, op.slot), op.n * PAGE_SIZE, { write: false });
      return false;
    case "unpin": {
      const live = ictx.access(w.access)!.items.map((i) => i.id);
      if (live.length) ictx.accessDestroyPages(w.access, live[op.which % live.length]!);
      return false;
    }
    case "dev": {
      const c = op.second && w.second ? w.second.c : w.c1;
      c.access(slotIova(op.huge, op.slot) + (op.slot % 3) * 0x800, op.write ? "write" : "read");
      return false;
    }
  }
}

describe("iommufd under the IOTLB checker (VT-d second stage)", () => {
  it.each(READ_BACK_MODES)("%s read-back: no stale access, no sync-stale, after every ioctl", (mode) => {
    const seen = { hits: 0, invalidations: 0, walkCacheHits: 0, accesses: 0 };
    let ioctls = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 60 }), (ops) => {
        const w = world(mode);
        for (const op of ops) {
          const changed = step(w, op);
          if (op.k !== "dev") ioctls++;
          // The check at the end of each ioctl: what it changed in [W, W + WINDOW) is marked
          // stale, the queued descriptors are applied, and nothing stale may stay cached.
          if (changed) {
            w.c1.observe(op.k, W, WINDOW, true);
            w.second?.c.observe(op.k, W, WINDOW, true);
          }
        }
        for (const c of [w.c1, ...(w.second ? [w.second.c] : []), ...w.retired]) {
          if (c.findings.length) expect(c.findings.map((f) => f.message)).toEqual([]);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        }
        expect(w.ictx.warns.warns).toBe(0);
      }),
      { numRuns: 40, seed: 0x10b },
    );
    // Not vacuous: devices hit cached translations and iommufd's unmaps invalidated them.
    expect(ioctls).toBeGreaterThan(0);
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("the checker sees iommufd's invalidations (control)", () => {
  it("wait descriptors dropped: missing-sync on IOAS_UNMAP, then the device's stale access", () => {
    const w = world("legacy", { rewrite: (q) => (q.type === QI_IWD_TYPE ? null : q) });
    const ops: Op[] = [
      { k: "map", huge: false, page: 0, n: 2, slot: 0, ro: false },
      { k: "dev", huge: false, slot: 1, write: true, second: false },
      { k: "unmap", huge: false, slot: 0, n: 2 },
      { k: "dev", huge: false, slot: 1, write: false, second: false },
    ];
    for (const op of ops) if (step(w, op)) w.c1.observe(op.k, W, WINDOW, true);
    expect(w.c1.findings.map((f) => [f.kind, f.op])).toEqual([
      ["missing-sync", "unmap"],
      ["stale-access", "access"],
    ]);
  });
});
