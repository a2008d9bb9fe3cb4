/**
 * Context faults: the generic arm_smmu_context_fault() and the Qualcomm debug handler
 * (qcom_smmu_context_fault) with its one io-pgtable walk per fault and the TBU ATOS
 * verification, driven by faults injected into the context bank registers.
 */
import { ERRNO, IOMMU_READ, IOMMU_WRITE, iommuMap, SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import {
  armSmmuContextFault,
  armSmmuInjectContextFault,
  IOMMU_FAULT_READ,
  IOMMU_FAULT_WRITE,
} from "./context-fault.js";
import { QcomSmmuDebug, QcomTbu } from "./qcom-debug.js";
import { ARM_SMMU_RESUME_TERMINATE } from "./regs.js";
import { attachedDomain } from "./testing/domains.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function setup() {
  const t = attachedDomain();
  iommuMap(t.domain, SZ_2M, 0x8765_4000, SZ_4K, RW);
  return t;
}

describe("arm_smmu_context_fault", () => {
  it("nothing pending: IRQ_NONE", () => {
    const { domain: d } = setup();
    expect(armSmmuContextFault(d).irq).toBe("none");
  });

  it("no handler (-ENOSYS): printed, FSR cleared; a stalled write is terminated", () => {
    const { domain: d, smmu } = setup();
    armSmmuInjectContextFault(d, { iova: 0x1234, write: true, stall: true });
    let flags = -1;
    const out = armSmmuContextFault(d, (_d, _iova, f) => {
      flags = f;
      return -ERRNO.ENOSYS;
    });
    expect(flags).toBe(IOMMU_FAULT_WRITE);
    expect(out).toMatchObject({
      irq: "handled",
      printed: true,
      fsrCleared: true,
      resume: ARM_SMMU_RESUME_TERMINATE,
    });
    expect(smmu.hw.cbs[d.cfg.cbndx]!.fsr).toBe(0);
    // -EAGAIN retries the stalled transaction (RESUME = 0).
    armSmmuInjectContextFault(d, { iova: 0x1234, stall: true });
    expect(armSmmuContextFault(d, () => -ERRNO.EAGAIN).resume).toBe(0);
    // No walk in the generic handler.
    expect(d.counters.walks).toBe(0);
  });
});

