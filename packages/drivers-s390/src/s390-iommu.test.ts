// drivers/iommu/s390-iommu.c: entry encodings per origin type, the zPCI function, RPCIT and every known quirk in both modes.
import {
  ERRNO,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_NOEXEC,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuFlushIotlbAll,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ZPCI_IOTA_DT_RS } from "./pci-dma.js";
import { PCI_FUNC_TYPE_ISM, S390_QUIRKS, S390Iommu, s390OriginName } from "./s390-iommu.js";
import { iovaOf, makeS390, type S390Fixture } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

/** The 64-bit entry the walk from the root reaches at `depth` (0 = root entry) for `iova`. */
function entry(t: S390Fixture, iova: bigint, depth: number): bigint {
  const shifts = [53n, 42n, 31n, 20n, 12n].slice(5 - t.d.levels);
  let table = t.d.dmaTable;
  for (let k = 0; ; k++) {
    const idx = Number((iova >> shifts[k]!) & (k === shifts.length - 1 ? 0xffn : 0x7ffn));
    const e = t.allocator.mem.read64(table + 8 * idx);
    if (k === depth) return e;
    table = Number(e & ~(k === shifts.length - 2 ? 0x7ffn : 0x3fffn));
  }
}

const pte = (t: S390Fixture, iova: bigint) => entry(t, iova, t.d.levels - 1);

describe("s390 translation-table entries", () => {
  it("PTE: page address | protection (0x200) unless IOMMU_WRITE; valid = bit 10 clear; 64-bit addresses", () => {
    for (let prot = 0; prot < 0x40; prot++) {
      const t = makeS390();
      iommuMap(t.d, 0x1_0000_0000, 0x12_3456_7000, 0x1000, prot);
      expect(pte(t, 0x1_0000_0000n)).toBe(0x12_3456_7000n | (prot & IOMMU_WRITE ? 0n : 0x200n));
    }
  });

  it("region entries: table origin | type of the table they live in | length 3; segment entries: PT origin", () => {
    for (const [levels, tops] of [
      [3, [0x7n]],
      [4, [0xbn, 0x7n]],
      [5, [0xfn, 0xbn, 0x7n]],
    ] as const) {
      const t = makeS390(levels);
      iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x1000, RW);
      tops.forEach((bits, k) => {
        const e = entry(t, 0x1_0000_0000n, k);
        expect(e & 0x3fffn).toBe(bits);
        expect(Number(e & ~0x3fffn) % 0x4000).toBe(0);
      });
      const ste = entry(t, 0x1_0000_0000n, levels - 2);
      expect(ste & 0x7ffn).toBe(0n);
      expect(entry(t, 0x2_0000_0000n, 0) === 0x20n || levels > 3).toBe(true);
    }
  });

  it("new tables: 2048 × 0x20 (16 KiB) and 256 × 0x400 (2 KiB, two per slab page); unmap keeps a stale address", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x1000, IOMMU_READ);
    expect(t.allocator.mem.read64(t.d.dmaTable + 8)).toBe(0x20n);
    expect(pte(t, 0x1_0000_1000n)).toBe(0x400n);
    iommuUnmap(t.d, 0x1_0000_0000, 0x1000);
    expect(pte(t, 0x1_0000_0000n)).toBe(0x9000_0400n);
    expect([t.d.regionTablesLive, t.d.ptCache.liveObjects, t.d.ptCache.blockCount]).toEqual([2, 1, 1]);
    iommuMap(t.d, 0x1_0010_0000, 0x9000_0000, 0x1000, IOMMU_READ);
    expect(t.d.ptCache.blockCount).toBe(1); // the second page table shares the slab page
  });
});

