/**
 * arm_smmu_iova_to_phys / arm_smmu_iova_to_phys_hard: the ATS1PR → ATSR → PAR path (and when
 * it is not taken), PAR decode for every context format and leaf size, the fault bit, the
 * ATSR timeout with its software fallback, the 40-bit PAR mask, and the model's
 * iova_to_phys_length (software walk, cross-checked against ATS1PR).
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
import { type ArmSmmuHardResult, armSmmuIovaToPhysHard } from "./domain.js";
import { attachedDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function hard(): ArmSmmuHardResult {
  return { outcome: "fault", par: 0n, phys: 0 };
}

/** One leaf of each size a context offers, looked up through the hardware path. */
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
        const r = hard();
        expect(armSmmuIovaToPhysHard(d, iova + off, r)).toBe(pa + off);
        expect(r.outcome).toBe("translated");
        // The kernel's own lookup takes the same path (TRANS_OPS, stage 1).
        expect(iommuIovaToPhys(d, iova + off)).toBe(pa + off);
      }
      pa += size;
    });
    expect(smmu.hw.cbs[d.cfg.cbndx]!.ats1pr).toBeGreaterThan(0);
    expect(d.counters.warns).toBe(0);
  });

  it("a lookup through the hardware path counts one walk and the SMMU's descriptor reads (4 levels for a 4K page)", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x1000, 0x5000, SZ_4K, RW);
    const before = d.counters.snapshot();
    iommuIovaToPhys(d, 0x1234);
    const delta = d.counters.since(before);
    expect(delta.walks).toBe(1);
    expect(delta.pteReads).toBe(4);
    expect(smmu.hw.cbs[d.cfg.cbndx]!.atsWalkReads).toBe(4);
  });
});

describe("PAR.F (translation fault)", () => {
  it("an unmapped IOVA: PAR.F set, F/FST decoded, iova_to_phys returns 0 with 'translation fault!'", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, SZ_2M, 0x4000_0000, SZ_4K, RW);
    const r = hard();
    expect(armSmmuIovaToPhysHard(d, SZ_2M + SZ_4K, r)).toBe(0);
    expect(r.outcome).toBe("fault");
    // F = 1, FST = translation fault at level 3 (0b000111).
    expect(r.par).toBe(BigInt((0b000111 << 1) | 1));
    expect(smmu.messages).toContain("translation fault!");
    // An empty top-level slot faults at level 0.
    armSmmuIovaToPhysHard(d, 2 ** 40, r);
    expect(r.par).toBe(BigInt((0b000100 << 1) | 1));
  });

  it("AArch32-S: section fault and page fault codes", () => {
    const { domain: d } = attachedDomain({ kernel: "arm32", aarch32S: true });
    iommuMap(d, 0, 0x4000_0000, SZ_4K, RW);
    const r = hard();
    armSmmuIovaToPhysHard(d, SZ_4K, r);
    expect(r.par).toBe(BigInt((0b00111 << 1) | 1));
    armSmmuIovaToPhysHard(d, SZ_1M, r);
    expect(r.par).toBe(BigInt((0b00101 << 1) | 1));
  });
});

describe("ATSR timeout", () => {
  it("ACTIVE past 50 µs: dev_err and the io-pgtable walk instead (still the right answer)", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x10_0000, 0x7000_0000, SZ_4K, RW);
    const cb = smmu.hw.cbs[d.cfg.cbndx]!;
    cb.atsLatencyUs = 51;
    const reads = cb.atsrReads;
    const r = hard();
    expect(armSmmuIovaToPhysHard(d, 0x10_0abc, r)).toBe(0x7000_0abc);
    expect(r.outcome).toBe("timeout");
    // Polls at 0, 5, ..., 50 µs: 11 reads.
    expect(cb.atsrReads - reads).toBe(11);
    expect(smmu.messages.at(-1)).toMatch(/timed out on 100abc\. Falling back to software table walk/);
    // An unmapped IOVA on the fallback: the walk's 0.
    expect(armSmmuIovaToPhysHard(d, 0x20_0000, r)).toBe(0);
    expect(r.outcome).toBe("timeout");
  });

  it("exactly 50 µs still completes (the last poll reads ACTIVE clear)", () => {
    const { domain: d, smmu } = attachedDomain();
    iommuMap(d, 0x10_0000, 0x7000_0000, SZ_4K, RW);
    smmu.hw.cbs[d.cfg.cbndx]!.atsLatencyUs = 50;
    const r = hard();
    expect(armSmmuIovaToPhysHard(d, 0x10_0000, r)).toBe(0x7000_0000);
    expect(r.outcome).toBe("translated");
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

describe("PAR mask GENMASK(39, 12) (quirk par-pa-40-bit)", () => {
  it("a PA above 2^40 on a 48-bit context loses bits 47:40 on the hardware path; the length lookup keeps them", () => {
    const { domain: d } = attachedDomain({ ias: 48, oas: 48 });
    const pa = 0x12_3456_7000 + 2 ** 44;
    iommuMap(d, SZ_2M, pa, SZ_4K, RW);
    const r = hard();
    expect(armSmmuIovaToPhysHard(d, SZ_2M + 0x12, r)).toBe((pa % 2 ** 40) + 0x12);
    // The full PAR holds PA[47:12].
    expect(r.par).toBe(BigInt(pa));
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

  it("random maps/unmaps: the hardware and the table walk never disagree; legacy == length phys", () => {
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
          for (const o of ops) {
            const size = o.big ? big : small;
            const iova = 0x4000_0000 + o.slot * big;
            if (o.unmap) iommuUnmap(d, iova, big);
            else if (
              !iommuIovaToPhysLength(d, iova, out).mapped &&
              !iommuIovaToPhysLength(d, iova + big - small, out).mapped
            )
              iommuMap(d, iova, 0x1000_0000 + o.pa * big, size, RW);
            const probe = iova + (o.probe % big);
            iommuIovaToPhysLength(d, probe, out);
            const legacy = iommuIovaToPhys(d, probe);
            expect(legacy).toBe(out.mapped ? out.phys : 0);
          }
          expect(disagreements).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
