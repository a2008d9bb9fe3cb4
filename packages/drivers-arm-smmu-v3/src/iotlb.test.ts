/**
 * The core's IOTLB model on SMMUv3 domains, fed by the commands the driver really queues:
 * random map/unmap/access sequences stay coherent and clean; deliberately broken variants
 * (a gather that drops a page, leaf-only invalidation after a table was freed, a missing
 * CMD_SYNC) are each caught with the right diagnosis.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IotlbChecker,
  type IotlbFinding,
  type IotlbGather,
  iommuPagingDomainAllocFlags,
  PhysMem,
  SZ_2M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArmSmmuV3, type ArmSmmuV3Options } from "./arm-smmu-v3.js";
import type { CmdqEntry } from "./cmdq.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  type ArmSmmuV3IotlbFeedOptions,
  armSmmuV3DecodeTlbi,
  armSmmuV3IotlbFeed,
  armSmmuV3IotlbModel,
} from "./iotlb.js";
import { CMDQ_OP_CMD_SYNC } from "./regs.js";
import { armSmmuTlbInvRangeDomain } from "./tlb.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(
  hw: ArmSmmuV3Options = {},
  feed: ArmSmmuV3IotlbFeedOptions = {},
  capacity = 64,
  walkCache = 16,
) {
  const smmu = new ArmSmmuV3(hw);
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  const d = iommuPagingDomainAllocFlags(smmu, 0, { allocator, counters }) as ArmSmmuDomain;
  const model = armSmmuV3IotlbModel(d, { capacity, walkCache });
  return { d, c: new IotlbChecker(d, model, armSmmuV3IotlbFeed(d, feed)) };
}

describe("SMMUv3 under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["stage 1, per-granule TLBI", {}],
    ["stage 1, range invalidation (FEAT_RANGE_INV)", { rangeInv: true }],
    ["stage 2, per-granule TLBI_S2_IPA", { stage1: false }],
    ["stage 2, range invalidation", { stage1: false, rangeInv: true }],
  ] as const)("%s", (_name, hw) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(hw, {}, capacity, 8);
          runIotlbClean(d, c, ops);
          for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += c.model.stats[k];
        },
      ),
      { numRuns: 60 },
    );
    // Not vacuous: hits, walk-cache use, evictions and invalidations all happened.
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});

describe("command decoding", () => {
  it("a range TLBI names the bytes and the TTL level the kernel encoded", () => {
    const { d } = setup({ rangeInv: true });
    const mark = d.smmu.cmdq.prod;
    // 2 MiB of 4 KiB leaves: NUM=0 (one unit), SCALE=9, TG=4K, TTL=3.
    armSmmuTlbInvRangeDomain(0x20_0000, SZ_2M, SZ_4K, true, d);
    const [tlbi, sync] = d.smmu.cmdq.log(mark);
    expect(armSmmuV3DecodeTlbi(tlbi!, "s1")).toMatchObject({
      scope: "range",
      tag: d.asid,
      iova: 0x20_0000,
      size: SZ_2M,
      leafOnly: true,
      leafSize: SZ_4K,
    });
    expect(armSmmuV3DecodeTlbi(sync!, "s1")).toBe("sync");
    // Stage-1 commands do not touch a stage-2 model.
    expect(armSmmuV3DecodeTlbi(tlbi!, "s2")).toBeNull();
  });

  it("a device write to a read-only leaf is a permission fault (prot from the inspector's leaf)", () => {
    const { c } = setup();
    c.map(0x1000, 0x8000_1000, SZ_4K, IOMMU_READ);
    expect(c.access(0x1000, "read")).toMatchObject({ ok: true, hit: false, phys: 0x8000_1000 });
    expect(c.access(0x1000, "write")).toMatchObject({ ok: false, hit: true, permissionFault: true });
    expect(c.model.stats.faults).toBe(1);
  });

  it("without RIL one page per command; over-invalidation counts the bytes named", () => {
    const { c } = setup();
    c.map(0x20_0000, 0x8000_0000, SZ_4K, RW);
    c.access(0x20_0000);
    // Unmapping the 2 MiB window removes the table: tlb_flush_walk issues 512 non-leaf
    // TLBIs; __arm_lpae_unmap then still gathers the cleared entry as a 2 MiB "page", so
    // iotlb_sync adds one leaf TLBI (one address without RIL: one page named).
    expect(c.unmap(0x20_0000, SZ_2M)).toBe(SZ_2M);
    expect(c.overInvalidation()).toMatchObject({
      bytesUnmapped: SZ_2M,
      bytesInvalidated: 513 * SZ_4K,
      ratio: 513 / 512,
    });
    expect(c.findings).toEqual([]);
  });
});

/** A gather that loses its last page before iotlb_sync sees it. */
function dropLastGatherPage(d: ArmSmmuDomain): void {
  const ops = d.ops!;
  const sync = ops.iotlbSync!;
  d.ops = {
    ...ops,
    iotlbSync(dom: ArmSmmuDomain, g: IotlbGather) {
      if (g.pgsize && g.endExcl - g.start > g.pgsize) g.endExcl -= g.pgsize;
      sync.call(ops, dom, g);
    },
  };
}

type Variant = {
  name: string;
  hw?: ArmSmmuV3Options;
  feed?: ArmSmmuV3IotlbFeedOptions;
  patch?: (d: ArmSmmuDomain) => void;
  /** Map, touch, then unmap. */
  map: [iova: number, size: number];
  unmap: [iova: number, size: number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
};

const leafOnly = (e: CmdqEntry): CmdqEntry => ({ ...e, leaf: true });
const noSync = (e: CmdqEntry): CmdqEntry | null => (e.opcode === CMDQ_OP_CMD_SYNC ? null : e);
/** TTL naming level 2 (2 MiB leaves) for what are 4 KiB leaves: the hardware may skip them. */
const wrongTtl = (e: CmdqEntry): CmdqEntry => (e.ttl !== 0 ? { ...e, ttl: 2 } : e);

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "gather drops its last page",
    patch: dropLastGatherPage,
    map: [0x1000, 2 * SZ_4K],
    touch: 0x2000,
    unmap: [0x1000, 2 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "gather drops its last page (RIL)",
    hw: { rangeInv: true },
    patch: dropLastGatherPage,
    map: [0x1000, 3 * SZ_4K],
    touch: 0x3000,
    unmap: [0x1000, 3 * SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x3000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x3000 },
  },
  {
    name: "leaf-only invalidation after a table was freed",
    feed: { rewrite: leafOnly },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "leaf-only invalidation after a table was freed (RIL)",
    hw: { rangeInv: true },
    feed: { rewrite: leafOnly },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "range TLBI with the wrong TTL level (RIL)",
    hw: { rangeInv: true },
    feed: { rewrite: wrongTtl },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
  {
    name: "missing CMD_SYNC",
    feed: { rewrite: noSync },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { d, c } = setup(v.hw ?? {}, v.feed ?? {});
    v.patch?.(d);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
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
});