describe("S390Iommu (IommuDriver)", () => {
  it("the origin type follows the DMA range: 16 GiB → RT, 2^53 → RS, 2^64 → RF; end_dma rewritten; IOTA flags", () => {
    for (const [levels, origin, end, iota] of [
      [3, "rtx", 0x4_ffff_ffffn, 0x8000_0804n],
      [4, "rsx", (1n << 53n) - 1n, 0x8000_0808n],
      [5, "rfx", (1n << 64n) - 1n, 0x8000_080cn],
    ] as const) {
      const t = makeS390(levels);
      expect([s390OriginName(t.d), t.zdev.endDma, t.zdev.iota, t.zdev.dmaTable]).toEqual([
        origin,
        end,
        iota,
        0x8000_0000,
      ]);
      expect(BigInt(t.d.geometry.apertureEnd)).toBe(levels === 3 ? (1n << 42n) - 1n : end);
    }
    // No RS support: a big range falls back to RF; neither: RT with the range cut to 2^42 − start_dma.
    const noRs = new S390Iommu({ apertureFactor: 0, endDma: (1n << 50n) - 1n, dtsm: 0xc & ~ZPCI_IOTA_DT_RS });
    const d1 = noRs.domainAllocPagingFlags(0);
    if (typeof d1 === "number") throw new Error("alloc");
    expect(s390OriginName(d1)).toBe("rfx");
    const none = new S390Iommu({ apertureFactor: 0, dtsm: 0 });
    const d2 = none.domainAllocPagingFlags(0);
    if (typeof d2 === "number") throw new Error("alloc");
    expect([s390OriginName(d2), none.endDma]).toEqual(["rtx", (1n << 42n) - 1n]);
  });

  it("flags → -EOPNOTSUPP; root allocation failure → -ENOMEM; capable: coherency, deferred flush unless ISM", () => {
    const allocator = new TableAllocator(new PhysMem());
    const zdev = new S390Iommu({ allocator });
    expect(zdev.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_PASID)).toBe(-ERRNO.EOPNOTSUPP);
    allocator.failNth(1);
    expect(zdev.domainAllocPagingFlags(0)).toBe(-ERRNO.ENOMEM);
    expect([zdev.capable(IOMMU_CAP_CACHE_COHERENCY), zdev.capable(IOMMU_CAP_DEFERRED_FLUSH)]).toEqual([
      true,
      true,
    ]);
    expect(zdev.capable(IOMMU_CAP_NOEXEC)).toBe(false);
    expect(new S390Iommu({ pft: PCI_FUNC_TYPE_ISM }).capable(IOMMU_CAP_DEFERRED_FLUSH)).toBe(false);
  });

  it("RPCIT: iotlb_sync once per attached function and unmap; iotlb_sync_map only with tlb_refresh; flush_iotlb_all", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_0000, 0, 0x2000, RW);
    expect(t.zdev.rpcits).toBe(0);
    iommuUnmap(t.d, 0x1_0000_0000, 0x2000);
    iommuFlushIotlbAll(t.d);
    expect([t.zdev.rpcits, t.d.ctrs.syncRpcits, t.d.ctrs.globalRpcits]).toEqual([2, 1, 1]);
    const z = new S390Iommu({ tlbRefresh: true });
    const d = z.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    z.attach(d);
    iommuMap(d, 0x1_0000_0000, 0, 0x1000, RW);
    expect([z.rpcits, d.ctrs.syncMapRpcits, d.ctrs.mappedPages]).toEqual([1, 1, 1]);
    z.detach();
    iommuUnmap(d, 0x1_0000_0000, 0x1000);
    expect(z.rpcits).toBe(1);
  });

  it("attach: a failing IOAT registration is -EIO; domain free releases every table", () => {
    const allocator = new TableAllocator(new PhysMem());
    const z = new S390Iommu({ allocator, apertureFactor: 0 });
    const d = z.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(z.attach(d, true)).toBe(-ERRNO.EIO);
    iommuMap(d, 0x1_0000_0000, 0, 0x20_0000, RW);
    iommuMap(d, iovaOf(2 ** 51), 0, 0x1000, RW);
    expect(allocator.liveCount).toBeGreaterThan(4);
    d.ops!.free!(d);
    expect([allocator.liveCount, d.counters.tablesAllocated - d.counters.tablesFreed]).toEqual([0, 0]);
  });

  it("pgsize must be 4 KiB, the PA 4 KiB aligned; pgcount 0 maps nothing", () => {
    const t = makeS390();
    const m = new SizeOut();
    expect(t.d.ops!.mapPages(t.d, 0x1_0020_0000, 0x8600_0000, 0x2000, 1, RW, 0, m)).toBe(-ERRNO.EINVAL);
    expect(t.d.ops!.mapPages(t.d, 0x1_0020_0000, 0x8600_0123, 0x1000, 1, RW, 0, m)).toBe(-ERRNO.EINVAL);
    expect(t.d.ops!.mapPages(t.d, 0x1_0020_0000, 0x8600_0000, 0x1000, 0, RW, 0, m)).toBe(0);
    expect([m.value, t.d.regionTablesLive]).toEqual([0, 1]);
  });
});

