import { IommuCounters, IotlbGather } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ArmSmmuCmdq } from "./cmdq.js";
import type { ArmSmmuDomain } from "./domain.js";
import { ARM_SMMU_FEAT_RANGE_INV } from "./regs.js";
import { armSmmuFlushOps, armSmmuIotlbSync, armSmmuTlbInvContext, armSmmuTlbInvRangeDomain } from "./tlb.js";

/** Just enough of a domain for the invalidation code: no page table involved. */
function fakeDomain(opts: { ril?: boolean; stage?: "s1" | "s2"; pgsize?: number; msiPoll?: boolean } = {}) {
  const cmdq = new ArmSmmuCmdq({ shift: 8, msiPoll: opts.msiPoll ?? false, forceSync: false });
  const smmu = { features: opts.ril ? ARM_SMMU_FEAT_RANGE_INV : 0, cmdq };
  const d = {
    smmu,
    stage: opts.stage ?? "s1",
    asid: 5,
    vmid: 7,
    pgsizeBitmap: opts.pgsize ?? 0x1000 | 0x20_0000 | 0x4000_0000,
    counters: new IommuCounters(),
    syncGather: (g: IotlbGather) => {
      armSmmuIotlbSync(d, g);
      g.init();
    },
  } as unknown as ArmSmmuDomain;
  return { d, cmdq };
}

describe("TLB invalidation commands", () => {
  it("tlb_inv_context: TLBI_NH_ASID + CMD_SYNC for S1, TLBI_S12_VMALL for S2", () => {
    const { d, cmdq } = fakeDomain();
    armSmmuTlbInvContext(d);
    const log = cmdq.log();
    expect(log.map((e) => e.name)).toEqual(["CMD_TLBI_NH_ASID", "CMD_SYNC"]);
    expect(log[0]!.asid).toBe(5);
    expect(log[0]!.cmd[0]).toBe((5n << 48n) | 0x11n);
    expect(d.counters.flushAll).toBe(1);
    const s2 = fakeDomain({ stage: "s2" });
    armSmmuTlbInvContext(s2.d);
    expect(s2.cmdq.log()[0]).toMatchObject({ name: "CMD_TLBI_S12_VMALL", vmid: 7 });
  });

  it("without RIL: one TLBI per granule, batched by 64, one CMD_SYNC", () => {
    const { d, cmdq } = fakeDomain();
    armSmmuTlbInvRangeDomain(0x4000_0000, 0x20_0000, 0x1000, true, d);
    const log = cmdq.log();
    expect(log.length).toBe(513);
    expect(cmdq.count(0x12)).toBe(512);
    expect(cmdq.syncs).toBe(1);
    expect(cmdq.submissions).toBe(8); // 7 full batches without sync + the final one
    expect(log[1]!.addr).toBe(0x4000_1000n);
    expect(log[0]).toMatchObject({
      name: "CMD_TLBI_NH_VA",
      asid: 5,
      leaf: true,
      num: 0,
      scale: 0,
      ttl: 0,
      tg: 0,
    });
    expect(log[512]!.name).toBe("CMD_SYNC");
  });

  it("with RIL: NUM/SCALE ranges, TG from the granule, TTL from the leaf level", () => {
    const { d, cmdq } = fakeDomain({ ril: true });
    armSmmuTlbInvRangeDomain(0, 0x20_0000, 0x1000, true, d);
    expect(cmdq.log()[0]).toMatchObject({ num: 0, scale: 9, tg: 1, ttl: 3, leaf: true });
    cmdq.reset();
    // 35 pages = 3 pages (scale 0) then 32 pages (scale 5).
    armSmmuTlbInvRangeDomain(0x10000, 35 * 0x1000, 0x1000, true, d);
    const log = cmdq.log();
    expect(log.map((e) => [e.num, e.scale, Number(e.addr)])).toEqual([
      [2, 0, 0x10000],
      [0, 5, 0x13000],
      [0, 0, 0],
    ]);
    cmdq.reset();
    // 1 GiB leaf: TTL 1; 2 MiB leaf: TTL 2.
    armSmmuTlbInvRangeDomain(0, 0x4000_0000, 0x4000_0000, true, d);
    armSmmuTlbInvRangeDomain(0, 0x20_0000, 0x20_0000, true, d);
    expect(
      cmdq
        .log()
        .filter((e) => e.name !== "CMD_SYNC")
        .map((e) => e.ttl),
    ).toEqual([1, 2]);
  });

  it("with RIL a non-leaf single page becomes a 2-page range (TTL 0)", () => {
    const { d, cmdq } = fakeDomain({ ril: true });
    armSmmuTlbInvRangeDomain(0, 0x1000, 0x1000, false, d);
    expect(cmdq.log()[0]).toMatchObject({ num: 0, scale: 1, ttl: 0, leaf: false });
  });

  it("stage 2 uses TLBI_S2_IPA by VMID and masks the IPA to 52 bits", () => {
    const { d, cmdq } = fakeDomain({ stage: "s2", pgsize: 0x10000 | 0x2000_0000 });
    armSmmuTlbInvRangeDomain(2 ** 48, 0x10000, 0x10000, true, d);
    const e = cmdq.log()[0]!;
    expect(e).toMatchObject({ name: "CMD_TLBI_S2_IPA", vmid: 7, asid: 0 });
    expect(e.addr).toBe(1n << 48n);
  });

  it("CMD_SYNC completes by SEV, or by MSI into its own slot with MSI polling", () => {
    const sev = fakeDomain();
    armSmmuTlbInvContext(sev.d);
    expect(sev.cmdq.log()[1]).toMatchObject({ cs: 2, msiaddr: 0n });
    const msi = fakeDomain({ msiPoll: true });
    armSmmuTlbInvContext(msi.d);
    const sync = msi.cmdq.log()[1]!;
    expect(sync.cs).toBe(1);
    expect(sync.msiaddr).toBe(16n); // slot 1 of the queue
    // MSH = inner shareable, MSIATTR = inner/outer write-back.
    expect((sync.cmd[0] >> 22n) & 3n).toBe(3n);
    expect((sync.cmd[0] >> 24n) & 0xfn).toBe(0xfn);
  });

  it("tlb_add_page only gathers; iotlb_sync invalidates the gathered range as leaves", () => {
    const { d, cmdq } = fakeDomain();
    const g = new IotlbGather();
    for (let i = 0; i < 4; i++) armSmmuFlushOps.tlbAddPage!(g, 0x20_0000 * i, 0x20_0000, d);
    expect(cmdq.issued).toBe(0);
    expect(d.counters.flushPage).toBe(4);
    armSmmuIotlbSync(d, g);
    expect(d.counters.flushRange).toBe(1);
    const log = cmdq.log();
    expect(log.map((e) => Number(e.addr))).toEqual([0, 0x20_0000, 0x40_0000, 0x60_0000, 0]);
    // A disjoint page first syncs what was gathered.
    g.init();
    armSmmuFlushOps.tlbAddPage!(g, 0, 0x1000, d);
    armSmmuFlushOps.tlbAddPage!(g, 0x100_0000, 0x1000, d);
    expect(d.counters.flushRange).toBe(2);
  });

  it("tlb_flush_walk invalidates non-leaf entries over the removed table's span", () => {
    const { d, cmdq } = fakeDomain();
    armSmmuFlushOps.tlbFlushWalk(0, 0x20_0000, 0x1000, d);
    expect(d.counters.flushWalk).toBe(1);
    expect(cmdq.count(0x12)).toBe(512);
    expect(cmdq.log()[0]!.leaf).toBe(false);
  });
});
