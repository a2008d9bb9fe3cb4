/**
 * Test scaffolding: a container over LPAE-like domains, failure injection, and the
 * consistency check every test runs after bad input (pins, locked_vm, page tables and the
 * tracked dma list must agree).
 */
import { type IommuDomain, type IommuDomainOps, PAGE_SIZE } from "@iommu/core";
import { expect } from "vitest";
import type { UnmapMode } from "../context.js";
import { UserMm, type UserMmOptions } from "../mm.js";
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from "../uapi.js";
import { type VfioDomainRequest, VfioIommu, type VfioIommuOptions } from "../vfio-iommu.js";
import { createLpaeLikeDomain, type LpaeLikeDomain, leavesOf, lpaeLikeOps } from "./lpae-like-domain.js";

export const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
export const V = 0x7f00_0000_0000;

/** Make the n-th map_pages call (counting from 1, over every domain of the driver) fail. */
export interface FailPlan {
  driver: number | string;
  nth: number;
  errno: number;
}

export interface Setup {
  mm: UserMm;
  c: VfioIommu;
  /** Every domain the provider handed out, in order. */
  allocated: LpaeLikeDomain[];
  fail: FailPlan | null;
}

export function setup(
  opts: Partial<VfioIommuOptions> & { mmOptions?: UserMmOptions; unmapMode?: UnmapMode } = {},
): Setup {
  const mm = opts.mm ?? new UserMm(opts.mmOptions);
  const s: Setup = { mm, c: undefined as unknown as VfioIommu, allocated: [], fail: null };
  const failingOps = new Map<number | string, IommuDomainOps<LpaeLikeDomain>>();
  let mapCalls = 0;
  const provider = {
    allocDomain(req: VfioDomainRequest): IommuDomain | number {
      if (typeof req.options.errno === "number") return req.options.errno;
      const d = createLpaeLikeDomain(req.driver, {
        ias: req.options.ias as number | undefined,
        pgsizeBitmap: req.options.pgsizes as number | undefined,
        counters: mm.counters,
      });
      // A per-driver ops copy that can fail on demand keeps the driver identity stable.
      let ops = failingOps.get(req.driver);
      if (!ops) {
        const base = lpaeLikeOps(req.driver);
        ops = {
          ...base,
          mapPages(dom, iova, paddr, pgsize, pgcount, prot, gfp, mapped) {
            const f = s.fail;
            if (f && f.driver === req.driver && ++mapCalls === f.nth) return f.errno;
            return base.mapPages(dom, iova, paddr, pgsize, pgcount, prot, gfp, mapped);
          },
        };
        failingOps.set(req.driver, ops);
      }
      d.ops = ops;
      s.allocated.push(d);
      return d;
    },
  };
  s.c = new VfioIommu({ mm, provider, ...opts });
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
