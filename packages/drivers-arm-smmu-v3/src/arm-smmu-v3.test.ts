import {
  errnoName,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_CAP_ENFORCE_CACHE_COHERENCY,
  IOMMU_CAP_NOEXEC,
  IOMMU_CAP_PRE_BOOT_PROTECTION,
  IOMMU_DIRTY_NO_CLEAR,
  IOMMU_DOMAIN_DMA,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_HWPT_FAULT_ID_VALID,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type IommuDriver,
  IommuError,
  IotlbGather,
  iommuDomainInspector,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuPagingDomainAllocFlags,
  iommuUnmap,
  iommuUnmapFast,
  PhysLength,
  PhysMem,
  SizeOut,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { IO_PGTABLE_QUIRK_ARM_HD, IO_PGTABLE_QUIRK_ARM_S2FWB, IoPgtableFmt } from "@iommu/io-pgtable";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArmSmmuV3 } from "./arm-smmu-v3.js";
import type { ArmSmmuDomain } from "./domain.js";
import { IdAllocator } from "./id-alloc.js";
import { CMDQ_OP_TLBI_NH_ASID, CMDQ_OP_TLBI_NH_VA } from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;

/**
 * The errno of a refused allocation, checked both ways: domainAllocPagingFlags() returns it
 * negated, and the core's iommuPagingDomainAllocFlags() throws it as an IommuError.
 */
function allocErrno(smmu: ArmSmmuV3, flags: number): string {
  const ret = smmu.domainAllocPagingFlags(flags);
  if (typeof ret !== "number") return "none";
  const code = errnoOf(() => iommuPagingDomainAllocFlags(smmu, flags));
  expect(errnoName(ret)).toBe(code);
  expect(ret).toBeLessThan(0);
  return code;
}

function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IommuError) return e.code;
    throw e;
  }
  return "none";
}