describe("known kernel quirks, default (kernel) mode and strict mode", () => {
  it("lists every quirk", () => {
    expect(S390_QUIRKS).toEqual([
      "overwrite-warn",
      "unmap-invalid-warn",
      "unmap-allocates",
      "unmap-size-arith",
      "iova-wrap",
    ]);
  });

  it("overwrite-warn: a valid PTE is overwritten with a WARN | strict: -EEXIST, the call's pages undone", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_0000, 0x8000_0000, 0x1000, RW);
    iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x1000, IOMMU_READ);
    expect([pte(t, 0x1_0000_0000n), t.d.counters.warns, t.d.quirks["overwrite-warn"]]).toEqual([
      0x9000_0200n,
      1,
      1,
    ]);
    const s = makeS390(3, { strict: true });
    iommuMap(s.d, 0x1_0000_2000, 0x8000_0000, 0x1000, RW);
    expect(() => iommuMap(s.d, 0x1_0000_0000, 0x9000_0000, 0x4000, RW)).toThrow(
      expect.objectContaining({ code: "EEXIST", mapped: 0 }),
    );
    expect([pte(s, 0x1_0000_0000n), pte(s, 0x1_0000_2000n), s.d.counters.warns]).toEqual([
      0x9000_0400n,
      0x8000_0000n,
      0,
    ]);
  });

  it("unmap-invalid-warn + unmap-allocates: a hole is unmapped (tables allocated, WARN per page) | strict: 0, nothing allocated", () => {
    const t = makeS390();
    expect(iommuUnmap(t.d, 0x1_4000_0000, 0x2000)).toBe(0x2000);
    expect([t.d.counters.warns, t.d.regionTablesLive, t.d.ptCache.liveObjects]).toEqual([2, 2, 1]);
    expect(t.d.quirks["unmap-allocates"]).toBe(1);
    const s = makeS390(3, { strict: true });
    expect(iommuUnmap(s.d, 0x1_4000_0000, 0x2000)).toBe(0);
    iommuMap(s.d, 0x1_4000_0000, 0, 0x1000, RW);
    expect(iommuUnmap(s.d, 0x1_4000_0000, 0x3000)).toBe(0x1000);
    expect([s.d.counters.warns, s.d.regionTablesLive]).toEqual([0, 2]);
  });

  it("unmap-size-arith: returns pgcount << ffs(pgsize) but invalidates pgcount 4 KiB pages | strict: pgsize ≠ 4K → 0", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0020_0000, 0x8600_0000, 0x3000, RW);
    expect(t.d.ops!.unmapPages(t.d, 0x1_0020_0000, 0x1_0000, 1, null)).toBe(0x1_0000);
    expect([pte(t, 0x1_0020_0000n) & 0x400n, pte(t, 0x1_0020_1000n) & 0x400n]).toEqual([0x400n, 0n]);
    const s = makeS390(3, { strict: true });
    iommuMap(s.d, 0x1_0020_0000, 0x8600_0000, 0x3000, RW);
    expect(s.d.ops!.unmapPages(s.d, 0x1_0020_0000, 0x1_0000, 1, null)).toBe(0);
  });

  it("iommu_iova_to_phys keeps the page offset in both modes (the pre-series op's phys-no-offset is gone)", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x1000, RW);
    expect(iommuIovaToPhys(t.d, 0x1_0000_0123)).toBe(0x9000_0123);
    expect(iommuIovaToPhys(t.d, 0x1_0000_0fff)).toBe(0x9000_0fff);
    expect(iommuIovaToPhysLength(t.d, 0x1_0000_0123).phys).toBe(0x9000_0123);
    const s = makeS390(3, { strict: true });
    iommuMap(s.d, 0x1_0000_0000, 0x9000_0000, 0x1000, RW);
    expect(iommuIovaToPhys(s.d, 0x1_0000_0123)).toBe(0x9000_0123);
  });

  it("iova-wrap: a 5-level map across 2^64 continues at IOVA 0; a 3-level one aliases; size 0 at IOVA 0 underflows | strict: -EINVAL", () => {
    const t = makeS390(5);
    const m = new SizeOut();
    expect(t.d.ops!.mapPages(t.d, 0xffff_ffff_ffff_f000n, 0x5000, 0x1000, 2, IOMMU_READ, 0, m)).toBe(0);
    expect([iommuIovaToPhys(t.d, 0xffff_ffff_ffff_f000n), iommuIovaToPhys(t.d, 0)]).toEqual([0x5000, 0x6000]);
    const r = makeS390(3);
    expect(r.d.ops!.mapPages(r.d, 0xffff_ffff_ffff_f000n, 0x5000, 0x1000, 2, IOMMU_READ, 0, m)).toBe(0);
    // Frame 2^52 − 1 walks as 2^30 − 1 in a 4 TiB table: the top page of the aperture.
    expect([iommuIovaToPhys(r.d, 0x3ff_ffff_f000), iommuIovaToPhys(r.d, 0)]).toEqual([0x5000, 0x6000]);
    expect(r.d.ops!.mapPages(r.d, 0, 0, 0x1000, 0, IOMMU_READ, 0, m)).toBe(-ERRNO.EINVAL);
    const w0 = r.d.counters.warns;
    expect(r.d.ops!.unmapPages(r.d, 0, 0x1000, 0, null)).toBe(0);
    expect(r.d.counters.warns - w0).toBe(1);
    expect(r.d.quirks["iova-wrap"]).toBe(3);
    const s = makeS390(5, { strict: true });
    expect(s.d.ops!.mapPages(s.d, 0xffff_ffff_ffff_f000n, 0x5000, 0x1000, 2, IOMMU_READ, 0, m)).toBe(
      -ERRNO.EINVAL,
    );
    expect(s.d.ops!.mapPages(s.d, 0, 0, 0x1000, 0, IOMMU_READ, 0, m)).toBe(0);
  });

  it("outside the aperture: map -EINVAL, unmap 0 with a WARN, phys 0 (unmapped, no WARN)", () => {
    const t = makeS390();
    expect(() => iommuMap(t.d, 0x400_0000_0000, 0, 0x1000, RW)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(iommuUnmap(t.d, 0x400_0000_0000, 0x1000)).toBe(0);
    expect(t.d.counters.warns).toBe(1);
    expect(iommuIovaToPhys(t.d, 0x400_0000_0000)).toBe(0);
    expect(iommuIovaToPhysLength(t.d, 0x400_0000_0000).length).toBe(2 ** 42); // [2^42, 2^43): beyond the aperture
    expect(t.d.counters.warns).toBe(1); // the lookups do not WARN
  });
});
