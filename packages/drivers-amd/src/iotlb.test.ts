/**
 * The core's IOTLB model on AMD-Vi domains, fed by the commands the driver really queues
 * (amd_iommu_iotlb_sync → INVALIDATE_IOMMU_PAGES + COMPLETION_WAIT): random sequences run
 * clean on v1 and v2 tables; broken variants (a gather that drops a page, PDE clear after a
 * table was freed, a missing COMPLETION_WAIT) are each caught with the right diagnosis.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbChecker,
  type IotlbFinding,
  type IotlbGather,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { iotlbOpArb, runIotlbClean } from "@iommu/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AmdIommu } from "./amd-iommu.js";
import { type AmdCmd, CMD_COMPL_WAIT, CMD_INV_IOMMU_PAGES } from "./cmd.js";
import type { AmdPdMode, ProtectionDomain } from "./domain.js";
import { type AmdIotlbFeedOptions, amdDecodeCmd, amdIotlbFeed, amdIotlbModel } from "./iotlb.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(mode: AmdPdMode = "v1", feed: AmdIotlbFeedOptions = {}, capacity = 64) {
  const u = new AmdIommu({ cmdline: { pgtbl: mode } });
  const d = u.domainAllocPaging();
  expect(d.pdMode).toBe(mode);
  expect(u.attachDev(d)).toBe(0);
  const model = amdIotlbModel(d, { capacity, walkCache: 16 });
  return { d, c: new IotlbChecker(d, model, amdIotlbFeed(u, feed)) };
}

describe("AMD-Vi under the IOTLB checker: random sequences run clean", () => {
  it.each([
    ["v1 (amdv1) table", "v1"],
    ["v2 (x86_64) table, GN commands", "v2"],
  ] as const)("%s", (_name, mode) => {
    const seen = { hits: 0, walkCacheHits: 0, evictions: 0, invalidations: 0 };
    fc.assert(
      fc.property(
        fc.array(iotlbOpArb, { minLength: 20, maxLength: 80 }),
        fc.integer({ min: 1, max: 16 }),
        (ops, capacity) => {
          const { d, c } = setup(mode, {}, capacity);
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
  const cmd = (address: bigint, s: boolean): AmdCmd => ({
    type: CMD_INV_IOMMU_PAGES,
    data: [0, 0, 0, 0],
    domid: 7,
    pasid: 0,
    address,
    s,
    pde: true,
    gn: false,
    devid: 0,
  });
  it.each([
    // build_inv_address encodings (see tlb.test.ts): 2M at 1G sets bits 12..19.
    ["one page", 0x4000_0000n, false, 0x4000_0000, SZ_4K],
    ["2M at 0x4000_0000", 0x400f_f000n, true, 0x4000_0000, SZ_2M],
    ["16K at 0 (8K at 0x1000 widened)", 0x1000n, true, 0, 0x4000],
  ] as const)("%s", (_n, address, s, iova, size) => {
    expect(amdDecodeCmd(cmd(address, s))).toMatchObject({
      scope: "range",
      tag: 7,
      iova,
      size,
      leafOnly: false,
    });
  });
  it("all pages → the whole domain id; COMPLETION_WAIT → sync", () => {
    expect(amdDecodeCmd(cmd(0x7fff_ffff_ffff_f000n, true))).toMatchObject({ scope: "tag", tag: 7 });
    expect(amdDecodeCmd({ ...cmd(0n, false), type: CMD_COMPL_WAIT })).toBe("sync");
  });
});

describe("over-invalidation", () => {
  it("two pages straddling an 8K boundary: build_inv_address widens to 16K at 0 (ratio 2)", () => {
    const { c } = setup();
    c.map(0x1000, 0x8000_1000, 2 * SZ_4K, RW);
    c.unmap(0x1000, 2 * SZ_4K);
    expect(c.overInvalidation()).toMatchObject({ bytesUnmapped: 0x2000, bytesInvalidated: 0x4000, ratio: 2 });
    expect(c.findings).toEqual([]);
  });
});

function dropLastGatherPage(d: ProtectionDomain): void {
  const ops = d.ops;
  const sync = ops.iotlbSync!;
  d.ops = {
    ...ops,
    iotlbSync(dom: ProtectionDomain, g: IotlbGather) {
      if (g.endExcl - g.start > SZ_4K) g.endExcl -= SZ_4K;
      sync.call(ops, dom, g);
    },
  };
}

interface Variant {
  name: string;
  mode?: AmdPdMode;
  feed?: AmdIotlbFeedOptions;
  patch?: (d: ProtectionDomain) => void;
  map: [number, number];
  unmap: [number, number];
  /** A map after the unmap (generic_pt frees tables when a block replaces them, not on unmap). */
  remap?: [number, number];
  touch: number;
  diagnosis: Partial<IotlbFinding> | null;
  thenAccess: Partial<IotlbFinding> | null;
}

