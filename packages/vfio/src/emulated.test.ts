/** Emulated-IOMMU (mdev) groups: vfio_pin_pages/vfio_unpin_pages, pfn_list accounting, unmap notification. */
import { describe, expect, it } from "vitest";
import { map, RW, setup, unmap, V } from "./testing/harness.js";
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_TYPE1_IOMMU,
  VFIO_UPDATE_VADDR,
} from "./uapi.js";
import type { VfioEmulatedDevice } from "./vfio-iommu.js";

const EINVAL = -22;
const EPERM = -1;
const EACCES = -13;
const EBUSY = -16;
const EFAULT = -14;
const MiB2 = 0x200000;
const READ = 1;
const WRITE = 2;

/** A device that unpins whatever it pinned when told to unmap (as drivers must). */
class Device implements VfioEmulatedDevice {
  readonly pinned = new Map<number, number>();
  unmaps = 0;
  constructor(
    private readonly s: ReturnType<typeof setup>,
    private readonly cooperative = true,
  ) {}
  pin(iova: number, npage: number, prot = READ): number {
    const pages = new Float64Array(npage);
    const ret = this.s.c.pinPages(9, iova, npage, prot, pages);
    if (ret > 0)
      for (let i = 0; i < npage; i++)
        this.pinned.set(iova + i * 0x1000, (this.pinned.get(iova + i * 0x1000) ?? 0) + 1);
    return ret;
  }
  dmaUnmap(iova: number, size: number): void {
    this.unmaps++;
    if (!this.cooperative) return;
    for (const [at, n] of [...this.pinned]) {
      if (at < iova || at >= iova + size) continue;
      for (let k = 0; k < n; k++) this.s.c.unpinPages(at, 1);
      this.pinned.delete(at);
    }
  }
}

function mdev(opts = {}) {
  const s = setup(opts);
  s.mm.memory.addRegion({ vaddr: V, size: 2 * MiB2, kind: "thp", seed: 3 });
  s.mm.memory.addRegion({ vaddr: V + 0x1000000, size: 0x10000, kind: "scattered", seed: 4, readOnly: true });
  expect(s.c.attachGroup(9, { emulated: true })).toBe(0);
  const dev = new Device(s);
  s.c.registerDevice(dev);
  return { s, dev };
}

describe("vfio_pin_pages", () => {
  it("checks arguments in kernel order", () => {
    const { s, dev } = mdev();
    expect(map(s.c, V, 0x100000, MiB2, VFIO_DMA_MAP_FLAG_READ)).toBe(0);
    expect(s.c.pinPages(9, 0x100000, 0, READ, new Float64Array(1))).toBe(EINVAL);
    expect(dev.pin(0x100000 + MiB2, 1)).toBe(EINVAL); // no dma there
    expect(dev.pin(0x100000, 1, READ | WRITE)).toBe(EPERM); // wider than the mapping
    expect(s.mm.pinned).toBe(0);
    s.c.unregisterDevice(dev);
    expect(dev.pin(0x100000, 1)).toBe(EINVAL); // no device to notify on unmap
    const v1 = setup({ type: VFIO_TYPE1_IOMMU });
    expect(v1.c.pinPages(1, 0, 1, READ, new Float64Array(1))).toBe(EACCES);
  });

  it("charges only while no IOMMU domain has, counts references, unwinds on failure", () => {
    const { s, dev } = mdev();
    expect(map(s.c, V, 0x100000, 2 * MiB2)).toBe(0);
    expect(s.mm.pinned).toBe(0); // mdev only: nothing pinned at map time
    expect(dev.pin(0x100000, 4)).toBe(4);
    expect(dev.pin(0x101000, 1)).toBe(1); // a second reference, no second pin
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([4, 4]);
    // A pin that runs past the mapping fails as a whole, dropping only its own references.
    expect(dev.pin(0x100000 + 2 * MiB2 - 0x2000, 3)).toBe(EINVAL);
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([4, 4]);
    s.c.unpinPages(0x100000, 4);
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([1, 1]);
    s.c.unpinPages(0x101000, 1);
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([0, 0]);
  });

  it("pins with the mapping's prot: even a read pin of a rw mapping faults on read-only memory", () => {
    const { s, dev } = mdev();
    expect(map(s.c, V + 0x1000000, 0x800000, 0x10000, RW)).toBe(0); // mdev only: nothing pinned yet
    expect(dev.pin(0x800000, 1, WRITE)).toBe(EFAULT);
    expect(dev.pin(0x800000, 1, READ)).toBe(EFAULT);
    expect(map(s.c, V + 0x1000000, 0x900000, 0x10000, VFIO_DMA_MAP_FLAG_READ)).toBe(0);
    expect(dev.pin(0x900000, 1, READ)).toBe(1);
  });

  it("is refused with a WARN while a vaddr is invalid; VADDR unmap is refused with mdev present", () => {
    const s = setup();
    s.mm.memory.addRegion({ vaddr: V, size: MiB2, kind: "hugetlb2m", seed: 3 });
    s.c.attachGroup(1);
    expect(map(s.c, V, 0, MiB2)).toBe(0);
    expect(unmap(s.c, 0, MiB2, VFIO_DMA_UNMAP_FLAG_VADDR)).toEqual([0, MiB2]);
    expect(s.c.attachGroup(9, { emulated: true })).toBe(EBUSY);
    const warns = s.mm.counters.warns;
    expect(s.c.pinPages(1, 0, 1, READ, new Float64Array(1))).toBe(EBUSY);
    expect(s.mm.counters.warns - warns).toBe(1);
    const m = mdev();
    expect(m.s.c.checkExtension(VFIO_UPDATE_VADDR)).toBe(0);
    expect(unmap(m.s.c, 0, MiB2, VFIO_DMA_UNMAP_FLAG_VADDR)[0]).toBe(EBUSY);
  });
});

