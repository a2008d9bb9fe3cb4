import { describe, expect, it } from "vitest";
import { expectConsistent, failNthMap, map, RW, setup, unmap, V } from "./testing/harness.js";
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_TYPE1_IOMMU,
} from "./uapi.js";
import { PAGE_MASK_BITMAP, VfioIommu } from "./vfio-iommu.js";

const EINVAL = -22;
const EEXIST = -17;
const ENOSPC = -28;
const ENOMEM = -12;
const EFAULT = -14;
const ENOENT = -2;
const EBUSY = -16;
const EOVERFLOW = -75;
const EPERM = -1;
const MiB2 = 0x200000;

function withMem(kind: "scattered" | "thp" | "hugetlb2m" = "hugetlb2m", size = 4 * MiB2, extra = {}) {
  const s = setup(extra);
  s.mm.memory.addRegion({ vaddr: V, size, kind, seed: 7 });
  return s;
}

describe("VFIO_IOMMU_MAP_DMA validation", () => {
  it("checks argsz and flags first", () => {
    const { c } = withMem();
    c.attachGroup(1);
    expect(c.mapDma({ argsz: 31, flags: RW, vaddr: V, iova: 0, size: 0x1000 })).toBe(EINVAL);
    expect(c.mapDma({ flags: RW | 8, vaddr: V, iova: 0, size: 0x1000 })).toBe(EINVAL);
  });

  it("size 0 is EINVAL, wrapping iova or vaddr is EOVERFLOW (before alignment)", () => {
    const s = withMem();
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, 0)).toBe(EINVAL);
    expect(s.c.mapDma({ flags: RW, vaddr: V, iova: 2n ** 64n - 0x800n, size: 0x1000 })).toBe(EOVERFLOW);
    expect(s.c.mapDma({ flags: RW, vaddr: 2n ** 64n - 0x1000n, iova: 0, size: 0x2000 })).toBe(EOVERFLOW);
    expect(s.c.mapDma({ flags: RW, vaddr: V, iova: 0, size: 2n ** 64n })).toBe(EOVERFLOW);
    expectConsistent(s);
  });

  it("needs exactly one of prot and VADDR", () => {
    const { c } = withMem();
    c.attachGroup(1);
    expect(map(c, V, 0, 0x1000, 0)).toBe(EINVAL);
    expect(map(c, V, 0, 0x1000, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR)).toBe(EINVAL);
  });

  it("aligns iova, vaddr and size to the smallest IOMMU page size", () => {
    const s = withMem();
    s.c.attachGroup(1);
    expect(map(s.c, V + 0x800, 0, 0x1000)).toBe(EINVAL);
    expect(map(s.c, V, 0x800, 0x1000)).toBe(EINVAL);
    expect(map(s.c, V, 0, 0x1800)).toBe(EINVAL);
    // Without a domain the bitmap is PAGE_MASK: still 4 KiB.
    const t = withMem();
    expect(t.c.pgsizeBitmap).toBe(PAGE_MASK_BITMAP);
    expect(map(t.c, V, 0x800, 0x1000)).toBe(EINVAL);
  });

  it("refuses overlap with EEXIST before ENOSPC, then ENOSPC at the entry limit", () => {
    const s = withMem("hugetlb2m", 4 * MiB2, { dmaEntryLimit: 1 });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0x40000000, MiB2)).toBe(0);
    expect(map(s.c, V + MiB2, 0x40000000 + MiB2 - 0x1000, 0x2000)).toBe(EEXIST);
    expect(map(s.c, V + MiB2, 0x3ffff000, 0x2000)).toBe(EEXIST);
    expect(map(s.c, V + MiB2, 0x80000000, MiB2)).toBe(ENOSPC);
    expect(s.c.dmaAvail).toBe(0);
    expectConsistent(s);
  });

  it("refuses an iova outside the windows with EINVAL", () => {
    const s = withMem();
    expect(s.c.attachGroup(1, { driver: s.driver(1, { ias: 32 }) })).toBe(0);
    expect(map(s.c, V, 2 ** 32 - 0x1000, 0x2000)).toBe(EINVAL);
    expect(map(s.c, V, 2 ** 32 - 0x2000, 0x2000)).toBe(0);
    expectConsistent(s);
  });

  it("fails RLIMIT_MEMLOCK with ENOMEM and leaves nothing pinned or mapped", () => {
    const s = withMem("scattered", 0x10000, { mmOptions: { rlimitMemlock: 0x4000 } });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, 0x8000)).toBe(ENOMEM);
    expect(s.mm.pinned).toBe(0);
    expect(s.mm.lockedVm).toBe(0);
    expect(s.c.dmaAvail).toBe(65535);
    expectConsistent(s);
    expect(map(s.c, V, 0, 0x4000)).toBe(0);
    expect(s.mm.lockedVm).toBe(4);
    expect(map(s.c, V + 0x4000, 0x4000, 0x1000)).toBe(ENOMEM);
    expectConsistent(s);
  });

  it("fails a contiguous chunk over the limit in one piece (hugetlb)", () => {
    const s = withMem("hugetlb2m", MiB2, { mmOptions: { rlimitMemlock: 0x100000 } });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, MiB2)).toBe(ENOMEM);
    expect(s.c.vfioCounters.mapCalls).toBe(0);
    expectConsistent(s);
  });

  it("CAP_IPC_LOCK bypasses the limit but still counts locked_vm", () => {
    const s = withMem("hugetlb2m", MiB2, { mmOptions: { rlimitMemlock: 0, capIpcLock: true } });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, MiB2)).toBe(0);
    expect(s.mm.lockedVm).toBe(512);
    expectConsistent(s);
  });

  it("GUP failures: a hole in the range and a read-only region under write give EFAULT", () => {
    const s = setup();
    s.mm.memory.addRegion({ vaddr: V, size: 0x3000, kind: "scattered" });
    s.mm.memory.addRegion({ vaddr: V + 0x10000, size: 0x3000, kind: "scattered", seed: 2, readOnly: true });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, 0x4000)).toBe(EFAULT);
    // Pages 0 and 1 were mapped as runs; page 2's run tried to grow into the hole, so that
    // vfio_pin_pages_remote call failed as a whole: two maps, then everything undone.
    expect(s.c.vfioCounters.mapCalls).toBe(2);
    expectConsistent(s);
    expect(map(s.c, V + 0x10000, 0, 0x3000, VFIO_DMA_MAP_FLAG_WRITE)).toBe(EFAULT);
    expect(map(s.c, V + 0x10000, 0, 0x3000, VFIO_DMA_MAP_FLAG_READ)).toBe(0);
    expectConsistent(s);
  });

  it("an iommu_map failure in a later domain unwinds the earlier ones", () => {
    const s = withMem("thp", 4 * MiB2);
    s.c.attachGroup(1);
    s.c.attachGroup(2); // another driver: second domain (now first in the list)
    expect(s.c.domainList).toHaveLength(2);
    // domain_list order is [group 2's, group 1's]; fail the second chunk in group 1's domain.
    failNthMap(s, 1, 2);
    const before = s.c.vfioCounters.snapshot();
    expect(map(s.c, V, 0x40000000, 4 * MiB2)).toBe(ENOMEM);
    const k = s.c.vfioCounters;
    expect(k.mapCalls - before.mapCalls).toBe(4); // chunk 1 in both, chunk 2 in domain A and failing B
    expectConsistent(s);
  });

  it("updates the vaddr of an invalidated mapping (FLAG_VADDR) and blocks attach meanwhile", () => {
    const s = withMem();
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, MiB2)).toBe(0);
    expect(map(s.c, V + MiB2, 0, MiB2, VFIO_DMA_MAP_FLAG_VADDR)).toBe(EINVAL); // not invalidated
    expect(map(s.c, V + MiB2, 0x10000000, MiB2, VFIO_DMA_MAP_FLAG_VADDR)).toBe(ENOENT);
    expect(unmap(s.c, 0, MiB2, VFIO_DMA_UNMAP_FLAG_VADDR)).toEqual([0, MiB2]);
    expect(s.c.vaddrInvalidCount).toBe(1);
    expect(s.c.attachGroup(2)).toBe(EBUSY);
    expect(map(s.c, V + MiB2, 0, 0x1000, VFIO_DMA_MAP_FLAG_VADDR)).toBe(EINVAL); // size differs
    expect(map(s.c, V + MiB2, 0, MiB2, VFIO_DMA_MAP_FLAG_VADDR)).toBe(0);
    expect(s.c.dmaList()[0]!.vaddr).toBe(V + MiB2);
    expect(s.c.vaddrInvalidCount).toBe(0);
  });

  it("grows one chunk across batch refills; disable_hugepages pins page by page", () => {
    const big = setup();
    big.mm.memory.addRegion({ vaddr: V, size: 0x40000000, kind: "hugetlb1g", seed: 3 });
    big.c.attachGroup(1);
    expect(map(big.c, V, 0x40000000, 0x40000000)).toBe(0);
    expect(big.c.vfioCounters.mapCalls).toBe(1); // 512 batches, one physically contiguous chunk
    expect(big.mm.lockedVm).toBe(262144);
    const one = withMem("hugetlb2m", MiB2, { disableHugepages: true });
    one.c.attachGroup(1);
    expect(map(one.c, V, 0, MiB2)).toBe(0);
    expect(one.c.vfioCounters.mapCalls).toBe(512);
    expectConsistent(one);
  });

  it("charges locked_vm per chunk: the second 2M run crosses the limit", () => {
    const s = withMem("thp", 2 * MiB2, { mmOptions: { rlimitMemlock: 600 * 0x1000 } });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0x40000000, 2 * MiB2)).toBe(ENOMEM);
    const k = s.c.vfioCounters;
    expect([k.mapCalls, k.iovaToPhys, k.unmapFast, k.iotlbSync]).toEqual([1, 512, 1, 1]); // run 1 mapped, then undone
    expectConsistent(s);
  });

  it("maps without pinning while no IOMMU domain is attached, pins on attach (replay)", () => {
    const s = withMem("thp", 2 * MiB2);
    expect(map(s.c, V, 0x40000000, 2 * MiB2)).toBe(0);
    expect(s.mm.pinned).toBe(0);
    expect(s.c.attachGroup(1)).toBe(0);
    expect(s.mm.pinned).toBe(1024);
    expect(s.mm.lockedVm).toBe(1024);
    expect(s.c.vfioCounters.iovaToPhys).toBe(0); // nothing to read back
    expectConsistent(s);
  });
});

