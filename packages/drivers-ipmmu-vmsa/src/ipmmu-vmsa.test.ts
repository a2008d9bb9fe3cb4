/**
 * The IPMMU driver's paging behaviour: the domain before its first attach (the missing NULL
 * checks), context allocation at attach (-EBUSY, -EINVAL with the context released and the
 * geometry already set), geometry edges of the 32-bit LPAE table, the NS bits the quirk puts
 * in every entry, and the TLB flushes per call (no range invalidation: every iotlb_sync and
 * tlb_flush_walk is a whole-context IMCTR flush; map flushes nothing).
 */
import {
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuDomainInspector,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { IpmmuVmsa } from "./ipmmu-vmsa.js";
import { IMCTR, IMCTR_INTEN, IMCTR_MMUEN } from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function errnoOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IommuError) return e.code;
    throw e;
  }
  return "none";
}

describe("ipmmu_domain_alloc_paging: before the first attach", () => {
  it("pgsize_bitmap 4K|2M|1G, no context, no table, empty geometry; flags → -EOPNOTSUPP", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const d = mmu.domainAllocPaging();
    expect([d.pgsizeBitmap, d.mmu, d.pgtblOps]).toEqual([SZ_1G + SZ_2M + SZ_4K, null, null]);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0, forceAperture: false });
    expect(mmu.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_NEST_PARENT)).toBe(-95);
  });

  it("map, unmap, iova_to_phys_length (also under iommu_iova_to_phys) dereference a NULL domain->iop: typed EFAULT, counted as a bug", () => {
    const d = new IpmmuVmsa().domainAllocPaging();
    expect(errnoOf(() => iommuMap(d, 0, 0, SZ_4K, RW))).toBe("EFAULT");
    expect(errnoOf(() => iommuUnmap(d, 0, SZ_4K))).toBe("EFAULT");
    expect(errnoOf(() => iommuIovaToPhys(d, 0))).toBe("EFAULT");
    expect(errnoOf(() => iommuIovaToPhysLength(d, 0))).toBe("EFAULT");
    expect(d.counters.bugs).toBe(4);
  });

  it("fixNullIop: the guarded forms instead (-ENODEV, 0, 0, unmapped)", () => {
    const d = new IpmmuVmsa({ fixNullIop: true }).domainAllocPaging();
    expect(errnoOf(() => iommuMap(d, 0, 0, SZ_4K, RW))).toBe("ENODEV");
    expect(iommuUnmap(d, 0, SZ_4K)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(iommuIovaToPhysLength(d, 0).mapped).toBe(false);
    expect(d.counters.bugs).toBe(0);
  });

  it("flush_iotlb_all / iotlb_sync do nothing without a context (`if (domain->mmu)`)", () => {
    const mmu = new IpmmuVmsa();
    const d = mmu.domainAllocPaging();
    const f = mmu.tlbFlushes;
    d.ops!.flushIotlbAll!(d);
    expect(mmu.tlbFlushes).toBe(f);
    // Freeing an unattached domain touches no register.
    const w = mmu.mmioWrites;
    d.ops!.free!(d);
    expect(mmu.mmioWrites).toBe(w);
  });
});

describe("ipmmu_attach_device / ipmmu_domain_init_context", () => {
  it("Gen3: 7 domains get contexts 1..7, the 8th attach is -EBUSY and leaves the domain unused", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a77965" });
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      const d = mmu.domainAllocPaging();
      expect(mmu.attachDev(d)).toBe(0);
      ids.push(d.contextId);
    }
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const d = mmu.domainAllocPaging();
    expect(mmu.attachDev(d)).toBe(-16);
    expect([d.mmu, d.pgtblOps]).toEqual([null, null]);
    // Kernel quirk: the geometry was set before the context search failed.
    expect(d.geometry.apertureEnd).toBe(2 ** 32 - 1);
  });

  it("a failed table allocation is -EINVAL with the context released", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const allocator = new TableAllocator();
    const d = mmu.domainAllocPaging({ allocator });
    allocator.failNth(1);
    expect(mmu.attachDev(d)).toBe(-22);
    expect(d.mmu).toBeNull();
    expect(mmu.freeContexts).toBe(7);
    expect(mmu.attachDev(d)).toBe(0);
    expect(d.contextId).toBe(1);
  });

  it("a second device on the same IPMMU reuses the context; another IPMMU's device is -EINVAL", () => {
    const mm = new IpmmuVmsa({ soc: "r8a7795", main: true });
    const a = new IpmmuVmsa({ soc: "r8a7795", root: mm });
    const b = new IpmmuVmsa({ soc: "r8a7795", root: mm });
    const d = a.domainAllocPaging();
    expect(a.attachDev(d, a.master({ utlbs: [3] }))).toBe(0);
    expect(a.attachDev(d, a.master({ utlbs: [4] }))).toBe(0);
    expect([a.utlbCtx[3], a.utlbCtx[4]]).toEqual([d.contextId, d.contextId]);
    expect(a.attachDev(d, b.master())).toBe(-22);
    // Identity attach takes the device's micro-TLBs off the context.
    expect(a.attachIdentity(a.master({ utlbs: [3] }), d)).toBe(0);
    expect(a.utlbCtx[3]).toBe(-1);
  });

  it("Gen2: one context only", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7791" });
    expect(mmu.attachDev(mmu.domainAllocPaging())).toBe(0);
    expect(mmu.attachDev(mmu.domainAllocPaging())).toBe(-16);
  });
});

