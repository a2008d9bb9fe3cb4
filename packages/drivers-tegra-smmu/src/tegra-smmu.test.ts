// drivers/iommu/tegra-smmu.c: entry encodings, the driver instance, MMIO and every known quirk in both modes.
import {
  ERRNO,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import {
  SMMU_PDE_NEXT,
  SMMU_PTB_DATA,
  SMMU_PTE_NONSECURE,
  SMMU_PTE_READABLE,
  SMMU_PTE_WRITABLE,
  TEGRA_SMMU_SOCS,
} from "./regs.js";
import { ptbDataValue, TEGRA_SMMU_QUIRKS, TegraSmmu, tegraMkPde, tegraMkPte } from "./tegra-smmu.js";
import { makeTegra } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function pte(d: ReturnType<typeof makeTegra>["d"], iova: number): number {
  const pde = Math.floor(iova / 0x40_0000) % 1024;
  const pt = d.pts[pde]!;
  if (pt < 0) return 0;
  return d.allocator.mem.read32(pt + 4 * (Math.floor(iova / 0x1000) % 1024));
}

describe("tegra-smmu entries", () => {
  it("PTE bits for every prot combination (NS always, R/W from IOMMU_READ/WRITE, nothing else)", () => {
    for (let prot = 0; prot < 0x40; prot++) {
      const v = tegraMkPte(0x12345, prot);
      const want =
        (0x12345 |
          SMMU_PTE_NONSECURE |
          (prot & IOMMU_READ ? SMMU_PTE_READABLE : 0) |
          (prot & IOMMU_WRITE ? SMMU_PTE_WRITABLE : 0)) >>>
        0;
      expect(v).toBe(want);
      const { d } = makeTegra();
      iommuMap(d, 0x1000, 0x12345000, 0x1000, prot);
      expect(pte(d, 0x1000)).toBe(want);
    }
  });

  it("the only page size is 4 KiB: one PTE per page, frame in bits 21:0 (34 address bits)", () => {
    const { d } = makeTegra();
    expect(d.pgsizeBitmap).toBe(0x1000);
    iommuMap(d, 0x3fe000, 0x3_ffff_e000, 0x4000, RW);
    expect(pte(d, 0x3fe000)).toBe(0xe03ffffe);
    expect(pte(d, 0x3ff000)).toBe(0xe03fffff);
    expect(pte(d, 0x400000)).toBe(0xe0400000);
    expect(pte(d, 0x401000)).toBe(0xe0400001);
  });

  it("PDE = (pt >> 12) | R | W | NS | NEXT; PTB_DATA = (pd >> 12) | R | W | NS", () => {
    expect(tegraMkPde(0x8000_1000)).toBe(0xf0080001);
    expect(ptbDataValue(0x8000_0000, 0xe000_0000)).toBe(0xe0080000);
    const { smmu, d } = makeTegra();
    expect(smmu.readReg(SMMU_PTB_DATA)).toBe(0xe0080000);
    iommuMap(d, 0x80_0000, 0, 0x1000, RW);
    const pd = d.allocator.mem.read32(d.pd + 2 * 4);
    expect(pd & SMMU_PDE_NEXT).toBe(SMMU_PDE_NEXT);
    expect((pd & 0x3fffff) * 0x1000).toBe(d.pts[2]);
  });
});

describe("TegraSmmu (IommuDriver)", () => {
  it("domainAllocPagingFlags: flags → -EOPNOTSUPP, geometry 0..4G forced, bitmap 4K; capable() is false", () => {
    const smmu = new TegraSmmu({ soc: "tegra30" });
    expect(smmu.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(-ERRNO.EOPNOTSUPP);
    const d = smmu.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true });
    expect(smmu.pgsizeBitmap).toBe(0x1000);
    expect(smmu.capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(false);
    expect(smmu.pfnMask).toBe(0xfffff);
    expect(new TegraSmmu({ soc: "tegra210" }).pfnMask).toBe(0x3fffff);
    expect(TEGRA_SMMU_SOCS.tegra30.numAsids).toBe(4);
  });

  it("-ENOMEM when the page directory cannot be allocated", () => {
    const allocator = new TableAllocator(new PhysMem());
    allocator.failNth(1);
    expect(new TegraSmmu({ allocator }).domainAllocPagingFlags(0)).toBe(-ERRNO.ENOMEM);
  });

  it("attach: a PD above the PFN range is -ENOMEM; ASIDs run out with -ENOSPC; detach frees the ASID", () => {
    const high = new TableAllocator(new PhysMem(), { base: 0x1_0000_0000 });
    const s32 = new TegraSmmu({ soc: "tegra30", allocator: high });
    const d32 = s32.domainAllocPagingFlags(0);
    if (typeof d32 === "number") throw new Error("alloc");
    expect(s32.attach(d32)).toBe(-ERRNO.ENOMEM);

    const smmu = new TegraSmmu({ soc: "tegra30" });
    const ds = [0, 1, 2, 3, 4].map(() => smmu.domainAllocPagingFlags(0));
    const rets = ds.map((d) => (typeof d === "number" ? d : smmu.attach(d)));
    expect(rets).toEqual([0, 0, 0, 0, -ERRNO.ENOSPC]);
    expect(ds.slice(0, 4).map((d) => (typeof d === "number" ? -1 : d.id))).toEqual([0, 1, 2, 3]);
    const first = ds[0]!;
    if (typeof first === "number") throw new Error("alloc");
    smmu.detach(first);
    const last = ds[4]!;
    if (typeof last === "number") throw new Error("alloc");
    expect(smmu.attach(last)).toBe(0);
    expect(last.id).toBe(0);
  });

  it("MMIO: a new PT costs set_pde + set_pte (PTC flush HI+ADR, TLB flush, read-back); 32-bit SoCs skip HI", () => {
    const { smmu, d } = makeTegra();
    smmu.resetMmio();
    iommuMap(d, 0, 0, 0x1000, RW);
    expect([smmu.mmioWrites, smmu.mmioReads]).toEqual([6, 2]);
    iommuMap(d, 0x1000, 0, 0x1000, RW);
    expect([smmu.mmioWrites, smmu.mmioReads]).toEqual([9, 3]);
    iommuUnmap(d, 0, 0x2000); // two PTEs, then the PDE
    expect([smmu.mmioWrites, smmu.mmioReads]).toEqual([18, 6]);
    const t = makeTegra({ numAddressBits: 32 });
    t.smmu.resetMmio();
    iommuMap(t.d, 0, 0, 0x1000, RW);
    expect([t.smmu.mmioWrites, t.smmu.mmioReads]).toEqual([4, 2]);
    expect(d.counters.flushPage).toBe(4);
    expect(d.counters.flushWalk).toBe(2);
  });

  it("page tables are freed when their use count drops to 0", () => {
    const { d, allocator } = makeTegra();
    iommuMap(d, 0x3fe000, 0x100_0000, 0x4000, RW);
    expect([...d.count.slice(0, 2)]).toEqual([2, 2]);
    expect(allocator.liveCount).toBe(3);
    expect(iommuUnmap(d, 0x400000, 0x2000)).toBe(0x2000);
    expect(d.pts[1]).toBe(-1);
    expect(d.allocator.mem.read32(d.pd + 4)).toBe(0);
    expect(allocator.liveCount).toBe(2);
    expect(d.counters.tablesAllocated - d.counters.tablesFreed).toBe(2);
  });

  it("lookups: iommu_iova_to_phys keeps the offset; the length is 4 KiB mapped, 4 MiB without a PT, 4 KiB in a PT", () => {
    const { d } = makeTegra();
    iommuMap(d, 0x40_0000, 0x5000, 0x1000, RW);
    expect(iommuIovaToPhys(d, 0x40_0fff)).toBe(0x5fff);
    const o = iommuIovaToPhysLength(d, 0x40_0abc);
    expect([o.mapped, o.phys, o.length]).toEqual([true, 0x5abc, 0x1000]);
    expect(iommuIovaToPhysLength(d, 0x40_1000).length).toBe(0x1000);
    expect(iommuIovaToPhysLength(d, 0x80_0000).length).toBe(0x40_0000);
    expect(iommuIovaToPhysLength(d, 0x80_0000).mapped).toBe(false);
  });
});

describe("known kernel quirks, default (kernel) mode and strict mode", () => {
  it("lists every quirk", () => {
    expect(TEGRA_SMMU_QUIRKS).toEqual([
      "map-ignores-pgcount",
      "unmap-ignores-pgcount",
      "overwrite",
      "iova-alias",
      "pa-overflow",
      "free-leaks-tables",
    ]);
  });

  it("map-ignores-pgcount: one PTE, pgsize reported (count 0 and 64 KiB too) | strict: pgcount pages, -EINVAL for 64 KiB", () => {
    const { d } = makeTegra();
    const m = new SizeOut();
    expect(d.ops!.mapPages(d, 0x80_0000, 0x200_0000, 0x1000, 8, RW, 0, m)).toBe(0);
    expect(m.value).toBe(0x1000);
    expect(d.ops!.mapPages(d, 0x90_0000, 0x210_0000, 0x1_0000, 1, RW, 0, m)).toBe(0);
    expect(d.ops!.mapPages(d, 0xa0_0000, 0x220_0000, 0x1000, 0, RW, 0, m)).toBe(0);
    expect(m.value).toBe(0x12000);
    expect([pte(d, 0x80_1000), pte(d, 0x90_1000), pte(d, 0xa0_0000)]).toEqual([0, 0, 0xe0002200]);
    expect(d.quirks["map-ignores-pgcount"]).toBe(3);

    const s = makeTegra({ strict: true }).d;
    const n = new SizeOut();
    expect(s.ops!.mapPages(s, 0x80_0000, 0x200_0000, 0x1000, 8, RW, 0, n)).toBe(0);
    expect(n.value).toBe(0x8000);
    expect(pte(s, 0x80_7000)).toBe(0xe0002007);
    expect(s.ops!.mapPages(s, 0x90_0000, 0x210_0000, 0x1_0000, 1, RW, 0, n)).toBe(-ERRNO.EINVAL);
  });

  it("unmap-ignores-pgcount: one PTE cleared, pgsize returned | strict: up to pgcount PTEs, stops at a hole", () => {
    const { d } = makeTegra();
    iommuMap(d, 0x100_0000, 0x300_0000, 0x3000, RW);
    expect(d.ops!.unmapPages(d, 0x100_0000, 0x1000, 3, null)).toBe(0x1000);
    expect(d.ops!.unmapPages(d, 0x100_1000, 0x1_0000, 1, null)).toBe(0x1_0000);
    expect(d.ops!.unmapPages(d, 0x100_1000, 0x1000, 1, null)).toBe(0);
    expect(pte(d, 0x100_2000)).not.toBe(0);

    const s = makeTegra({ strict: true }).d;
    iommuMap(s, 0x100_0000, 0x300_0000, 0x2000, RW);
    iommuMap(s, 0x100_3000, 0x300_0000, 0x1000, RW);
    expect(s.ops!.unmapPages(s, 0x100_0000, 0x1000, 4, null)).toBe(0x2000);
    expect(s.ops!.unmapPages(s, 0x100_3000, 0x1_0000, 1, null)).toBe(0);
  });

  it("overwrite: a live PTE is replaced silently, the use count unchanged | strict: -EEXIST, nothing written", () => {
    const { d } = makeTegra();
    iommuMap(d, 0, 0, 0x1000, RW);
    iommuMap(d, 0, 0x5000, 0x1000, IOMMU_READ);
    expect(pte(d, 0)).toBe(0xa0000005);
    expect(d.count[0]).toBe(1);
    expect(d.quirks.overwrite).toBe(1);
    const s = makeTegra({ strict: true }).d;
    iommuMap(s, 0, 0, 0x1000, RW);
    expect(() => iommuMap(s, 0, 0x5000, 0x1000, IOMMU_READ)).toThrow(
      expect.objectContaining({ code: "EEXIST", mapped: 0 }),
    );
    expect(pte(s, 0)).toBe(0xe0000000);
    // A multi-page strict map that meets a live PTE stops there; the core unrolls the rest.
    iommuMap(s, 0x5000, 0x5000, 0x1000, RW);
    expect(() => iommuMap(s, 0x3000, 0x9000, 0x3000, RW)).toThrow(
      expect.objectContaining({ code: "EEXIST", mapped: 0x2000, unrolled: 0x2000 }),
    );
    expect([pte(s, 0x3000), pte(s, 0x4000), pte(s, 0x5000)]).toEqual([0, 0, 0xe0000005]);
  });

  it("iova-alias: IOVAs ≥ 4 GiB index the low 4 GiB | strict: map -EINVAL, unmap 0, lookups unmapped", () => {
    const { d } = makeTegra();
    const m = new SizeOut();
    expect(d.ops!.mapPages(d, 0x1_0000_0000, 0x400_0000, 0x1000, 1, RW, 0, m)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0x400_0000);
    expect(iommuIovaToPhys(d, 0x1_0000_0123)).toBe(0x400_0123);
    expect(d.quirks["iova-alias"]).toBe(1);
    const s = makeTegra({ strict: true }).d;
    expect(s.ops!.mapPages(s, 0x1_0000_0000, 0x400_0000, 0x1000, 1, RW, 0, m)).toBe(-ERRNO.EINVAL);
    expect(s.ops!.mapPages(s, 0xffff_f000, 0x400_0000, 0x1000, 2, RW, 0, m)).toBe(-ERRNO.EINVAL);
    iommuMap(s, 0, 0x400_0000, 0x1000, RW);
    expect(iommuIovaToPhys(s, 0x1_0000_0000)).toBe(0);
    expect(iommuIovaToPhysLength(s, 0x1_0000_0000).mapped).toBe(false);
    expect(s.ops!.unmapPages(s, 0x1_0000_0000, 0x1000, 1, null)).toBe(0);
  });

  it("pa-overflow: frame bits above pfn_mask land in R/W/NS | strict: -EINVAL", () => {
    const { d } = makeTegra();
    const m = new SizeOut();
    d.ops!.mapPages(d, 0x200_0000, 0x40_0000_0000, 0x1000, 1, IOMMU_READ, 0, m);
    d.ops!.mapPages(d, 0x200_1000, 0xfff_ff00_0000, 0x1000, 1, 0, 0, m);
    expect([pte(d, 0x200_0000), pte(d, 0x200_1000)]).toEqual([0xa4000000, 0xfffff000]);
    expect([iommuIovaToPhys(d, 0x200_0000), iommuIovaToPhys(d, 0x200_1000)]).toEqual([0, 0x3_ff00_0000]);
    expect(d.quirks["pa-overflow"]).toBe(2);
    const s = makeTegra({ strict: true }).d;
    expect(s.ops!.mapPages(s, 0x200_0000, 0x4_0000_0000, 0x1000, 1, IOMMU_READ, 0, m)).toBe(-ERRNO.EINVAL);
    expect(s.ops!.mapPages(s, 0x200_0000, 0x3_ffff_f000, 0x1000, 2, IOMMU_READ, 0, m)).toBe(-ERRNO.EINVAL);
  });

  it("free-leaks-tables: domain free keeps the PD and PTs | strict: everything freed", () => {
    const t = makeTegra({ attach: false });
    iommuMap(t.d, 0, 0, 0x80_0000, RW);
    t.d.ops!.free!(t.d);
    expect(t.allocator.liveCount).toBe(3);
    expect(t.d.quirks["free-leaks-tables"]).toBe(1);
    const s = makeTegra({ strict: true, attach: false });
    iommuMap(s.d, 0, 0, 0x80_0000, RW);
    s.d.ops!.free!(s.d);
    expect(s.allocator.liveCount).toBe(0);
    expect(s.d.counters.tablesAllocated).toBe(s.d.counters.tablesFreed);
  });

  it("prot 0 still writes a present (NS-only) PTE: iommu_iova_to_phys translates it", () => {
    const { d } = makeTegra();
    iommuMap(d, 0x400_0000, 0x500_0000, 0x1000, 0);
    expect(pte(d, 0x400_0000)).toBe(0x20005000);
    expect(iommuIovaToPhys(d, 0x400_0000)).toBe(0x500_0000);
  });
});