describe("VFIO_IOMMU_UNMAP_DMA validation", () => {
  function mapped(v1 = false) {
    const s = withMem("hugetlb2m", 4 * MiB2, v1 ? { type: VFIO_TYPE1_IOMMU } : {});
    s.c.attachGroup(1);
    expect(map(s.c, V, 0x40000000, MiB2)).toBe(0);
    expect(map(s.c, V + MiB2, 0x40200000, MiB2)).toBe(0);
    return s;
  }

  it("checks argsz, flags and dirty-bitmap combinations", () => {
    const { c } = mapped();
    expect(c.unmapDma({ argsz: 23, flags: 0, iova: 0x40000000, size: MiB2 })).toBe(EINVAL);
    expect(c.unmapDma({ flags: 8, iova: 0x40000000, size: MiB2 })).toBe(EINVAL);
    const both = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL;
    expect(c.unmapDma({ flags: both, iova: 0, size: 0 })).toBe(EINVAL);
    const bitmap = { pgsize: 0x1000, size: 64 };
    const dirty = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
    expect(c.unmapDma({ flags: dirty, argsz: 24, iova: 0x40000000, size: MiB2, bitmap })).toBe(EINVAL);
    expect(
      c.unmapDma({ flags: dirty, iova: 0x40000000, size: MiB2, bitmap: { pgsize: 0x1000, size: 8 } }),
    ).toBe(EINVAL); // 512 pages need 64 bytes
    expect(c.unmapDma({ flags: dirty, iova: 0x40000000, size: MiB2, bitmap })).toBe(EINVAL); // tracking is off
    expect(c.dmaList()).toHaveLength(2);
  });

  it("checks alignment, size, ALL and overflow", () => {
    const s = mapped();
    expect(unmap(s.c, 0x40000800, 0x1000)[0]).toBe(EINVAL);
    expect(unmap(s.c, 0x40000000, 0)[0]).toBe(EINVAL);
    expect(unmap(s.c, 0x40000000, 0x1800)[0]).toBe(EINVAL);
    expect(unmap(s.c, 0x1000, 0, VFIO_DMA_UNMAP_FLAG_ALL)[0]).toBe(EINVAL);
    expect(unmap(s.c, 0, 0x1000, VFIO_DMA_UNMAP_FLAG_ALL)[0]).toBe(EINVAL);
    expect(unmap(s.c, 2n ** 64n - 0x1000n, 0x2000)[0]).toBe(EOVERFLOW);
    expectConsistent(s);
  });

  it("v2 refuses to bisect a mapping at either end; an empty range unmaps 0", () => {
    const s = mapped();
    expect(unmap(s.c, 0x40001000, MiB2 - 0x1000)[0]).toBe(EINVAL);
    expect(unmap(s.c, 0x40000000, MiB2 + 0x1000)[0]).toBe(EINVAL);
    expect(unmap(s.c, 0x80000000, MiB2)).toEqual([0, 0]);
    expect(unmap(s.c, 0x3ff00000, 0x100000)).toEqual([0, 0]);
    expect(unmap(s.c, 0x3ff00000, 0x100000 + 2 * MiB2)).toEqual([0, 2 * MiB2]);
    expectConsistent(s);
  });

  it("v1: a mapping starting below the request ends the scan; covering its first iova removes all of it", () => {
    const s = mapped(true);
    expect(unmap(s.c, 0x40001000, 0x1000)).toEqual([0, 0]);
    expect(s.c.dmaList()).toHaveLength(2);
    expect(unmap(s.c, 0x40000000, 0x1000)).toEqual([0, MiB2]);
    // Covers the second mapping's first page (and a page before it): the whole mapping goes.
    expect(unmap(s.c, 0x401ff000, 0x2000)).toEqual([0, MiB2]);
    expect(s.c.dmaList()).toHaveLength(0);
    expectConsistent(s);
  });

  it("FLAG_VADDR marks mappings and rolls back when one is already invalid", () => {
    const s = mapped();
    expect(unmap(s.c, 0x40200000, MiB2, VFIO_DMA_UNMAP_FLAG_VADDR)).toEqual([0, MiB2]);
    expect(unmap(s.c, 0x40000000, 2 * MiB2, VFIO_DMA_UNMAP_FLAG_VADDR)[0]).toBe(EINVAL);
    expect(s.c.dmaList().map((d) => d.vaddrInvalid)).toEqual([false, true]);
    expect(s.c.vaddrInvalidCount).toBe(1);
    expect(s.mm.pinned).toBe(1024); // invalidating a vaddr unmaps nothing
    // A real unmap still removes an invalidated mapping and its count.
    expect(unmap(s.c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL)).toEqual([0, 2 * MiB2]);
    expect(s.c.vaddrInvalidCount).toBe(0);
    expectConsistent(s);
  });
});

