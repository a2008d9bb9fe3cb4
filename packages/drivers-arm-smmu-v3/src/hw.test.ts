import { IommuError } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { encodeIdRegs, probeHw } from "./hw.js";
import {
  ARM_SMMU_FEAT_COHERENCY,
  ARM_SMMU_FEAT_E2H,
  ARM_SMMU_FEAT_HA,
  ARM_SMMU_FEAT_HD,
  ARM_SMMU_FEAT_HYP,
  ARM_SMMU_FEAT_NESTING,
  ARM_SMMU_FEAT_RANGE_INV,
  ARM_SMMU_FEAT_S2FWB,
  ARM_SMMU_FEAT_SEV,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
  ARM_SMMU_FEAT_VAX,
  ARM_SMMU_OPT_CMDQ_FORCE_SYNC,
  ARM_SMMU_OPT_MSIPOLL,
} from "./regs.js";

const probe = (hw: Parameters<typeof encodeIdRegs>[0] = {}) =>
  probeHw(encodeIdRegs(hw), { coherent: hw?.coherent ?? true, hostVhe: hw?.hostVhe });

describe("arm_smmu_device_hw_probe", () => {
  it("decodes the IDR5 granules into the smmu pgsize_bitmap", () => {
    expect(probe({ granules: [0x1000] }).pgsizeBitmap).toBe(0x1000 | 0x20_0000 | 0x4000_0000);
    expect(probe({ granules: [0x4000] }).pgsizeBitmap).toBe(0x4000 | 0x200_0000);
    expect(probe({ granules: [0x10000] }).pgsizeBitmap).toBe(0x10000 | 0x2000_0000);
    expect(probe().pgsizeBitmap).toBe(
      0x1000 + 0x4000 + 0x10000 + 0x20_0000 + 0x200_0000 + 0x2000_0000 + 0x4000_0000,
    );
  });

  it("adds the 4 TB 64K-granule block only with a 52-bit OAS", () => {
    expect(probe({ granules: [0x10000], oas: 52 }).pgsizeBitmap).toBe(0x10000 + 0x2000_0000 + 2 ** 42);
    expect(probe({ granules: [0x10000], oas: 48 }).pgsizeBitmap).toBe(0x10000 + 0x2000_0000);
  });

  it("maps every OAS encoding, reserved ones to 48 bits", () => {
    for (const oas of [32, 36, 40, 42, 44, 48, 52]) expect(probe({ oas }).oas).toBe(oas);
    const regs = encodeIdRegs({});
    expect(probeHw({ ...regs, idr5: (regs.idr5 & ~7) | 7 }, { coherent: true }).oas).toBe(48);
  });

  it("takes ias = max(40 with AArch32 tables, oas)", () => {
    expect(probe({ oas: 32 }).ias).toBe(32);
    expect(probe({ oas: 32, aarch32: true }).ias).toBe(40);
    expect(probe({ oas: 44, aarch32: true }).ias).toBe(44);
  });

  it("derives stage, nesting, VAX, RIL, FWB and HTTU features", () => {
    const all = probe({ vax52: true, rangeInv: true, fwb: true, httu: "access-dirty" }).features;
    for (const f of [
      ARM_SMMU_FEAT_TRANS_S1,
      ARM_SMMU_FEAT_TRANS_S2,
      ARM_SMMU_FEAT_NESTING,
      ARM_SMMU_FEAT_VAX,
      ARM_SMMU_FEAT_RANGE_INV,
      ARM_SMMU_FEAT_S2FWB,
      ARM_SMMU_FEAT_HA,
      ARM_SMMU_FEAT_HD,
      ARM_SMMU_FEAT_COHERENCY,
    ])
      expect(all & f).toBe(f);
    const s1only = probe({ stage2: false, httu: "access" }).features;
    expect(s1only & ARM_SMMU_FEAT_NESTING).toBe(0);
    expect(s1only & ARM_SMMU_FEAT_HA).toBe(ARM_SMMU_FEAT_HA);
    expect(s1only & ARM_SMMU_FEAT_HD).toBe(0);
  });

  it("follows firmware coherency and enables MSI polling only when coherent", () => {
    const c = probe({ coherent: true });
    expect(c.features & ARM_SMMU_FEAT_COHERENCY).toBe(ARM_SMMU_FEAT_COHERENCY);
    expect(c.options & ARM_SMMU_OPT_MSIPOLL).toBe(ARM_SMMU_OPT_MSIPOLL);
    // IDR0.COHACC set but firmware says non-coherent: firmware wins.
    const nc = probe({ coherent: false, cohacc: true });
    expect(nc.features & ARM_SMMU_FEAT_COHERENCY).toBe(0);
    expect(nc.options & ARM_SMMU_OPT_MSIPOLL).toBe(0);
  });

  it("uses E2H only on a VHE host of an SMMU with HYP", () => {
    expect(probe({ hyp: true, hostVhe: true }).features & ARM_SMMU_FEAT_E2H).toBe(ARM_SMMU_FEAT_E2H);
    expect(probe({ hyp: true }).features & (ARM_SMMU_FEAT_E2H | ARM_SMMU_FEAT_HYP)).toBe(ARM_SMMU_FEAT_HYP);
  });

  it("reads ASID/VMID widths", () => {
    expect(probe().asidBits).toBe(16);
    const narrow = probe({ asid16: false, vmid16: false });
    expect([narrow.asidBits, narrow.vmidBits]).toEqual([8, 8]);
  });

  it("applies the MMU-600 and MMU-700 errata from IIDR", () => {
    const mmu600r0 = (0x483 << 20) | 0x43b; // variant 0, revision 0
    const f600 = probe({ iidr: mmu600r0, sev: true }).features;
    expect(f600 & (ARM_SMMU_FEAT_SEV | ARM_SMMU_FEAT_NESTING)).toBe(0);
    const mmu600v2 = (0x483 << 20) | (2 << 16) | (3 << 12) | 0x43b;
    expect(probe({ iidr: mmu600v2, sev: true }).features & ARM_SMMU_FEAT_NESTING).toBe(ARM_SMMU_FEAT_NESTING);
    const c700 = probe({ iidr: ((0x487 << 20) | 0x43b) >>> 0 });
    expect(c700.features & ARM_SMMU_FEAT_NESTING).toBe(0);
    expect(c700.options & ARM_SMMU_OPT_CMDQ_FORCE_SYNC).toBe(ARM_SMMU_OPT_CMDQ_FORCE_SYNC);
  });

  it("refuses what the driver refuses with ENXIO", () => {
    const expectEnxio = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(IommuError);
        expect((e as IommuError).code).toBe("ENXIO");
      }
    };
    expectEnxio(() => probe({ stage1: false, stage2: false }));
    expectEnxio(() => probe({ ttEndian: "be" }));
    expectEnxio(() => probe({ cmdqShift: 6 }));
    const regs = encodeIdRegs({});
    expectEnxio(() => probeHw({ ...regs, idr0: regs.idr0 & ~(3 << 2) }, { coherent: true })); // TTF AArch32 only
  });
});
