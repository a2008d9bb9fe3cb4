// drivers/iommu/iommufd/{io_pagetable.c,pages.c}: nothing in the IOAS depends on where in the
// 64-bit IOVA space it works. Random map / unmap / copy / attach / detach / access sequences run
// in lockstep on a window at a low IOVA and on the same window moved across 2^53 and to the top
// of the space (its last byte 2^64 − 1): every return code, area (relative to the window),
// translation, pin, counter and walk count must match, in every read-back mode.
import {
  type Addr,
  iommuIovaToPhysLength,
  PAGE_SIZE,
  SZ_2M,
  SZ_4K,
  TableAllocator,
  toBigInt,
  UserMm,
} from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { READ_BACK_MODES, type ReadBackMode } from "./context.js";
import { Iommufd } from "./iommufd.js";
import { ioasAlloc, RW, teardown } from "./testing/harness.js";
import { IOMMU_IOAS_MAP_FIXED_IOVA } from "./uapi.js";

const SCATTERED = 0x10_0000_0000;
const HUGE = 0x40_0000_0000;
/** The window: 4 KiB slots from its base, 64 KiB slots from base + 32 MiB (hugetlb, 2 MiB leaves). */
const SPAN = 64 * 1024 * 1024;
const HUGE_OFF = 32 * 1024 * 1024;
const LOW = 2n ** 40n;
const HIGHS: [string, bigint][] = [
  ["a window crossing 2^53", 2n ** 53n - BigInt(HUGE_OFF)],
  ["the top window, ending at 2^64 − 1", 2n ** 64n - BigInt(SPAN)],
];

type Op =
  | { k: "map"; huge: boolean; aligned: boolean; page: number; npages: number; slot: number; fixed: boolean }
  | { k: "unmap"; huge: boolean; slot: number; nslots: number }
  | { k: "unmapAll" }
  | { k: "copy"; src: number; nslots: number; dst: number }
  | { k: "attach" }
  | { k: "detach"; which: number }
  | { k: "pin"; huge: boolean; slot: number; npages: number }
  | { k: "unpin"; which: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("map" as const),
    huge: fc.boolean(),
    aligned: fc.boolean(),
    page: fc.integer({ min: 0, max: 15 }),
    npages: fc.integer({ min: 1, max: 40 }),
    slot: fc.integer({ min: 0, max: 63 }),
    fixed: fc.boolean(),
  }),
  fc.record({
    k: fc.constant("unmap" as const),
    huge: fc.boolean(),
    slot: fc.integer({ min: 0, max: 63 }),
    nslots: fc.integer({ min: 1, max: 40 }),
  }),
  fc.constant({ k: "unmapAll" as const }),
  fc.record({
    k: fc.constant("copy" as const),
    src: fc.integer({ min: 0, max: 63 }),
    nslots: fc.integer({ min: 1, max: 8 }),
    dst: fc.integer({ min: 64, max: 127 }),
  }),
  fc.constant({ k: "attach" as const }),
  fc.record({ k: fc.constant("detach" as const), which: fc.nat(3) }),
  fc.record({
    k: fc.constant("pin" as const),
    huge: fc.boolean(),
    slot: fc.integer({ min: 0, max: 63 }),
    npages: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ k: fc.constant("unpin" as const), which: fc.nat(7) }),
);

interface World {
  ictx: Iommufd;
  ioas: number;
  base: bigint;
  hwpts: number[];
  access: number;
}

function world(mode: ReadBackMode, base: bigint): World {
  const mm = new UserMm();
  mm.memory.addRegion({ vaddr: SCATTERED, size: 64 * PAGE_SIZE, kind: "scattered", seed: 5 });
  mm.memory.addRegion({ vaddr: HUGE, size: 2 * SZ_2M, kind: "hugetlb2m", seed: 3 });
  const ictx = new Iommufd({ mm, readBack: mode });
  const ioas = ioasAlloc(ictx);
  // Automatic IOVAs come from the window too: the lowest fit is the same relative to its base.
  const allowed = [{ start: base, last: base + BigInt(SPAN) - 1n }];
  expect(ictx.ioasAllowIovas({ ioasId: ioas, allowedIovas: allowed })).toBe(0);
  const access = ictx.accessCreate(ioas);
  expect(access).toBeGreaterThan(0);
  return { ictx, ioas, base, hwpts: [], access };
}