describe("attach / detach", () => {
  it("refuses a duplicate group, passes driver errors through, enforces MSI isolation", () => {
    const s = withMem();
    expect(s.c.attachGroup(1)).toBe(0);
    expect(s.c.attachGroup(1)).toBe(EINVAL);
    const failing = { ...s.driver(2), domainAllocPagingFlags: () => -19 };
    expect(s.c.attachGroup(2, { driver: failing })).toBe(-19);
    expect(s.c.attachGroup(3, { isolatedMsi: false })).toBe(EPERM);
    expect(s.c.domainList).toHaveLength(1);
    expectConsistent(s);
    const u = withMem("hugetlb2m", MiB2, { allowUnsafeInterrupts: true });
    expect(u.c.attachGroup(3, { isolatedMsi: false })).toBe(0);
  });

  it("refuses an aperture that would cut off an existing mapping", () => {
    const s = withMem();
    s.c.attachGroup(1);
    expect(map(s.c, V, 2 ** 40, MiB2)).toBe(0);
    const walks = s.c.vfioCounters.iovaToPhys;
    expect(s.c.attachGroup(2, { driver: s.driver(2, { ias: 32 }) })).toBe(EINVAL);
    expect(s.c.vfioCounters.iovaToPhys).toBe(walks);
    expect(s.c.iovaRanges()).toEqual([{ start: 0n, end: 2n ** 48n - 1n }]);
    expectConsistent(s);
  });

  it("excludes reserved regions from the windows and refuses ones covering mappings", () => {
    const s = withMem();
    const msi = { start: 0x8000000n, length: 0x100000n, type: "sw-msi" as const };
    expect(s.c.attachGroup(1, { resvRegions: [msi] })).toBe(0);
    expect(s.c.iovaRanges()).toEqual([
      { start: 0n, end: 0x7ffffffn },
      { start: 0x8100000n, end: 2n ** 48n - 1n },
    ]);
    expect(map(s.c, V, 0x8000000, MiB2)).toBe(EINVAL);
    expect(map(s.c, V, 0x10000000, MiB2)).toBe(0);
    const bad = { start: 0x10000000n, length: 0x1000n, type: "reserved" as const };
    expect(s.c.attachGroup(2, { resvRegions: [bad] })).toBe(EINVAL);
    const relaxed = { ...bad, type: "direct-relaxable" as const };
    expect(s.c.attachGroup(3, { resvRegions: [relaxed] })).toBe(0);
    // Detaching the group that owned the MSI window gives its range back.
    s.c.detachGroup(1);
    expect(s.c.iovaRanges()).toEqual([{ start: 0n, end: 2n ** 48n - 1n }]);
    expectConsistent(s);
  });

  it("joins an existing domain of the same driver without replay", () => {
    const s = withMem();
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, MiB2)).toBe(0);
    const before = s.c.vfioCounters.snapshot();
    expect(s.c.attachGroup(2, { driver: s.driver(1) })).toBe(0);
    expect(s.c.vfioCounters.snapshot()).toEqual(before);
    expect(s.c.groupsOf()).toEqual([[1, 2]]);
    expect(s.allocated[1]!.freed).toBe(true);
    s.c.detachGroup(1);
    expect(s.c.dmaList()).toHaveLength(1); // group 2 still holds the domain
    s.c.detachGroup(2);
    expect(s.c.dmaList()).toHaveLength(0);
    expectConsistent(s);
  });

  it("a same-driver join keeps the old domain but takes the new domain's aperture", () => {
    const s = withMem();
    s.c.attachGroup(1, { driver: s.driver(1) });
    expect(s.c.attachGroup(2, { driver: s.driver(1, { ias: 32, pgsizeBitmap: 0x1000 }) })).toBe(0);
    expect(s.c.domainList).toHaveLength(1);
    expect(s.c.pgsizeBitmap).toBe(0x40201000);
    expect(s.c.iovaRanges()).toEqual([{ start: 0n, end: 2n ** 32n - 1n }]);
    expect(map(s.c, V, 2 ** 32, MiB2)).toBe(EINVAL);
    // ...and with a mapping above the new aperture the join is refused.
    const t = withMem();
    t.c.attachGroup(1, { driver: t.driver(1) });
    expect(map(t.c, V, 2 ** 40, MiB2)).toBe(0);
    expect(t.c.attachGroup(2, { driver: t.driver(1, { ias: 32 }) })).toBe(EINVAL);
    expectConsistent(t);
  });

  it("a failing replay leaves the container as it was", () => {
    const s = withMem("thp", 4 * MiB2);
    s.c.attachGroup(1);
    expect(map(s.c, V, 0x40000000, 2 * MiB2)).toBe(0);
    expect(map(s.c, V + 2 * MiB2, 0x50000000, 2 * MiB2)).toBe(0);
    failNthMap(s, 2, 3); // the third 2M run into the new domain
    expect(s.c.attachGroup(2)).toBe(ENOMEM);
    expect(s.c.domainList).toHaveLength(1);
    expect(s.allocated[1]!.freed).toBe(true);
    expectConsistent(s);
  });

  it("a replay that must pin (no domain before) unwinds its pins on failure", () => {
    const s = withMem("scattered", 0x8000, { mmOptions: { rlimitMemlock: 0x6000 } });
    expect(map(s.c, V, 0, 0x4000)).toBe(0);
    expect(map(s.c, V + 0x4000, 0x10000, 0x4000)).toBe(0);
    expect(s.c.attachGroup(1)).toBe(ENOMEM); // 8 pages over a 6-page limit
    expect(s.mm.pinned).toBe(0);
    expect(s.mm.lockedVm).toBe(0);
    expect(s.c.dmaList().every((d) => !d.iommuMapped)).toBe(true);
    expect(s.c.domainList).toHaveLength(0);
  });

  it("detaching the last domain unmaps everything and resets the bitmap and windows", () => {
    const s = withMem();
    s.c.attachGroup(1, { driver: s.driver(1, { ias: 40 }) });
    expect(s.c.pgsizeBitmap).toBe(0x40201000);
    expect(map(s.c, V, 0, 2 * MiB2)).toBe(0);
    expect(s.c.detachGroup(1)).toBe(true);
    expect(s.c.detachGroup(1)).toBe(false);
    expect(s.c.dmaList()).toHaveLength(0);
    expect(s.c.pgsizeBitmap).toBe(PAGE_MASK_BITMAP);
    expect(s.c.iovaRanges()).toEqual([{ start: 0n, end: 2n ** 64n - 1n }]);
    expect(s.c.dmaAvail).toBe(65535);
    expectConsistent(s);
  });

  it("takes the AND of the domains' page sizes", () => {
    const s = withMem();
    s.c.attachGroup(1);
    s.c.attachGroup(2, { driver: s.driver(2, { pgsizeBitmap: 0x1000 }) });
    expect(s.c.pgsizeBitmap).toBe(0x1000);
    expect(map(s.c, V, 0, MiB2)).toBe(0);
    expect(s.c.vfioCounters.ptMapPages).toBe(2); // one 2M block + 512 PTEs in one call
    s.c.detachGroup(2);
    expect(s.c.pgsizeBitmap).toBe(0x40201000);
    expectConsistent(s);
  });
});

