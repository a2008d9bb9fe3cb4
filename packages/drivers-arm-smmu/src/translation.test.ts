/**
 * arm_smmu_iova_to_phys_length: the io-pgtable walk answers (phys and leaf length) and, where
 * the pre-series kernel asked the hardware (FEAT_TRANS_OPS, stage 1), the model's cross-check
 * runs the ATS1PR → ATSR → PAR sequence on the same IOVA: PAR decode for every context format
 * and leaf size, the fault bit and FST, the ATSR timeout (cross-check skipped), the full
 * PA[47:12] in PAR (the pre-series 40-bit mask, quirk par-pa-40-bit, is gone with the legacy
 * op), and random maps/unmaps against the test's own record of what it mapped.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  SZ_1G,
  SZ_1M,
  SZ_2M,
  SZ_4K,
  SZ_16K,
  SZ_16M,
  SZ_32M,
  SZ_64K,
  SZ_512M,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ArmSmmuOptions } from "./arm-smmu.js";
import type { ArmSmmuContextBank } from "./context-bank.js";
import type { ArmSmmuDomain } from "./domain.js";
import { ARM_SMMU_CB_PAR_F } from "./regs.js";
import { attachedDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function bank(d: ArmSmmuDomain): ArmSmmuContextBank {
  return d.smmu!.hw.cbs[d.cfg.cbndx]!;
}

/** The 64-bit PAR the last ATS1PR on `d`'s bank left. */
function par(d: ArmSmmuDomain): bigint {
  const cb = bank(d);
  return (BigInt(cb.parHi >>> 0) << 32n) | BigInt(cb.parLo >>> 0);
}

/** One leaf of each size a context offers: the walk's answer, and ATS1PR's PAR for the same IOVA. */
const LEAVES: Array<[string, ArmSmmuOptions, number[]]> = [
  ["AArch64 4K", { granules: [SZ_4K] }, [SZ_4K, SZ_2M, SZ_1G]],
  ["AArch64 16K", { granules: [SZ_16K] }, [SZ_16K, SZ_32M]],
  ["AArch64 64K", { granules: [0x10000] }, [SZ_64K, SZ_512M]],
  ["AArch32-L (v1)", { version: "v1", ias: 40 }, [SZ_4K, SZ_2M, SZ_1G]],
  ["AArch32-S (32-bit kernel)", { kernel: "arm32", aarch32S: true }, [SZ_4K, SZ_64K, SZ_1M, SZ_16M]],
];

describe("ATS1PR/PAR: the hardware walk agrees with the software walk", () => {
  it.each(LEAVES)("%s: every leaf size, offsets inside the leaf", (_n, hw, sizes) => {
    const { domain: d, smmu } = attachedDomain(hw);
    const iovaBase = 0;
    let pa = 0x4000_0000; // each leaf at the next PA aligned to its size
    sizes.forEach((size, i) => {
      const iova = iovaBase + i * SZ_1G;
      pa = Math.ceil(pa / size) * size;
      iommuMap(d, iova, pa, size, RW);
      expect(iommuIovaToPhysLength(d, iova, new PhysLength()).length).toBe(size);
      for (const off of [0, 0x123, size / 2 + 0x456, size - 1]) {
        // The wrapper answers through the length op (the table walk, offset kept) …
        expect(iommuIovaToPhys(d, iova + off)).toBe(pa + off);
        // … whose cross-check ran ATS1PR on the same page: PAR not faulted, PA[47:12] its frame.
        expect(par(d) & BigInt(ARM_SMMU_CB_PAR_F)).toBe(0n);
        expect(par(d) & ~0xfffn).toBe(BigInt(pa + off) & ~0xfffn);
      }
      pa += size;
    });
    expect(smmu.hw.cbs[d.cfg.cbndx]!.ats1pr).toBeGreaterThan(0);
    expect(d.counters.warns).toBe(0);
  });

  it("a lookup counts one walk and the table walk's descriptor reads; the cross-check's ATS1PR reads stay the bank's (4 levels each for a 4K page)", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x1000, 0x5000, SZ_4K, RW);
    const before = d.counters.snapshot();
    expect(iommuIovaToPhys(d, 0x1234)).toBe(0x5234);
    const delta = d.counters.since(before);
    expect(delta.walks).toBe(1);
    expect(delta.pteReads).toBe(4);
    expect(smmu.hw.cbs[d.cfg.cbndx]!.ats1pr).toBe(1);
    expect(smmu.hw.cbs[d.cfg.cbndx]!.atsWalkReads).toBe(4);
  });
});

