/**
 * qcom_iommu.c: the domain's cfg (ARM_32_LPAE_S1, ias 32, oas 40, 4K only, walk not
 * coherent), behaviour before the first attach, the context banks it programs, and random
 * map/unmap/lookup sequences (≥ 10,000 operations) against a page-map reference with the TLB
 * maintenance counted per operation.
 */
import {
  ERRNO,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  SizeOut,
  SZ_4K,
} from "@iommu/core";
import { IoPgtableFmt } from "@iommu/io-pgtable";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { QcomIommu, QcomIommuMaster } from "./qcom-iommu.js";
import { attachedQcomDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("qcom_iommu domains", () => {
  it("qcom_iommu_domain_alloc_paging + first attach: ARM_32_LPAE_S1, ias 32, oas 40, SZ_4K, non-coherent walk", () => {
    const { domain: d } = attachedQcomDomain([2]);
    expect(d.pgtblCfg).toMatchObject({
      fmt: IoPgtableFmt.ARM_32_LPAE_S1,
      ias: 32,
      oas: 40,
      coherentWalk: false,
      quirks: 0,
    });
    expect(d.pgsizeBitmap).toBe(SZ_4K);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true });
  });

  it("before attach: map -ENODEV, unmap 0, iova_to_phys 0", () => {
    const iommu = new QcomIommu();
    const d = iommu.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(d.ops!.mapPages(d, 0, 0, SZ_4K, 1, RW, 0, new SizeOut())).toBe(-ERRNO.ENODEV);
    expect(d.ops!.unmapPages(d, 0, SZ_4K, 1, null)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    d.ops!.flushIotlbAll!(d); // no table: nothing, no crash
    expect(iommu.hw.totals.tlbsync).toBe(0);
  });

  it("context banks: TTBR0 = table | ASID << 48, TCR with EAE; secured banks are left alone", () => {
    const iommu = new QcomIommu({ securedContexts: [5] });
    const d = new QcomIommuMaster(iommu, [4, 5]).domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("attach");
    const cb = iommu.hw.cbs[4]!;
    expect(cb.ttbr0 >> 48n).toBe(4n);
    expect(cb.ttbr0 & 0xffff_ffff_ffffn).toBe(d.pgtblCfg!.armLpaeS1Cfg!.ttbr);
    expect(cb.tcr >>> 31).toBe(1);
    expect(iommu.hw.cbs[5]!.enabled).toBe(false);
    expect(iommu.ctxDomain[5]).toBe(d);
    // Another instance refuses the domain; an ASID without a bank is -ENODEV.
    expect(new QcomIommu().attachDev(d, [4])).toBe(-ERRNO.EINVAL);
    expect(iommu.attachDev(d, [99])).toBe(-ERRNO.ENODEV);
  });

  it("a second device on a finalised domain: its banks are not programmed, TLB maintenance misses them (quirk qcom-second-device)", () => {
    const iommu = new QcomIommu();
    const d = new QcomIommuMaster(iommu, [1]).domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("attach");
    expect(iommu.attachDev(d, [6])).toBe(0);
    expect(iommu.hw.cbs[6]!.enabled).toBe(false);
    expect(iommu.ctxDomain[6]).toBeNull();
    iommuMap(d, 0x10_0000, 0x8000_0000, SZ_4K, RW);
    iommuUnmap(d, 0x10_0000, SZ_4K);
    expect([iommu.hw.cbs[1]!.tlbi.tlbival, iommu.hw.cbs[6]!.tlbi.tlbival]).toEqual([1, 0]);
  });

  it("qcom_iommu_capable: CACHE_COHERENCY and NOEXEC only", () => {
    const iommu = new QcomIommu();
    expect([
      iommu.capable(IOMMU_CAP_CACHE_COHERENCY),
      iommu.capable(IOMMU_CAP_NOEXEC),
      iommu.capable(IOMMU_CAP_DEFERRED_FLUSH),
    ]).toEqual([true, true, false]);
  });

  it("random map/unmap/lookup vs a page map, TLBIVAL per page per bank, TLBSYNC per bank per unmap: ≥ 10,000 ops", () => {
    let executed = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom("map", "unmap", "lookup", "lookup"),
            slot: fc.nat(255),
            pages: fc.integer({ min: 1, max: 8 }),
            pfn: fc.nat(0xf_ffff),
          }),
          { minLength: 500, maxLength: 500 },
        ),
        fc.constantFrom([0], [1, 3], [0, 2, 7]),
        (ops, asids) => {
          const { domain: d, iommu } = attachedQcomDomain(asids);
          const ref = new Map<number, number>(); // page index → pfn
          const out = new PhysLength();
          for (const o of ops) {
            const first = o.slot * 8;
            const iova = 0x1000_0000 + first * SZ_4K;
            const pages = Array.from({ length: o.pages }, (_, i) => first + i);
            const tlbival = iommu.hw.totals.tlbival;
            const syncs = iommu.hw.totals.tlbsync;
            if (o.op === "map" && pages.every((p) => !ref.has(p))) {
              iommuMap(d, iova, o.pfn * SZ_4K, o.pages * SZ_4K, RW);
              for (const [i, p] of pages.entries()) ref.set(p, o.pfn + i);
              expect(iommu.hw.totals.tlbival).toBe(tlbival);
            } else if (o.op === "unmap" && pages.every((p) => ref.has(p))) {
              expect(iommuUnmap(d, iova, o.pages * SZ_4K)).toBe(o.pages * SZ_4K);
              for (const p of pages) ref.delete(p);
              expect(iommu.hw.totals.tlbival - tlbival).toBe(o.pages * asids.length);
              expect(iommu.hw.totals.tlbsync - syncs).toBe(asids.length);
            } else {
              const p = first + (o.pfn % o.pages);
              const va = 0x1000_0000 + p * SZ_4K + (o.pfn % SZ_4K);
              const want = ref.get(p);
              iommuIovaToPhysLength(d, va, out);
              expect(out.mapped).toBe(want !== undefined);
              if (want !== undefined) {
                expect(out.phys).toBe(want * SZ_4K + (o.pfn % SZ_4K));
                expect(out.length).toBe(SZ_4K);
              }
              expect(iommuIovaToPhys(d, va)).toBe(want === undefined ? 0 : want * SZ_4K + (o.pfn % SZ_4K));
            }
            executed++;
          }
        },
      ),
      { numRuns: 24 },
    );
    expect(executed).toBeGreaterThanOrEqual(10_000);
  });
});