describe("mdev pins and IOMMU domains together", () => {
  it("an IOMMU pin does not charge pages already pinned for a device, and vice versa", () => {
    const { s, dev } = mdev();
    expect(map(s.c, V, 0x100000, MiB2)).toBe(0);
    expect(dev.pin(0x100000, 8)).toBe(8);
    expect(s.c.attachGroup(1)).toBe(0); // replay pins the mapping: 512 pages, 8 already charged
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([8 + 512, 512]);
    expect(dev.pin(0x180000, 1)).toBe(1); // with a domain, no new charge
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([8 + 512 + 1, 512]);
  });

  it("unmap asks the devices to unpin first, then rescans", () => {
    const { s, dev } = mdev();
    s.c.attachGroup(1);
    expect(map(s.c, V, 0x100000, MiB2)).toBe(0);
    expect(map(s.c, V + MiB2, 0x300000, MiB2)).toBe(0);
    expect(dev.pin(0x300000, 2)).toBe(2);
    expect(unmap(s.c, 0x100000, 2 * MiB2)).toEqual([0, 2 * MiB2]);
    expect(dev.unmaps).toBe(1);
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([0, 0]);
  });

  it("a device that never unpins hits the kernel's BUG_ON after 10 retries", () => {
    const s = setup();
    s.mm.memory.addRegion({ vaddr: V, size: MiB2, kind: "hugetlb2m", seed: 3 });
    s.c.attachGroup(9, { emulated: true });
    const dev = new Device(s, false);
    s.c.registerDevice(dev);
    expect(map(s.c, V, 0, MiB2)).toBe(0);
    expect(dev.pin(0, 1)).toBe(1);
    expect(unmap(s.c, 0, MiB2)[0]).toBe(EBUSY);
    expect(dev.unmaps).toBe(11);
    expect(s.mm.counters.bugs).toBe(1);
    expect(s.c.dmaList()).toHaveLength(1);
  });

  it("losing the last IOMMU domain keeps the mappings and re-charges only device pins", () => {
    const { s, dev } = mdev();
    s.c.attachGroup(1);
    expect(map(s.c, V, 0x100000, MiB2)).toBe(0);
    expect(dev.pin(0x100000, 3)).toBe(3);
    s.c.detachGroup(1);
    expect(s.c.dmaList()).toMatchObject([{ iova: 0x100000, size: MiB2, iommuMapped: false, lockedVm: 3 }]);
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([3, 3]);
    // The last emulated group going (devices gone) removes the mappings.
    dev.dmaUnmap(0, 2 ** 40);
    s.c.unregisterDevice(dev);
    s.c.detachGroup(9);
    expect(s.c.dmaList()).toHaveLength(0);
    expect([s.mm.pinned, s.mm.lockedVm]).toEqual([0, 0]);
  });
});

describe("vfio_dma_rw", () => {
  it("copies through the mappings, across dmas, and checks prot, coverage and faults", () => {
    const { s } = mdev();
    expect(map(s.c, V, 0x100000, 2 * 0x1000)).toBe(0);
    expect(map(s.c, V + 0x2000, 0x102000, 0x1000, VFIO_DMA_MAP_FLAG_READ)).toBe(0);
    expect(map(s.c, V + 0x1000000, 0x200000, 0x1000, RW)).toBe(0); // read-only memory behind it
    const msg = new TextEncoder().encode("hello, type1");
    expect(s.c.dmaRw(0x100ffa, msg, true)).toBe(0); // straddles two pages of one dma
    const back = new Uint8Array(msg.length);
    expect(s.c.dmaRw(0x100ffa, back, false)).toBe(0);
    expect(new TextDecoder().decode(back)).toBe("hello, type1");
    expect(s.mm.memory.translate(V + 0xffa)).toBeDefined();
    const span = new Uint8Array(0x1800); // into the read-only-prot dma: reading is fine
    expect(s.c.dmaRw(0x101800, span, false)).toBe(0);
    expect(s.c.dmaRw(0x101800, span, true)).toBe(EPERM);
    expect(s.c.dmaRw(0x103000, new Uint8Array(1), false)).toBe(EINVAL);
    expect(s.c.dmaRw(0x200000, new Uint8Array(8), true)).toBe(EFAULT);
  });

  it("marks written pages dirty while tracking; refuses while a vaddr is invalid", () => {
    const { s } = mdev();
    expect(map(s.c, V, 0x100000, 8 * 0x1000)).toBe(0);
    expect(s.c.dirtyPages({ flags: 1 })).toBe(0);
    expect(s.c.dmaRw(0x102ff0, new Uint8Array(0x20), true)).toBe(0); // pages 2 and 3
    const data = new BigUint64Array(1);
    const range = { iova: 0x100000, size: 0x8000, bitmap: { pgsize: 0x1000, size: 8, data } };
    expect(s.c.dirtyPages({ flags: 4, range })).toBe(0);
    expect(data[0]).toBe(0xcn);
    const t = setup();
    t.mm.memory.addRegion({ vaddr: V, size: MiB2, kind: "hugetlb2m", seed: 3 });
    expect(map(t.c, V, 0, MiB2)).toBe(0);
    expect(unmap(t.c, 0, MiB2, VFIO_DMA_UNMAP_FLAG_VADDR)).toEqual([0, MiB2]);
    expect(t.c.dmaRw(0, new Uint8Array(1), false)).toBe(EBUSY);
  });
});
