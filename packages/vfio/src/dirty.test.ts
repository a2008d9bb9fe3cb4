/** Dirty page tracking: VFIO_IOMMU_DIRTY_PAGES and UNMAP_DMA with GET_DIRTY_BITMAP. */
import { describe, expect, it } from "vitest";
import { map, setup, V } from "./testing/harness.js";
import {
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP as GET,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START as START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP as STOP,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_TYPE1_IOMMU,
} from "./uapi.js";
import type { VfioIommu } from "./vfio-iommu.js";

const EINVAL = -22;
const EACCES = -13;
const EFAULT = -14;
const PG = 0x1000;

function get(c: VfioIommu, iova: number, size: number, words: number, claim = words * 8): [number, bigint[]] {
  const data = new BigUint64Array(words);
  const ret = c.dirtyPages({ flags: GET, range: { iova, size, bitmap: { pgsize: PG, size: claim, data } } });
  return [ret, [...data]];
}

function tracked(emulatedOnly = false) {
  const s = setup();
  s.mm.memory.addRegion({ vaddr: V, size: 0x400000, kind: "scattered", seed: 2 });
  if (emulatedOnly) {
    s.c.attachGroup(9, { emulated: true });
    s.c.registerDevice({ dmaUnmap: (iova, size) => s.c.unpinPages(iova, size / PG) });
  } else s.c.attachGroup(1);
  return s;
}

describe("VFIO_IOMMU_DIRTY_PAGES", () => {
  it("validates the request", () => {
    const s = tracked();
    expect(s.c.dirtyPages({ flags: 0 })).toBe(EINVAL);
    expect(s.c.dirtyPages({ flags: START | STOP })).toBe(EINVAL);
    expect(s.c.dirtyPages({ flags: 8 })).toBe(EINVAL);
    expect(s.c.dirtyPages({ flags: START, argsz: 4 })).toBe(EINVAL);
    expect(get(s.c, 0, 0x10000, 1)[0]).toBe(EINVAL); // not tracking yet
    expect(s.c.dirtyPages({ flags: START })).toBe(0);
    expect(s.c.dirtyPages({ flags: GET, argsz: 8 })).toBe(EINVAL);
    expect(get(s.c, 0, 0, 1)[0]).toBe(EINVAL);
    expect(get(s.c, 0x800, 0x10000, 1)[0]).toBe(EINVAL);
    expect(get(s.c, 0, 0x10000 * 64 + PG, 1)[0]).toBe(EINVAL); // bitmap too small for the range
    const data = new BigUint64Array(1);
    const wrongPg = { iova: 0, size: 0x10000, bitmap: { pgsize: 0x10000, size: 8, data } };
    expect(s.c.dirtyPages({ flags: GET, range: wrongPg })).toBe(EINVAL);
    const v1 = setup({ type: VFIO_TYPE1_IOMMU });
    expect(v1.c.dirtyPages({ flags: START })).toBe(EACCES);
  });

  it("reports every mapped page while an IOMMU-backed group cannot scope its writes", () => {
    const s = tracked();
    expect(map(s.c, V, 0x3000, 3 * PG)).toBe(0);
    expect(s.c.dirtyPages({ flags: START })).toBe(0);
    expect(map(s.c, V + 0x10000, 0x42000, 2 * PG)).toBe(0); // mapped while tracking
    const [ret, bits] = get(s.c, 0, 0x80000, 2);
    expect(ret).toBe(0);
    // dma 1 at bits 3..5; dma 2 at bits 66..67.
    expect(bits).toEqual([0x38n, 0xcn]);
    expect(get(s.c, 0x3000, 0x1000, 1)[0]).toBe(EINVAL); // bisects dma 1
    // Kernel quirk: update_user_bitmap shifts the dma's bitmap in place and only its first
    // nbits are cleared afterwards, so bits [nbits, nbits + shift) survive; the next query
    // reports `shift` pages past the end of each unaligned dma as dirty too.
    expect(get(s.c, 0, 0x80000, 2, 16)[1]).toEqual([0x1f8n, 0x3cn]);
    expect(get(s.c, 0, 0x80000, 1, 16)[0]).toBe(EFAULT); // the buffer is shorter than claimed
    expect(s.c.dirtyPages({ flags: STOP })).toBe(0);
    expect(get(s.c, 0, 0x80000, 2)[0]).toBe(EINVAL);
  });

  it("with only emulated devices reports their pins, once more after the unpin, then nothing", () => {
    const s = tracked(true);
    expect(map(s.c, V, 0x10000, 8 * PG)).toBe(0);
    expect(s.c.dirtyPages({ flags: START })).toBe(0);
    expect(get(s.c, 0x10000, 8 * PG, 1)[1]).toEqual([0n]);
    expect(s.c.pinPages(9, 0x12000, 1, 1, new Float64Array(1))).toBe(1);
    expect(get(s.c, 0x10000, 8 * PG, 1)[1]).toEqual([4n]);
    s.c.unpinPages(0x12000, 1);
    expect(get(s.c, 0x10000, 8 * PG, 1)[1]).toEqual([4n]);
    expect(get(s.c, 0x10000, 8 * PG, 1)[1]).toEqual([0n]);
  });

  it("a pinning IOMMU group stops making every page dirty", () => {
    const s = tracked();
    s.c.registerDevice({ dmaUnmap: () => {} });
    expect(map(s.c, V, 0, 4 * PG)).toBe(0);
    expect(s.c.dirtyPages({ flags: START })).toBe(0);
    expect(s.c.numNonPinnedGroups).toBe(1);
    expect(s.c.pinPages(1, PG, 1, 1, new Float64Array(1))).toBe(1);
    expect(s.c.numNonPinnedGroups).toBe(0);
    expect(get(s.c, 0, 4 * PG, 1)[1]).toEqual([2n]);
  });

  it("merges unaligned dmas word by word, OR-ing what the user buffer already held", () => {
    const s = tracked();
    expect(map(s.c, V, 0x3000, 2 * PG)).toBe(0);
    expect(s.c.dirtyPages({ flags: START })).toBe(0);
    const data = new BigUint64Array([0xf000_0000_0000_0000n]);
    const range = { iova: 0, size: 0x40000, bitmap: { pgsize: PG, size: 8, data } };
    expect(s.c.dirtyPages({ flags: GET, range })).toBe(0);
    // The dma's bits 3..4, plus every bit of the first word the buffer had set.
    expect(data[0]).toBe(0xf000_0000_0000_0018n);
  });
});

describe("UNMAP_DMA with GET_DIRTY_BITMAP", () => {
  it("returns the bits of the mappings it removes", () => {
    const s = tracked();
    expect(map(s.c, V, 0x100000, 4 * PG)).toBe(0);
    expect(map(s.c, V + 0x10000, 0x104000, 4 * PG)).toBe(0);
    expect(s.c.dirtyPages({ flags: START })).toBe(0);
    const data = new BigUint64Array(1);
    const req = {
      flags: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
      iova: 0x100000,
      size: 8 * PG,
      bitmap: { pgsize: PG, size: 8, data },
    };
    expect(s.c.unmapDma(req)).toBe(0);
    expect(req.size).toBe(8 * PG);
    expect(data[0]).toBe(0xffn);
    expect(s.c.dmaList()).toHaveLength(0);
    expect(s.mm.pinned).toBe(0);
  });
});