describe("PAR.F (translation fault)", () => {
  it("an unmapped IOVA: the walk answers 0, ATS1PR agrees (PAR.F set, F/FST decoded), no WARN and no dev_err", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, SZ_2M, 0x4000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, SZ_2M + SZ_4K)).toBe(0);
    // F = 1, FST = translation fault at level 3 (0b000111).
    expect(par(d)).toBe(BigInt((0b000111 << 1) | 1));
    // The pre-series hardware lookup printed "translation fault!"; the length op prints nothing.
    expect(smmu.messages).not.toContain("translation fault!");
    // An empty top-level slot faults at level 0.
    expect(iommuIovaToPhys(d, 2 ** 40)).toBe(0);
    expect(par(d)).toBe(BigInt((0b000100 << 1) | 1));
    expect(d.counters.warns).toBe(0);
  });

  it("AArch32-S: section fault and page fault codes", () => {
    const { domain: d } = attachedDomain({ kernel: "arm32", aarch32S: true });
    iommuMap(d, 0, 0x4000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, SZ_4K)).toBe(0);
    expect(par(d)).toBe(BigInt((0b00111 << 1) | 1));
    expect(iommuIovaToPhys(d, SZ_1M)).toBe(0);
    expect(par(d)).toBe(BigInt((0b00101 << 1) | 1));
    expect(d.counters.warns).toBe(0);
  });
});

describe("ATSR timeout", () => {
  it("ACTIVE past 50 µs: ATSR polled 11 times, then the walk's answer alone (no dev_err, no WARN)", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x10_0000, 0x7000_0000, SZ_4K, RW);
    const cb = smmu.hw.cbs[d.cfg.cbndx]!;
    cb.atsLatencyUs = 51;
    const reads = cb.atsrReads;
    const logged = smmu.messages.length;
    expect(iommuIovaToPhys(d, 0x10_0abc)).toBe(0x7000_0abc);
    // Polls at 0, 5, ..., 50 µs: 11 reads.
    expect(cb.atsrReads - reads).toBe(11);
    // The pre-series hardware lookup logged "timed out … Falling back"; the length op does not.
    expect(smmu.messages.length).toBe(logged);
    // An unmapped IOVA: the walk's 0.
    expect(iommuIovaToPhys(d, 0x20_0000)).toBe(0);
    expect(cb.atsrReads - reads).toBe(22);
    expect(d.counters.warns).toBe(0);
  });

  it("exactly 50 µs still completes (the last poll reads ACTIVE clear): PAR is compared", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x10_0000, 0x7000_0000, SZ_4K, RW);
    const cb = smmu.hw.cbs[d.cfg.cbndx]!;
    cb.atsLatencyUs = 50;
    const reads = cb.atsrReads;
    expect(iommuIovaToPhys(d, 0x10_0000)).toBe(0x7000_0000);
    expect(cb.atsrReads - reads).toBe(11);
    expect(par(d)).toBe(0x7000_0000n);
    // A wrong table base makes the completed translation disagree: the check did run.
    cb.ttbr0Base += 0x1000;
    iommuIovaToPhys(d, 0x10_0000);
    expect(d.counters.warns).toBe(1);
  });

  it("iova_to_phys_length skips the cross-check on a timeout (no WARN, the walk's answer)", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x10_0000, 0x7000_0000, SZ_4K, RW);
    smmu.hw.cbs[d.cfg.cbndx]!.atsLatencyUs = Number.POSITIVE_INFINITY;
    const out = iommuIovaToPhysLength(d, 0x10_0001, new PhysLength());
    expect([out.phys, out.length]).toEqual([0x7000_0001, SZ_4K]);
    expect(d.counters.warns).toBe(0);
  });
});

