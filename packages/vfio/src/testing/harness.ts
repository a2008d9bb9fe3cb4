/**
 * Test scaffolding: a container whose groups sit behind LPAE-like test drivers, failure
 * injection, and the consistency check every test runs after bad input (pins, locked_vm,
 * page tables and the tracked dma list must agree).
 */
import { type IommuDomainOps, type IommuDriver, PAGE_SIZE } from "@iommu/core";
import { expect } from "vitest";
import type { UnmapMode } from "../context.js";
import { UserMm, type UserMmOptions } from "../mm.js";
import type { VfioAttachOptions } from "../state.js";
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from "../uapi.js";
import { VfioIommu, type VfioIommuOptions } from "../vfio-iommu.js";
import {
  createLpaeLikeDriver,
  type LpaeLikeDomain,
  type LpaeLikeOptions,
  leavesOf,
  lpaeLikeOps,
} from "./lpae-like-domain.js";

export const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
export const V = 0x7f00_0000_0000;

/** Make the n-th map_pages call (counting from 1, over every domain of the driver) fail. */
export interface FailPlan {
  driver: number | string;
  nth: number;
  errno: number;
}

/** A test driver's hardware: input address bits and page sizes (default 48, 4K|2M|1G). */
export type TestDriverHw = Pick<LpaeLikeOptions, "ias" | "pgsizeBitmap">;

export interface Setup {
  mm: UserMm;
  c: VfioIommu;
  /** Every domain the test drivers handed out, in order. */
  allocated: LpaeLikeDomain[];
  fail: FailPlan | null;
  /**
   * The test driver instance of IOMMU unit `unit` with hardware `hw`: every instance of one
   * unit shares one ops table, so type1 puts their groups into one domain.
   */
  driver(unit: number | string, hw?: TestDriverHw): IommuDriver<LpaeLikeDomain>;
}

/**
 * The container under test. A group attached without a driver (and not emulated) sits behind
 * the test driver of unit = its group id: a new IOMMU per group unless the test says otherwise.
 */
class TestContainer extends VfioIommu {
  constructor(
    opts: VfioIommuOptions,
    private readonly defaultDriver: (group: number) => IommuDriver,
  ) {
    super(opts);
  }

  override attachGroup(groupId: number, opts: VfioAttachOptions = {}): number {
    if (opts.emulated || opts.driver) return super.attachGroup(groupId, opts);
    return super.attachGroup(groupId, { ...opts, driver: this.defaultDriver(groupId) });
  }
}

export function setup(
  opts: Partial<VfioIommuOptions> & { mmOptions?: UserMmOptions; unmapMode?: UnmapMode } = {},
): Setup {
  const mm = opts.mm ?? new UserMm(opts.mmOptions);
  const failingOps = new Map<number | string, IommuDomainOps<LpaeLikeDomain>>();
  let mapCalls = 0;
  const s: Setup = {
    mm,
    c: undefined as unknown as VfioIommu,
    allocated: [],
    fail: null,
    driver(unit, hw = {}) {
      const base = createLpaeLikeDriver(unit, { ...hw, counters: mm.counters });
      return {
        ...base,
        domainAllocPagingFlags(flags, options) {
          const d = base.domainAllocPagingFlags(flags, options);
          if (typeof d === "number") return d;
          // A per-unit ops copy that can fail on demand keeps the driver identity stable.
          let ops = failingOps.get(unit);
          if (!ops) {
            const o = lpaeLikeOps(unit);
            ops = {
              ...o,
              mapPages(dom, iova, paddr, pgsize, pgcount, prot, gfp, mapped) {
                const f = s.fail;
                if (f && f.driver === unit && ++mapCalls === f.nth) return f.errno;
                return o.mapPages(dom, iova, paddr, pgsize, pgcount, prot, gfp, mapped);
              },
            };
            failingOps.set(unit, ops);
          }
          d.ops = ops;
          s.allocated.push(d);
          return d;
        },
      };
    },
  };
  s.c = new TestContainer({ mm, ...opts }, (group) => s.driver(group));
  return s;
}

/** Arm failure injection for `driver`'s next map_pages calls. */
export function failNthMap(s: Setup, driver: number | string, nth: number, errno = -12): void {
  s.fail = { driver, nth, errno };
}

/** Map helper: returns the errno. */
export function map(c: VfioIommu, vaddr: number, iova: number, size: number, flags = RW): number {
  return c.mapDma({ flags, vaddr, iova, size });
}

/** Unmap helper: [errno, bytes unmapped]. */
export function unmap(
  c: VfioIommu,
  iova: number | bigint,
  size: number | bigint,
  flags = 0,
): [number, number] {
  const req = { flags, iova, size };
  const ret = c.unmapDma(req);
  return [ret, ret ? 0 : Number(req.size)];
}

/**
 * The invariant: every domain maps exactly the tracked dmas, page by page onto the frames
 * backing their vaddrs; pins and locked_vm equal what the dmas hold.
 */
export function expectConsistent(s: Setup): void {
  const { c, mm } = s;
  const dmas = c.dmaList();
  const hasDomain = c.domainList.length > 0;
  let pages = 0;
  let locked = 0;
  for (const d of dmas) {
    if (hasDomain || d.iommuMapped) pages += d.size / PAGE_SIZE;
    locked += d.lockedVm;
    if (hasDomain) expect(d.lockedVm).toBe(d.size / PAGE_SIZE);
  }
  expect(mm.pinned).toBe(pages);
  expect(mm.lockedVm).toBe(locked);
  for (const vd of c.domainList) {
    const dom = vd.domain as LpaeLikeDomain;
    expect(dom.freed).toBe(false);
    let bytes = 0;
    for (const [iova, phys, len] of leavesOf(dom)) {
      const dma = dmas.find((x) => x.iova <= iova && iova + len <= x.iova + x.size);
      expect(dma, `leaf at 0x${iova.toString(16)} outside every dma`).toBeDefined();
      for (let off = 0; off < len; off += len > PAGE_SIZE ? len / 4 : PAGE_SIZE)
        expect(phys + off).toBe(mm.memory.translate(dma!.vaddr + iova - dma!.iova + off));
      bytes += len;
    }
    expect(bytes).toBe(dmas.reduce((a, d) => a + d.size, 0));
  }
  for (const d of s.allocated) if (!c.domainList.some((x) => x.domain === d)) expect(d.freed).toBe(true);
}