describe("GET_INFO and release", () => {
  it("reports page sizes, the migration cap, dma_avail and the windows", () => {
    const s = withMem();
    const empty = s.c.getInfo();
    expect(typeof empty === "number" ? empty : empty.iovaRanges).toBeUndefined();
    s.c.attachGroup(1);
    map(s.c, V, 0, MiB2);
    const info = s.c.getInfo();
    if (typeof info === "number") throw new Error("GET_INFO failed");
    expect(info.iovaPgsizes).toBe(0x40201000);
    expect(info.migration.pgsizeBitmap).toBe(0x1000);
    expect(info.migration.maxDirtyBitmapSize).toBe(0x10000000);
    expect(info.dmaAvail).toBe(65534);
    expect(info.iovaRanges).toEqual([{ start: 0n, end: 2n ** 48n - 1n }]);
    expect(s.c.getInfo(15)).toBe(EINVAL);
  });

  it("release unmaps, unpins and frees every domain", () => {
    const s = withMem("thp");
    s.c.attachGroup(1);
    s.c.attachGroup(2);
    expect(map(s.c, V, 0, 4 * MiB2)).toBe(0);
    s.c.release();
    expect(s.mm.pinned).toBe(0);
    expect(s.mm.lockedVm).toBe(0);
    expect(s.allocated.every((d) => d.freed)).toBe(true);
    expect(s.c.domainList).toHaveLength(0);
  });

  it("open refuses unknown types", () => {
    const s = setup();
    expect(VfioIommu.open(2, { mm: s.mm })).toBe(EINVAL);
    expect(VfioIommu.open(VFIO_TYPE1_IOMMU, { mm: s.mm })).toBeInstanceOf(VfioIommu);
  });

  it("attaches a group only with the driver behind its device (ENODEV without one)", () => {
    const s = setup();
    const c = new VfioIommu({ mm: s.mm });
    expect(c.attachGroup(1)).toBe(-19);
    expect(c.hasGroup(1)).toBe(false);
    expect(c.attachGroup(1, { driver: s.driver(1) })).toBe(0);
    expect(c.attachGroup(2, { emulated: true })).toBe(0);
    expect(c.domainList).toHaveLength(1);
    expect(s.allocated).toHaveLength(1);
  });
});