describe("arm_smmu_domain_alloc_paging / finalise", () => {
  it("builds an ARM_64_LPAE_S1 domain with one granule's page sizes and a 2^ias aperture", () => {
    const smmu = new ArmSmmuV3();
    const d = smmu.domainAllocPaging();
    expect(d.stage).toBe("s1");
    expect(d.pgtblCfg.fmt).toBe(IoPgtableFmt.ARM_64_LPAE_S1);
    expect(d.pgsizeBitmap).toBe(SZ_4K + SZ_2M + SZ_1G);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true });
    expect([d.pgtblCfg.ias, d.pgtblCfg.oas, d.pgtblCfg.coherentWalk]).toEqual([48, 48, true]);
    expect(d.asid).toBe(1);
    expect(d.ops).toBe(smmu.ops);
    expect(d.pgtblCfg.armLpaeS1Cfg?.ttbr).toBeDefined();
  });

  it("narrows pgsize_bitmap per granule (16K: 16K|32M, 64K: 64K|512M, +4T with 52-bit OAS)", () => {
    expect(new ArmSmmuV3({ granules: [0x4000] }).domainAllocPaging().pgsizeBitmap).toBe(0x4000 + 0x200_0000);
    expect(new ArmSmmuV3({ granules: [0x10000] }).domainAllocPaging().pgsizeBitmap).toBe(
      0x10000 + 0x2000_0000,
    );
    const big = new ArmSmmuV3({ granules: [0x10000], oas: 52, vax52: true, vaBits: 52 }).domainAllocPaging();
    expect(big.pgsizeBitmap).toBe(0x10000 + 0x2000_0000 + 2 ** 42);
    expect(big.geometry.apertureEnd).toBe(2 ** 52 - 1);
    // Only 16K and 64K offered: the smaller granule is chosen.
    expect(new ArmSmmuV3({ granules: [0x4000, 0x10000] }).domainAllocPaging().pgsizeBitmap).toBe(
      0x4000 + 0x200_0000,
    );
  });

  it("caps stage-1 ias at VA_BITS and at 48 without VAX", () => {
    expect(
      new ArmSmmuV3({ vax52: true, vaBits: 48, granules: [0x10000] }).domainAllocPaging().pgtblCfg.ias,
    ).toBe(48);
    expect(new ArmSmmuV3({ vaBits: 39 }).domainAllocPaging().geometry.apertureEnd).toBe(2 ** 39 - 1);
    expect(
      new ArmSmmuV3({ vax52: false, vaBits: 52, granules: [0x10000] }).domainAllocPaging().pgtblCfg.ias,
    ).toBe(48);
  });

  it("uses stage 2 when stage 1 is absent, with ias = oas and a VMID from 1", () => {
    const smmu = new ArmSmmuV3({ stage1: false, oas: 40 });
    const d = smmu.domainAllocPaging();
    expect(d.stage).toBe("s2");
    expect(d.pgtblCfg.fmt).toBe(IoPgtableFmt.ARM_64_LPAE_S2);
    expect([d.pgtblCfg.ias, d.pgtblCfg.oas]).toEqual([40, 40]);
    expect(d.geometry.apertureEnd).toBe(2 ** 40 - 1);
    expect([d.vmid, d.asid]).toEqual([1, 0]);
    expect(smmu.domainAllocPaging().vmid).toBe(2);
    expect(d.pgtblCfg.armLpaeS2Cfg?.vttbr).toBeDefined();
  });

  it("NEST_PARENT: a stage-2 parent, S2FWB quirk when the SMMU has FWB, EOPNOTSUPP without nesting", () => {
    const d = iommuPagingDomainAllocFlags(new ArmSmmuV3({ fwb: true }), IOMMU_HWPT_ALLOC_NEST_PARENT);
    expect([d.stage, d.nestParent]).toEqual(["s2", true]);
    expect(d.pgtblCfg.quirks & IO_PGTABLE_QUIRK_ARM_S2FWB).toBe(IO_PGTABLE_QUIRK_ARM_S2FWB);
    expect(iommuPagingDomainAllocFlags(new ArmSmmuV3(), IOMMU_HWPT_ALLOC_NEST_PARENT).pgtblCfg.quirks).toBe(
      0,
    );
    expect(allocErrno(new ArmSmmuV3({ stage2: false }), IOMMU_HWPT_ALLOC_NEST_PARENT)).toBe("EOPNOTSUPP");
    const mmu700 = new ArmSmmuV3({ iidr: ((0x487 << 20) | 0x43b) >>> 0 });
    expect(allocErrno(mmu700, IOMMU_HWPT_ALLOC_NEST_PARENT)).toBe("EOPNOTSUPP");
  });

  it("DIRTY_TRACKING: stage 1 with the HD quirk and dirty ops; refused on stage 2", () => {
    const d = iommuPagingDomainAllocFlags(
      new ArmSmmuV3({ httu: "access-dirty" }),
      IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    );
    expect(d.pgtblCfg.quirks & IO_PGTABLE_QUIRK_ARM_HD).toBe(IO_PGTABLE_QUIRK_ARM_HD);
    expect(d.dirtyOps).not.toBeNull();
    expect(d.dirtyOps!.setDirtyTracking(d, true)).toBe(0);
    const s2only = new ArmSmmuV3({ stage1: false });
    expect(allocErrno(s2only, IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe("EOPNOTSUPP");
    expect(allocErrno(s2only, IOMMU_HWPT_ALLOC_PASID)).toBe("EOPNOTSUPP");
    expect(iommuPagingDomainAllocFlags(new ArmSmmuV3(), IOMMU_HWPT_ALLOC_PASID).stage).toBe("s1");
  });

  it("answers capable() as arm_smmu_capable", () => {
    const coherent = new ArmSmmuV3({ httu: "access-dirty" });
    expect(
      (
        [
          IOMMU_CAP_CACHE_COHERENCY,
          IOMMU_CAP_NOEXEC,
          IOMMU_CAP_DEFERRED_FLUSH,
          IOMMU_CAP_DIRTY_TRACKING,
        ] as const
      ).map((c) => coherent.capable(c)),
    ).toEqual([true, true, true, true]);
    expect(coherent.capable(IOMMU_CAP_ENFORCE_CACHE_COHERENCY)).toBe(false);
    expect(coherent.capable(IOMMU_CAP_PRE_BOOT_PROTECTION)).toBe(false);
    const nc = new ArmSmmuV3({ coherent: false, httu: "access-dirty" });
    expect([nc.capable(IOMMU_CAP_CACHE_COHERENCY), nc.capable(IOMMU_CAP_DIRTY_TRACKING)]).toEqual([
      false,
      false,
    ]);
    expect(new ArmSmmuV3({ httu: "access" }).capable(IOMMU_CAP_DIRTY_TRACKING)).toBe(false);
  });

  it("refuses unknown flags and FAULT_ID_VALID", () => {
    expect(allocErrno(new ArmSmmuV3(), 1 << 7)).toBe("EOPNOTSUPP");
    expect(allocErrno(new ArmSmmuV3(), IOMMU_HWPT_FAULT_ID_VALID)).toBe("EOPNOTSUPP");
    expect(allocErrno(new ArmSmmuV3(), IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(
      "EOPNOTSUPP",
    );
  });

  it("runs out of 8-bit ASIDs after 255 domains (EBUSY) and reuses a freed one", () => {
    const smmu = new ArmSmmuV3({ asid16: false });
    const ds = Array.from({ length: 255 }, () => smmu.domainAllocPaging());
    expect(ds.at(-1)!.asid).toBe(255);
    expect(errnoOf(() => smmu.domainAllocPaging())).toBe("EBUSY");
    expect(allocErrno(smmu, 0)).toBe("EBUSY");
    ds[9]!.ops!.free!(ds[9]!);
    expect(smmu.domainAllocPaging().asid).toBe(10);
  });

  it("shares one ASID space between instances when given one allocator, as the kernel's global xarray", () => {
    const asids = new IdAllocator();
    const a = new ArmSmmuV3({ asids }).domainAllocPaging();
    const b = new ArmSmmuV3({ asids }).domainAllocPaging();
    expect([a.asid, b.asid]).toEqual([1, 2]);
  });

  it("gives each instance its own ops table; domains of one instance share it", () => {
    const s1 = new ArmSmmuV3();
    const s2 = new ArmSmmuV3();
    expect(s1.ops).not.toBe(s2.ops);
    expect(s1.domainAllocPaging().ops).toBe(s1.domainAllocPaging().ops);
  });
});

describe("paging ops through the core", () => {
  it("maps a 2M block, reports its length, and unmaps it with one leaf TLBI + CMD_SYNC", () => {
    const smmu = new ArmSmmuV3({ msi: false });
    const d = smmu.domainAllocPaging();
    iommuMap(d, 0x4020_0000, 0x1_0000_0000, SZ_2M, RW);
    const out = iommuIovaToPhysLength(d, 0x4020_1234, new PhysLength());
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0x1_0000_1234, SZ_2M]);
    expect(iommuIovaToPhys(d, 0x4020_1234)).toBe(0x1_0000_1234);
    expect(iommuIovaToPhys(d, 0x4060_0000)).toBe(0);
    const before = smmu.cmdq.prod;
    expect(iommuUnmap(d, 0x4020_0000, SZ_2M)).toBe(SZ_2M);
    const log = smmu.cmdq.log(before);
    expect(log.map((e) => e.name)).toEqual(["CMD_TLBI_NH_VA", "CMD_SYNC"]);
    expect(log[0]).toMatchObject({ asid: d.asid, leaf: true, addr: 0x4020_0000n });
    expect([d.counters.flushPage, d.counters.flushRange, d.counters.syncs]).toEqual([1, 1, 1]);
    expect(iommuIovaToPhysLength(d, 0x4020_0000).mapped).toBe(false);
  });

  it("unmapping a block over a 4K table frees the table with a walk (non-leaf) invalidation", () => {
    const smmu = new ArmSmmuV3();
    const d = smmu.domainAllocPaging();
    iommuMap(d, 0, 0x1_0000_0000, SZ_4K, RW);
    iommuMap(d, 0x5000, 0x1_0000_5000, SZ_4K, RW);
    const tables = d.allocator.liveCount;
    const before = smmu.cmdq.prod;
    // Core picks a 2M page size for an aligned 2M unmap: LPAE meets the level-3 table.
    expect(iommuUnmap(d, 0, SZ_2M)).toBe(SZ_2M);
    expect(d.counters.flushWalk).toBe(1);
    expect(d.allocator.liveCount).toBe(tables - 1);
    // tlb_flush_walk: one non-leaf TLBI per 4K granule of the span, then CMD_SYNC; the
    // cleared entry is also gathered (add_page) and synced as one 2M leaf invalidation.
    const log = smmu.cmdq.log(before);
    const tlbi = log.filter((e) => e.opcode === CMDQ_OP_TLBI_NH_VA);
    expect(tlbi.filter((e) => !e.leaf).length).toBe(SZ_2M / SZ_4K);
    expect(tlbi.filter((e) => e.leaf).map((e) => e.addr)).toEqual([0n]);
    expect(log.length).toBe(SZ_2M / SZ_4K + 3);
    expect(d.counters.flushPage).toBe(1);
  });

  it("batches a THP-style fast unmap into one gather and one range invalidation per sync", () => {
    const smmu = new ArmSmmuV3({ rangeInv: true });
    const d = smmu.domainAllocPaging();
    for (let i = 0; i < 8; i++) iommuMap(d, i * SZ_2M, 0x2_0000_0000 + i * 2 * SZ_2M, SZ_2M, RW);
    const g = new IotlbGather();
    const before = smmu.cmdq.prod;
    for (let i = 0; i < 8; i++) expect(iommuUnmapFast(d, i * SZ_2M, SZ_2M, g)).toBe(SZ_2M);
    expect(smmu.cmdq.prod).toBe(before);
    iommuIotlbSync(d, g);
    const log = smmu.cmdq.log(before);
    // 8 × 2M = 4096 pages: one range command (NUM-1 = 0, SCALE 12), TTL 2, then CMD_SYNC.
    expect(log.map((e) => [e.name, e.num, e.scale, e.ttl])).toEqual([
      ["CMD_TLBI_NH_VA", 0, 12, 2],
      ["CMD_SYNC", 0, 0, 0],
    ]);
  });

  it("a queued (flush-queue) gather gets no per-page invalidation; flush_iotlb_all covers it later", () => {
    const smmu = new ArmSmmuV3();
    const d = smmu.domainAllocPaging();
    iommuMap(d, SZ_2M, 0x6_0000_0000, SZ_2M, RW);
    const g = new IotlbGather();
    g.queued = true;
    const before = smmu.cmdq.prod;
    expect(iommuUnmapFast(d, SZ_2M, SZ_2M, g)).toBe(SZ_2M);
    expect([d.counters.flushPage, smmu.cmdq.prod - before]).toEqual([0, 0]);
    d.ops!.flushIotlbAll!(d);
    expect(smmu.cmdq.log(before).map((e) => e.name)).toEqual(["CMD_TLBI_NH_ASID", "CMD_SYNC"]);
  });

  it("flush_iotlb_all and free issue a context invalidation; free releases the ASID", () => {
    const smmu = new ArmSmmuV3();
    const d = smmu.domainAllocPaging();
    d.ops!.flushIotlbAll!(d);
    expect(smmu.cmdq.count(CMDQ_OP_TLBI_NH_ASID)).toBe(1);
    d.ops!.free!(d);
    expect(smmu.cmdq.count(CMDQ_OP_TLBI_NH_ASID)).toBe(2);
    expect(d.pgtblOps).toBeNull();
    expect(smmu.asids.has(d.asid)).toBe(false);
    // After free the ops answer as the kernel does with no pgtbl_ops.
    const out = new PhysLength();
    d.ops!.iovaToPhysLength!(d, 0, out);
    expect(out.mapped).toBe(false);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(d.ops!.unmapPages(d, 0, SZ_4K, 1, null)).toBe(0);
    expect(d.ops!.mapPages(d, 0, 0, SZ_4K, 1, RW, 0, new SizeOut())).toBe(-19); // -ENODEV
    expect(d.ops!.inspect!(d)).toBeNull();
    d.ops!.free!(d);
    expect(smmu.cmdq.count(CMDQ_OP_TLBI_NH_ASID)).toBe(2);
  });

  it("a nest parent also drops the nested stage-1 entries of its VMID (TLBI_NH_ALL)", () => {
    const smmu = new ArmSmmuV3();
    const d = iommuPagingDomainAllocFlags(smmu, IOMMU_HWPT_ALLOC_NEST_PARENT);
    iommuMap(d, SZ_2M, 0x3_0000_0000, SZ_2M, RW);
    const before = smmu.cmdq.prod;
    iommuUnmap(d, SZ_2M, SZ_2M);
    expect(smmu.cmdq.log(before).map((e) => [e.name, e.vmid])).toEqual([
      ["CMD_TLBI_S2_IPA", d.vmid],
      ["CMD_SYNC", 0],
      ["CMD_TLBI_NH_ALL", d.vmid],
      ["CMD_SYNC", 0],
    ]);
  });

  it("maps a 4 TB level-1 block on a 64K-granule domain with a 52-bit OAS", () => {
    const d = new ArmSmmuV3({ granules: [0x10000], oas: 52, vax52: true, vaBits: 52 }).domainAllocPaging();
    const T4 = 2 ** 42;
    iommuMap(d, T4, 2 ** 50, T4, RW);
    const out = iommuIovaToPhysLength(d, T4 + 0x12345);
    expect([out.mapped, out.length, out.physNumber]).toEqual([true, T4, 2 ** 50 + 0x12345]);
    expect(iommuUnmap(d, T4, T4)).toBe(T4);
  });

  it("dirty tracking reads back through io-pgtable: fresh writable leaves start dirty (DBM, no AP_RDONLY)", () => {
    const d = iommuPagingDomainAllocFlags(
      new ArmSmmuV3({ httu: "access-dirty" }),
      IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    );
    iommuMap(d, SZ_2M, 0x5_0000_0000, SZ_2M, RW);
    const read = (flags: number) => {
      const seen: Array<[number, number]> = [];
      expect(
        d.dirtyOps!.readAndClearDirty(d, SZ_2M, SZ_2M, flags, {
          record: (iova, len) => seen.push([iova, len]),
        }),
      ).toBe(0);
      return seen;
    };
    expect(read(IOMMU_DIRTY_NO_CLEAR)).toEqual([[SZ_2M, SZ_2M]]);
    expect(read(0)).toEqual([[SZ_2M, SZ_2M]]);
    // The read cleared it (made the leaf writeable-clean).
    expect(read(0)).toEqual([]);
  });

  it("stage-2 domains invalidate by IPA within their VMID", () => {
    const smmu = new ArmSmmuV3({ stage1: false });
    const d = smmu.domainAllocPaging();
    iommuMap(d, SZ_1G, 0x3_0000_0000, SZ_1G, RW);
    const before = smmu.cmdq.prod;
    iommuUnmap(d, SZ_1G, SZ_1G);
    expect(smmu.cmdq.log(before)[0]).toMatchObject({
      name: "CMD_TLBI_S2_IPA",
      vmid: d.vmid,
      addr: BigInt(SZ_1G),
    });
  });

  it("every granule: lookups agree with an interval-map reference after random map/unmap", () => {
    const granules = [0x1000, 0x4000, 0x10000] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...granules),
        fc.array(
          fc.record({ slot: fc.integer({ min: 0, max: 15 }), blocks: fc.boolean(), unmap: fc.boolean() }),
          {
            maxLength: 24,
          },
        ),
        (g, steps) => {
          const d = new ArmSmmuV3({ granules: [g] }).domainAllocPaging();
          const block = g === 0x1000 ? SZ_2M : g === 0x4000 ? 0x200_0000 : 0x2000_0000;
          // Each slot is one block of IOVA; a slot is either one block leaf or 4 granule pages.
          const ref = new Map<number, { pa: number; leaf: number }>();
          for (const s of steps) {
            const iova = s.slot * block;
            if (s.unmap) {
              if (ref.has(s.slot)) {
                expect(iommuUnmap(d, iova, block)).toBe(block);
                ref.delete(s.slot);
              }
            } else if (!ref.has(s.slot)) {
              const pa = 2 ** 36 + s.slot * 2 * block;
              if (s.blocks) iommuMap(d, iova, pa, block, RW);
              else iommuMap(d, iova, pa, 4 * g, RW);
              ref.set(s.slot, { pa, leaf: s.blocks ? block : g });
            }
          }
          const out = new PhysLength();
          for (let slot = 0; slot < 16; slot++) {
            const e = ref.get(slot);
            const probe = slot * block + g + 8;
            iommuIovaToPhysLength(d, probe, out);
            if (!e) {
              expect(out.mapped).toBe(false);
              continue;
            }
            expect(out.mapped).toBe(true);
            expect(out.length).toBe(e.leaf);
            expect(out.physNumber).toBe(e.pa + g + 8);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("ArmSmmuV3 as an IommuDriver", () => {
  it("offers name, pgsize_bitmap, capable() and domain_alloc_paging_flags() through the core contract", () => {
    const smmu = new ArmSmmuV3({ name: "smmu0", granules: [0x1000, 0x10000] });
    const drv: IommuDriver<ArmSmmuDomain> = smmu;
    expect(drv.name).toBe("smmu0");
    expect(drv.pgsizeBitmap).toBe(SZ_4K + SZ_2M + SZ_1G + 0x1_0000 + 0x2000_0000);
    expect(drv.capable(IOMMU_CAP_NOEXEC)).toBe(true);
    const d = iommuPagingDomainAllocFlags(drv, 0);
    expect([d.stage, d.ops, d.ops!.name]).toEqual(["s1", smmu.ops, "smmu0"]);
    // The driver's domain_alloc_paging_flags() returns, never throws.
    expect(drv.domainAllocPagingFlags(1 << 7)).toBe(-95);
    expect(() => iommuPagingDomainAllocFlags(drv, 1 << 7)).toThrow(IommuError);
  });

  it("takes the core's allocation options: type, allocator and counters", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const d = new ArmSmmuV3().domainAllocPaging({ type: IOMMU_DOMAIN_DMA, allocator, counters });
    expect([d.type, d.allocator, d.counters]).toEqual([IOMMU_DOMAIN_DMA, allocator, counters]);
    iommuMap(d, 0, 0x1000, SZ_4K, RW);
    expect(counters.pteWrites).toBeGreaterThan(0);
    expect(allocator.liveCount).toBe(4);
  });

  it("inspects its domains' tables through the io-pgtable inspector", () => {
    const d = new ArmSmmuV3().domainAllocPaging();
    iommuMap(d, 0x4020_0000, 0x1_0000_0000, SZ_2M, RW);
    const insp = iommuDomainInspector(d)!;
    expect(insp.geometry()).toMatchObject({ format: "ARM_64_LPAE_S1", topLevel: 0, levels: 4, iasBits: 48 });
    const w = insp.walk(0x4020_1234);
    expect([w.end, w.phys, w.length, w.steps.length]).toEqual(["leaf", 0x1_0000_1234n, SZ_2M, 3]);
    expect(insp.stats().leavesBySize.get(SZ_2M)).toBe(1);
    const reads = d.counters.pteReads;
    insp.stats();
    expect(d.counters.pteReads).toBe(reads);
  });
});