function at(w: World, off: number): Addr {
  const v = w.base + BigInt(off);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** One step; returns the kernel return code (1 for a no-op). */
function step(w: World, op: Op): number {
  const { ictx } = w;
  switch (op.k) {
    case "map": {
      if (op.huge && op.aligned) {
        // Whole 2 MiB hugetlb pages (one, or both) at a 2 MiB slot: 2 MiB leaves in every domain.
        const cmd = {
          flags: RW | (op.fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
          ioasId: w.ioas,
          userVa: HUGE + (op.page % 2) * SZ_2M,
          length: op.page % 2 ? SZ_2M : 2 * SZ_2M,
          iova: op.fixed ? at(w, HUGE_OFF + (op.slot % 3) * SZ_2M) : 0,
        };
        return ictx.ioasMap(cmd);
      }
      const unit = op.huge ? 16 * PAGE_SIZE : PAGE_SIZE;
      const uptr = (op.huge ? HUGE : SCATTERED) + op.page * unit;
      const end = op.huge ? HUGE + 2 * SZ_2M : SCATTERED + 64 * PAGE_SIZE;
      const len = Math.min(op.npages * unit, end - uptr);
      const cmd = {
        flags: RW | (op.fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
        ioasId: w.ioas,
        userVa: uptr,
        length: len,
        iova: op.fixed ? at(w, (op.huge ? HUGE_OFF : 0) + op.slot * unit) : 0,
      };
      return ictx.ioasMap(cmd);
    }
    case "unmap": {
      const unit = op.huge ? 16 * PAGE_SIZE : PAGE_SIZE;
      const cmd = {
        ioasId: w.ioas,
        iova: at(w, (op.huge ? HUGE_OFF : 0) + op.slot * unit),
        length: op.nslots * unit,
      };
      return ictx.ioasUnmap(cmd);
    }
    case "unmapAll":
      return ictx.ioasUnmap({ ioasId: w.ioas, iova: 0, length: (1n << 64n) - 1n });
    case "copy":
      return ictx.ioasCopy({
        flags: IOMMU_IOAS_MAP_FIXED_IOVA | RW,
        srcIoasId: w.ioas,
        dstIoasId: w.ioas,
        srcIova: at(w, op.src * PAGE_SIZE),
        dstIova: at(w, op.dst * PAGE_SIZE),
        length: op.nslots * PAGE_SIZE,
      });
    case "attach": {
      if (w.hwpts.length >= 2) return 1;
      const d = createPtDomain("amdv1", { allocator: new TableAllocator() });
      d.pgsizeBitmap = SZ_4K | SZ_2M;
      const id = ictx.attachDomain(w.ioas, d);
      if (id > 0) w.hwpts.push(id);
      return Math.min(id, 0);
    }
    case "detach": {
      if (!w.hwpts.length) return 1;
      return ictx.destroy(w.hwpts.splice(op.which % w.hwpts.length, 1)[0]!);
    }
    case "pin": {
      // Huge pins end just past a 2 MiB boundary of the aligned maps: across two leaves.
      const off = op.huge
        ? HUGE_OFF + ((op.slot % 3) + 1) * SZ_2M - ((op.slot % 4) + 1) * PAGE_SIZE
        : op.slot * PAGE_SIZE;
      return Math.min(ictx.accessPages(w.access, at(w, off), op.npages * PAGE_SIZE), 0);
    }
    case "unpin": {
      const live = ictx.access(w.access)!.items.map((i) => i.id);
      if (!live.length) return 1;
      return ictx.accessDestroyPages(w.access, live[op.which % live.length]!);
    }
  }
}

/** The world's state with every IOVA made relative to its window. */
function relState(w: World): unknown {
  const { ictx } = w;
  const iopt = ictx.ioasOf(w.ioas).iopt;
  const areas = iopt.areas.map((a) => ({
    off: Number(toBigInt(a.iova) - w.base),
    length: a.length,
    index: a.index,
    lastIndex: a.lastIndex,
    pageOffset: a.pageOffset,
    storage: a.storageDomain ? iopt.domains.indexOf(a.storageDomain) : -1,
    numAccesses: a.numAccesses,
    npinned: a.pages?.npinned,
    // Every domain maps the area's first and last byte to the user memory behind them.
    phys: iopt.domains.map((d) =>
      [0, a.length - 1].map((o) => {
        const r = iommuIovaToPhysLength(d, toBigInt(a.iova) + BigInt(o));
        return r.mapped ? r.physNumber : -1;
      }),
    ),
  }));
  const items = ictx.access(w.access)!.items.map((i) => [Number(toBigInt(i.iova) - w.base), [...i.pfns]]);
  const c = ictx.counters;
  return {
    areas,
    items,
    counters: [c.iovaToPhys, c.mapCalls, c.unmapCalls, c.iotlbSync, c.batchFull, c.gupCalls],
    pinned: ictx.mm.memory.pinned,
    lockedVm: ictx.user.lockedVm,
    warns: ictx.warns.warns,
  };
}

describe("iommufd property: the IOAS behaves the same anywhere in the 64-bit IOVA space", () => {
  for (const mode of READ_BACK_MODES)
    it.each(HIGHS)(`${mode}: %s equals the window at 2^40, step by step`, (_, high) => {
      const stats = { ops: 0, ok: 0 };
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 5, maxLength: 25 }), (ops) => {
          const lo = world(mode, LOW);
          const hi = world(mode, high);
          for (const op of ops) {
            const rl = step(lo, op);
            const rh = step(hi, op);
            if (rl === 1) continue;
            stats.ops++;
            if (rl === 0) stats.ok++;
            expect(rh).toBe(rl);
            expect(relState(hi)).toEqual(relState(lo));
          }
          for (const w of [lo, hi])
            expect(teardown(w.ictx)).toEqual({ pinned: 0, lockedVm: 0, pinnedVm: 0, warns: 0 });
        }),
        { numRuns: 100, seed: 0x64b17 },
      );
      // The sequences do real work (no-ops are not counted): most executed operations succeed.
      console.log(`iova64 property (${mode}): ${JSON.stringify(stats)}`);
      expect(stats.ops).toBeGreaterThan(300);
      expect(stats.ok).toBeGreaterThan(stats.ops / 3);
    });
});
