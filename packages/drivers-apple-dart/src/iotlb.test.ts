/**
 * The core's IOTLB model on DART domains, fed by the TLB commands the driver writes (a whole
 * stream per command): random sequences run clean on T8103 and T8110; a dropped command is
 * caught as a sync that returned with stale entries.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, IotlbChecker, PhysLength, SZ_4K } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppleDart, type AppleDartTlbCommand } from "./apple-dart.js";
import type { AppleDartDomain } from "./domain.js";
import { type AppleDartIotlbFeedOptions, appleDartIotlbFeed, appleDartIotlbModel } from "./iotlb.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const BASE = 0x4000_0000;

function setup(variant: "t8103" | "t8110", feed: AppleDartIotlbFeedOptions = {}, capacity = 64) {
  const dart = new AppleDart({ variant, pgsize: SZ_4K, ...(variant === "t8110" ? { numSids: 4 } : {}) });
  const d = dart.device([0, 2]).domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(String(d));
  const model = appleDartIotlbModel(d, { capacity, walkCache: 8 });
  return { d, c: new IotlbChecker(d, model, appleDartIotlbFeed(d, feed)) };
}

type Op = { t: "map" | "unmap"; page: number; n: number } | { t: "access"; page: number; write: boolean };
const PAGES = 1024;
/** A small window, so maps, unmaps and accesses meet. */
const pageArb = fc.nat(31);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constantFrom("map" as const, "unmap" as const),
    page: pageArb,
    n: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ t: fc.constant("access" as const), page: pageArb, write: fc.boolean() }),
);

function runClean(d: AppleDartDomain, c: IotlbChecker, ops: readonly Op[]): void {
  const truth = new PhysLength();
  for (const o of ops) {
    const iova = BASE + o.page * SZ_4K;
    if (o.t === "access") {
      const r = c.access(iova + 0x10, o.write ? "write" : "read");
      d.ops!.iovaToPhysLength!(d, iova + 0x10, truth);
      expect(r.ok).toBe(truth.mapped);
      if (r.ok) expect(r.phys).toBe(truth.physNumber);
      continue;
    }
    const size = Math.min(o.n, PAGES - o.page) * SZ_4K;
    if (o.t === "unmap") c.unmap(iova, size);
    else
      try {
        c.map(iova, iova, size, RW);
      } catch (e) {
        if (!(e instanceof IommuError)) throw e;
      }
  }
  expect(c.findings).toEqual([]);
}

describe("DART under the IOTLB checker: random sequences run clean", () => {
  it.each(["t8103", "t8110"] as const)("%s", (variant) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(variant, {}, capacity);
          runClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 60 },
    );
    // Not vacuous: hits, walk-cache use, evictions and invalidations all happened.
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("broken variant", () => {
  it.each(["t8103", "t8110"] as const)(
    "%s: the unmap's stream invalidation dropped → sync-stale, then stale-access",
    (variant) => {
      let drop = false;
      const rewrite = (x: AppleDartTlbCommand) => (drop ? null : x);
      const { c } = setup(variant, { rewrite });
      c.map(BASE, BASE, 2 * SZ_4K, RW);
      c.access(BASE + SZ_4K);
      drop = true;
      c.unmap(BASE, 2 * SZ_4K);
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({
        kind: "sync-stale",
        op: "unmap",
        cache: "iotlb",
        iova: BASE + SZ_4K,
        size: SZ_4K,
        cause: { op: "unmap", iova: BASE, size: 2 * SZ_4K },
      });
      c.access(BASE + SZ_4K);
      expect(c.findings[1]).toMatchObject({ kind: "stale-access", iova: BASE + SZ_4K });
    },
  );
});