describe("qcom_smmu_context_fault", () => {
  it("no TBU registered: report and clear, no lookup at all", () => {
    const { domain: d } = setup();
    armSmmuInjectContextFault(d, { iova: SZ_2M });
    const out = new QcomSmmuDebug([]).contextFault(d);
    expect(out).toMatchObject({ irq: "handled", fsrCleared: true, printed: true });
    expect(out.physSoft).toBeUndefined();
    expect(d.counters.walks).toBe(0);
  });

  it("one io-pgtable walk per fault; handled by the owner → no ATOS", () => {
    const { domain: d } = setup();
    const tbu = new QcomTbu({ sidStart: 0x400, sidCount: 0x400 });
    const dbg = new QcomSmmuDebug([tbu]);
    armSmmuInjectContextFault(d, { iova: SZ_2M + 0x21, sid: 0x410 });
    let flags = -1;
    const out = dbg.contextFault(d, (_d, _i, f) => {
      flags = f;
      return 0;
    });
    expect(flags).toBe(IOMMU_FAULT_READ);
    expect(out).toMatchObject({ irq: "handled", physSoft: 0x8765_4021, fsrCleared: true });
    expect(out.physAtos).toBeUndefined();
    expect(tbu.atos).toBe(0);
    expect(d.counters.walks).toBe(1);
  });

  it("unhandled: ATOS before and after TLBIALL; the answer is a PFN without the offset (quirk atos-pfn)", () => {
    const { domain: d, smmu } = setup();
    const tbu = new QcomTbu({ sidStart: 0, sidCount: 16 });
    const dbg = new QcomSmmuDebug([tbu]);
    armSmmuInjectContextFault(d, { iova: SZ_2M + 0x21, sid: 3, stall: true });
    const asids = smmu.hw.totals.tlbiasid;
    const out = dbg.contextFault(d);
    expect(out.physSoft).toBe(0x8765_4021);
    expect(out.physAtos).toBe(0x87654);
    expect(out.irq).toBe("none");
    expect(out.resume).toBe(ARM_SMMU_RESUME_TERMINATE);
    expect(out.messages).toContain("soft iova-to-phys=87654021");
    expect(out.messages).toContain("hard iova-to-phys (ATOS)=87654");
    expect(tbu.atos).toBe(2); // before and after the flush
    expect(smmu.hw.totals.tlbiasid - asids).toBe(1); // io_pgtable_tlb_flush_all
    expect(tbu.haltCount).toBe(0);
    expect(d.counters.walks).toBe(1);
  });

  it("an unmapped IOVA: soft walk 0, ATOS faults three times per lookup (retried while 0)", () => {
    const { domain: d } = setup();
    const tbu = new QcomTbu({ sidStart: 0, sidCount: 16 });
    armSmmuInjectContextFault(d, { iova: 0x7000_0000, sid: 1 });
    const out = new QcomSmmuDebug([tbu]).contextFault(d);
    expect(out.physSoft).toBe(0);
    expect(out.physAtos).toBe(0);
    expect(tbu.atos).toBe(6);
    expect(out.messages).toContain("hard iova-to-phys (ATOS) failed");
    expect(out.messages.some((m) => m.startsWith("SOFTWARE TABLE WALK FAILED"))).toBe(true);
  });

  it("a stale TBU entry: the results differ across TLBIALL and the stale one is returned (first non-zero)", () => {
    const { domain: d } = setup();
    const tbu = new QcomTbu({ sidStart: 0, sidCount: 16 });
    tbu.stale.set(SZ_2M / SZ_4K, 0x1111_1000);
    armSmmuInjectContextFault(d, { iova: SZ_2M, sid: 2 });
    const out = new QcomSmmuDebug([tbu]).contextFault(d);
    expect(out.physAtos).toBe(0x11111);
    expect(out.messages).toContain("ATOS results differed across TLBIALL... (before: 11111 after: 87654)");
  });

  it("ATOS timeout (> 100 µs), halt timeout, no TBU for the SID: 0", () => {
    for (const [tbu, sid, msg] of [
      [new QcomTbu({ sidStart: 0, sidCount: 16, atosLatencyUs: 101 }), 1, "ATOS translation timed out!"],
      [new QcomTbu({ sidStart: 0, sidCount: 16, haltTimeout: true }), 1, "Timeout while trying to halt TBU!"],
      [new QcomTbu({ sidStart: 0, sidCount: 16 }), 0x20, "Unable to find TBU for sid 0x20"],
    ] as const) {
      const { domain: d } = setup();
      armSmmuInjectContextFault(d, { iova: SZ_2M, sid });
      const out = new QcomSmmuDebug([tbu]).contextFault(d);
      expect(out.physAtos).toBe(0);
      expect(out.messages).toContain(msg);
    }
  });

  it("an interconnect error comes back as the 'physical address' (quirk atos-errno-as-phys)", () => {
    const { domain: d } = setup();
    const tbu = new QcomTbu({ sidStart: 0, sidCount: 16, iccError: -ERRNO.ENOMEM });
    armSmmuInjectContextFault(d, { iova: SZ_2M, sid: 1 });
    const out = new QcomSmmuDebug([tbu]).contextFault(d);
    expect(out.physAtos).toBe(2n ** 64n - BigInt(ERRNO.ENOMEM));
  });

  it("-EBUSY from the owner: the fault stays outstanding (FSR kept, no RESUME)", () => {
    const { domain: d, smmu } = setup();
    const tbu = new QcomTbu({ sidStart: 0, sidCount: 16 });
    armSmmuInjectContextFault(d, { iova: SZ_2M, sid: 1, stall: true });
    const out = new QcomSmmuDebug([tbu]).contextFault(d, () => -ERRNO.EBUSY);
    expect(out).toMatchObject({ irq: "handled", fsrCleared: false });
    expect(out.resume).toBeUndefined();
    expect(smmu.hw.cbs[d.cfg.cbndx]!.fsr).not.toBe(0);
  });
});