describe("geometry and the ARM_32_LPAE_S1 table (ias 32, oas 40)", () => {
  function attached() {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const d = mmu.domainAllocPaging();
    expect(mmu.attachDev(d)).toBe(0);
    return { mmu, d };
  }

  it("the last 1 GiB maps as one block; an iova at 2^32 is -ERANGE; a PA at 2^40 is -ERANGE", () => {
    const { d } = attached();
    iommuMap(d, 3 * SZ_1G, 0xff_c000_0000, SZ_1G, RW);
    const out = iommuIovaToPhysLength(d, 2 ** 32 - 1);
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0xff_ffff_ffff, SZ_1G]);
    expect(errnoOf(() => iommuMap(d, 2 ** 32, 0, SZ_4K, RW))).toBe("ERANGE");
    expect(errnoOf(() => iommuMap(d, 0, 2 ** 40, SZ_4K, RW))).toBe("ERANGE");
  });

  it("iova_to_phys_length reports 4K, 2M and 1G leaves", () => {
    const { d } = attached();
    iommuMap(d, 0, 0x1_0000_0000, SZ_4K, RW);
    iommuMap(d, SZ_2M, 0x1_0020_0000, SZ_2M, RW);
    iommuMap(d, SZ_1G, 0x1_4000_0000, SZ_1G, RW);
    expect([0, SZ_2M + 5, SZ_1G + 7].map((i) => iommuIovaToPhysLength(d, i).length)).toEqual([
      SZ_4K,
      SZ_2M,
      SZ_1G,
    ]);
  });

  it("IO_PGTABLE_QUIRK_ARM_NS: NS (bit 5) in every leaf, NSTABLE (bit 63) in every table entry", () => {
    const { d } = attached();
    iommuMap(d, 0x1234_5000, 0x9_8765_4000, SZ_4K, RW);
    const walk = iommuDomainInspector(d)!.walk(0x1234_5000);
    expect(walk.end).toBe("leaf");
    const [l1, l2, leaf] = walk.steps;
    expect(l1!.raw >> 63n).toBe(1n);
    expect(l2!.raw >> 63n).toBe(1n);
    expect((leaf!.raw >> 5n) & 1n).toBe(1n);
  });
});

describe("TLB flushes per call (ipmmu_iotlb_sync → ipmmu_tlb_invalidate, ipmmu_flush_ops)", () => {
  it("iommu_map: no flush (no iotlb_sync_map); iommu_unmap of leaves: one context flush per call", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const d = mmu.domainAllocPaging();
    expect(mmu.attachDev(d)).toBe(0);
    const root = mmu.root;
    const f0 = root.tlbFlushes;
    iommuMap(d, 0, 0x1_0000_0000, 64 * SZ_4K, RW);
    expect(root.tlbFlushes).toBe(f0);
    expect(iommuUnmap(d, 0, 32 * SZ_4K)).toBe(32 * SZ_4K);
    expect(iommuUnmap(d, 32 * SZ_4K, SZ_4K)).toBe(SZ_4K);
    // Leaf on leaf IPMMU and root: each flush is written to both (ipmmu_ctx_write_all).
    expect(root.tlbFlushes - f0).toBe(2);
    expect(mmu.tlbFlushes).toBe(2 + 1); // + the IMCTR FLUSH of setup_context
    expect([d.counters.flushAll, d.counters.flushWalk, d.counters.flushPage]).toEqual([2, 0, 0]);
    expect(root.peekCtx(d.contextId, IMCTR)).toBe(IMCTR_INTEN | IMCTR_MMUEN);
  });

  it("unmapping a whole 2M of 4K leaves frees the table: tlb_flush_walk (a full flush) + the sync", () => {
    const mmu = new IpmmuVmsa();
    const d = mmu.domainAllocPaging();
    expect(mmu.attachDev(d)).toBe(0);
    iommuMap(d, SZ_2M + SZ_4K, 0x1_0000_0000, SZ_4K, RW); // a level-3 table under this 2M
    const f0 = mmu.tlbFlushes;
    // Unmapping a 2M block slot that holds a table: the table goes with a walk flush.
    expect(d.ops!.unmapPages(d, SZ_2M, SZ_2M, 1, null)).toBe(SZ_2M);
    expect(d.counters.flushWalk).toBe(1);
    expect(mmu.tlbFlushes - f0).toBe(1);
  });

  it("free: disable + flush, release the context, then io-pgtable's flush_all flushes the released context", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7795" });
    const d = mmu.domainAllocPaging();
    expect(mmu.attachDev(d)).toBe(0);
    const root = mmu.root;
    const ctx = d.contextId;
    const f0 = root.tlbFlushes;
    d.ops!.free!(d);
    expect(root.tlbFlushes - f0).toBe(2);
    expect(root.contexts[ctx]).toBeNull();
    // The second flush reads IMCTR = 0 (disabled) and writes FLUSH only: the context stays off.
    expect(root.peekCtx(ctx, IMCTR)).toBe(0);
    expect(d.pgtblOps).toBeNull();
  });
});

describe("device(): the driver behind one device, as VFIO uses it", () => {
  it("domains come back attached; context exhaustion reaches the caller as -EBUSY", () => {
    const mmu = new IpmmuVmsa({ soc: "r8a7791" });
    const dev = mmu.device();
    const d = dev.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error(String(d));
    expect(d.mmu).toBe(mmu);
    expect(dev.domainAllocPagingFlags(0)).toBe(-16);
    d.ops!.free!(d);
    expect(typeof dev.domainAllocPagingFlags(0)).toBe("object");
  });
});
