/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: what the SMMU does with the TLBI commands
 * `arm_smmu_tlb_inv_*` put on the command queue, for the core's IOTLB model — each TLBI decoded
 * from the queue's log into an invalidation (by ASID / VMID, or by VA / IPA with the range,
 * TTL and leaf fields), completed by the next CMD_SYNC.
 *
 * The feed reads the queue's log (nothing in the invalidation path changes); the log must be
 * on (`cmdqLogCapacity` > 0) and large enough for the commands one operation issues.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import type { CmdqEntry } from "./cmdq.js";
import type { ArmSmmuDomain } from "./domain.js";
import {
  CMDQ_OP_CMD_SYNC,
  CMDQ_OP_TLBI_EL2_ALL,
  CMDQ_OP_TLBI_EL2_ASID,
  CMDQ_OP_TLBI_EL2_VA,
  CMDQ_OP_TLBI_NH_ALL,
  CMDQ_OP_TLBI_NH_ASID,
  CMDQ_OP_TLBI_NH_VA,
  CMDQ_OP_TLBI_NSNH_ALL,
  CMDQ_OP_TLBI_S2_IPA,
  CMDQ_OP_TLBI_S12_VMALL,
} from "./regs.js";

/** Model-only: how {@link armSmmuV3IotlbFeed} reads the queue. */
export interface ArmSmmuV3IotlbFeedOptions {
  /**
   * Fault injection: see (and replace, or drop with null) each command before the SMMU
   * executes it — e.g. clear `leaf` handling or drop a CMD_SYNC to model a broken driver.
   */
  rewrite?: (entry: CmdqEntry) => CmdqEntry | null;
}

/** The tag an SMMUv3 domain's translations carry: the ASID (stage 1) or the VMID (stage 2). */
export function armSmmuV3IotlbTag(d: ArmSmmuDomain): number {
  return d.stage === "s1" ? d.asid : d.vmid;
}

/** Model-only: an IOTLB model of the SMMU as `d`'s masters see it (tagged with its ASID/VMID). */
export function armSmmuV3IotlbModel(
  d: ArmSmmuDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: armSmmuV3IotlbTag(d) });
}

/** log2 of the translation granule a range command's TG field names (0 = not a range command). */
const TG_SHIFT = [0, 12, 14, 16];

/**
 * Model-only: one queue entry as the SMMU applies it — an invalidation of entries tagged
 * for stage `stage`, `"sync"` for CMD_SYNC, or null for a command without effect on them.
 */
export function armSmmuV3DecodeTlbi(e: CmdqEntry, stage: "s1" | "s2"): IotlbInvalidation | "sync" | null {
  const base = { iova: 0, size: 0, leafOnly: false, leafSize: 0, command: e.name };
  switch (e.opcode) {
    case CMDQ_OP_CMD_SYNC:
      return "sync";
    case CMDQ_OP_TLBI_NH_ASID:
    case CMDQ_OP_TLBI_EL2_ASID:
      return stage === "s1" ? { ...base, scope: "tag", tag: e.asid } : null;
    case CMDQ_OP_TLBI_S12_VMALL:
      return stage === "s2" ? { ...base, scope: "tag", tag: e.vmid } : null;
    case CMDQ_OP_TLBI_NH_ALL:
    case CMDQ_OP_TLBI_EL2_ALL:
      // Every stage-1 entry (of the VMID, or at EL2): the model keeps one VMID.
      return stage === "s1" ? { ...base, scope: "tag", tag: -1 } : null;
    case CMDQ_OP_TLBI_NSNH_ALL:
      return { ...base, scope: "all", tag: -1 };
    case CMDQ_OP_TLBI_NH_VA:
    case CMDQ_OP_TLBI_EL2_VA:
    case CMDQ_OP_TLBI_S2_IPA: {
      const s2 = e.opcode === CMDQ_OP_TLBI_S2_IPA;
      if (s2 !== (stage === "s2")) return null;
      const addr = Number(e.addr);
      const tgShift = TG_SHIFT[e.tg]!;
      // Without TG the command names one address: entries are page aligned and at least a
      // page, so a one-page range hits exactly the entries translating it.
      const size = tgShift === 0 ? 0x1000 : (e.num + 1) * 2 ** (e.scale + tgShift);
      // TTL: the level the leaf is at (3 = last), so only entries of that size go.
      const leafSize = tgShift !== 0 && e.ttl !== 0 ? 2 ** (tgShift + (3 - e.ttl) * (tgShift - 3)) : 0;
      return {
        ...base,
        scope: "range",
        tag: s2 ? e.vmid : e.asid,
        iova: addr,
        size,
        leafOnly: e.leaf,
        leafSize,
      };
    }
    default:
      return null;
  }
}

/**
 * Model-only: the commands `d`'s SMMU queued since the feed was made, applied to the model at
 * each drain (TLBIs queued, CMD_SYNC completing them). Throws if the log dropped commands.
 */
export function armSmmuV3IotlbFeed(
  d: ArmSmmuDomain,
  options: ArmSmmuV3IotlbFeedOptions = {},
): IotlbCommandFeed {
  const cmdq = d.smmu.cmdq;
  let mark = cmdq.prod;
  return {
    drain(model) {
      if (!cmdq.logging) throw new Error("armSmmuV3IotlbFeed: the command-queue log is off");
      const log = cmdq.log(mark);
      if (log.length !== cmdq.prod - mark)
        throw new Error(`armSmmuV3IotlbFeed: ${cmdq.prod - mark - log.length} commands fell off the log`);
      mark = cmdq.prod;
      for (const raw of log) {
        const e = options.rewrite ? options.rewrite(raw) : raw;
        if (!e) continue;
        const inv = armSmmuV3DecodeTlbi(e, d.stage);
        if (inv === "sync") model.sync();
        else if (inv) model.issue(inv);
      }
    },
  };
}