describe("PA bits 47:40 (the pre-series quirk par-pa-40-bit is gone)", () => {
  it("a PA above 2^40 on a 48-bit context keeps bits 47:40 through iommuIovaToPhys; PAR holds PA[47:12]", () => {
    const { domain: d } = attachedDomain({ ias: 48, oas: 48 });
    const pa = 0x12_3456_7000 + 2 ** 44;
    iommuMap(d, SZ_2M, pa, SZ_4K, RW);
    // The pre-series hardware lookup masked PAR with GENMASK(39, 12): (pa % 2^40) + 0x12.
    expect(iommuIovaToPhys(d, SZ_2M + 0x12)).toBe(pa + 0x12);
    // The full PAR holds PA[47:12]; the cross-check compares all of it and agrees.
    expect(par(d)).toBe(BigInt(pa));
    const out = iommuIovaToPhysLength(d, SZ_2M + 0x12, new PhysLength());
    expect(out.phys).toBe(pa + 0x12);
    expect(d.counters.warns).toBe(0);
  });
});

describe("paths without the hardware", () => {
  it("stage 2 and ATOSNS SMMUs use the io-pgtable walk (no ATS1PR)", () => {
    for (const hw of [{ stage1: false }, { atos: false }] satisfies ArmSmmuOptions[]) {
      const { domain: d, smmu } = attachedDomain(hw);
      iommuMap(d, SZ_2M, 0x4000_0000, SZ_2M, RW);
      expect(iommuIovaToPhys(d, SZ_2M + 5)).toBe(0x4000_0005);
      iommuIovaToPhysLength(d, SZ_2M + 5, new PhysLength());
      expect(smmu.hw.cbs[d.cfg.cbndx]!.ats1pr).toBe(0);
    }
  });
});

describe("iova_to_phys_length cross-check", () => {
  it("a context bank whose TTBR0 points elsewhere than the table: the hardware disagrees → WARN", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, SZ_2M, 0x4000_0000, SZ_2M, RW);
    const cb = smmu.hw.cbs[d.cfg.cbndx]!;
    cb.ttbr0Base += 0x1000; // a stale/wrong TTBR0 write
    const out = iommuIovaToPhysLength(d, SZ_2M, new PhysLength());
    expect(out.mapped).toBe(true);
    expect(d.counters.warns).toBe(1);
    smmu.crossCheck = false;
    iommuIovaToPhysLength(d, SZ_2M, out);
    expect(d.counters.warns).toBe(1);
  });

  it("random maps/unmaps: the hardware and the table walk never disagree; both lookups answer what was mapped", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ArmSmmuOptions>(
          { granules: [SZ_4K] },
          { granules: [SZ_16K] },
          { version: "v1", ias: 40 },
          { kernel: "arm32", aarch32S: true },
        ),
        fc.array(
          fc.record({
            unmap: fc.boolean(),
            slot: fc.nat(63),
            big: fc.boolean(),
            pa: fc.nat(0xff),
            probe: fc.nat(),
          }),
          { minLength: 20, maxLength: 60 },
        ),
        (hw, ops) => {
          const { domain: d } = attachedDomain(hw);
          // io-pgtable WARNs on unmaps of holes too: count only the cross-check's.
          let disagreements = 0;
          d.counters.onWarn = (m) => {
            if (m.includes("disagree")) disagreements++;
          };
          const sizes = Object.values([SZ_4K, SZ_16K, SZ_64K, SZ_2M, SZ_32M, SZ_1M]).filter(
            (s) => (d.pgsizeBitmap & s) !== 0,
          );
          const small = sizes[0]!;
          const big = sizes[sizes.length - 1]!;
          const out = new PhysLength();
          // The test's own record: slot → the one mapping it holds (at the slot's start).
          const mapped = new Map<number, { pa: number; size: number }>();
          for (const o of ops) {
            const size = o.big ? big : small;
            const iova = 0x4000_0000 + o.slot * big;
            if (o.unmap) {
              iommuUnmap(d, iova, big);
              mapped.delete(o.slot);
            } else if (
              !iommuIovaToPhysLength(d, iova, out).mapped &&
              !iommuIovaToPhysLength(d, iova + big - small, out).mapped
            ) {
              iommuMap(d, iova, 0x1000_0000 + o.pa * big, size, RW);
              mapped.set(o.slot, { pa: 0x1000_0000 + o.pa * big, size });
            }
            const off = o.probe % big;
            const m = mapped.get(o.slot);
            const want = m && off < m.size ? m.pa + off : 0;
            iommuIovaToPhysLength(d, iova + off, out);
            expect(out.mapped ? out.phys : 0).toBe(want);
            expect(out.mapped).toBe(want !== 0);
            expect(iommuIovaToPhys(d, iova + off)).toBe(want);
          }
          expect(disagreements).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