const pdeClear = (c: AmdCmd): AmdCmd => ({ ...c, pde: false });
const noWait = (c: AmdCmd): AmdCmd | null => (c.type === CMD_COMPL_WAIT ? null : c);

const VARIANTS: Variant[] = [
  {
    name: "correct driver (control)",
    map: [0x1000, 0x2000],
    touch: 0x2000,
    unmap: [0x1000, 0x2000],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "correct driver, a block replaces an emptied table (control)",
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_4K],
    remap: [0x20_0000, SZ_2M],
    diagnosis: null,
    thenAccess: null,
  },
  {
    name: "gather drops its last page",
    patch: dropLastGatherPage,
    map: [0x1000, 0x2000],
    touch: 0x2000,
    unmap: [0x1000, 0x2000],
    diagnosis: { kind: "sync-stale", op: "unmap", cache: "iotlb", iova: 0x2000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x2000 },
  },
  {
    name: "PDE clear (leaf only) after a table was freed",
    feed: { rewrite: pdeClear },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_4K],
    remap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "map", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "PDE clear after a table was freed, v2 table",
    mode: "v2",
    feed: { rewrite: pdeClear },
    map: [0x20_0000, SZ_4K],
    touch: 0x20_0000,
    unmap: [0x20_0000, SZ_4K],
    remap: [0x20_0000, SZ_2M],
    diagnosis: { kind: "sync-stale", op: "map", cache: "walk", iova: 0x20_0000, size: SZ_2M },
    thenAccess: { kind: "stale-walk", op: "access", cache: "walk", iova: 0x20_0000 },
  },
  {
    name: "missing COMPLETION_WAIT",
    feed: { rewrite: noWait },
    map: [0x1000, SZ_4K],
    touch: 0x1000,
    unmap: [0x1000, SZ_4K],
    diagnosis: { kind: "missing-sync", op: "unmap", cache: "iotlb", iova: 0x1000, size: SZ_4K },
    thenAccess: { kind: "stale-access", op: "access", cache: "iotlb", iova: 0x1000 },
  },
];

describe("broken variants are caught with the right diagnosis", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { d, c } = setup(v.mode ?? "v1", v.feed ?? {});
    v.patch?.(d);
    c.map(v.map[0], 0x8000_0000 + v.map[0], v.map[1], RW);
    for (let va = v.map[0]; va < v.map[0] + v.map[1]; va += SZ_4K) c.access(va);
    expect(c.findings).toEqual([]);
    c.unmap(v.unmap[0], v.unmap[1]);
    if (v.remap) c.map(v.remap[0], 0x8000_0000 + v.remap[0], v.remap[1], RW);
    const last = v.remap ?? v.unmap;
    if (v.diagnosis === null) expect(c.findings).toEqual([]);
    else {
      expect(c.findings).toHaveLength(1);
      expect(c.findings[0]).toMatchObject({ ...v.diagnosis, cause: { op: v.diagnosis.op, iova: last[0] } });
    }
    c.access(v.touch);
    const after = c.findings.slice(v.diagnosis ? 1 : 0);
    if (v.thenAccess === null) expect(after).toEqual([]);
    else expect(after[0]).toMatchObject(v.thenAccess);
  });
});
