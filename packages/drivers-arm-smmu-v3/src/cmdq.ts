/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: the command queue as the invalidation code
 * sees it — commands are encoded into their real 16-byte layout (`arm_smmu_cmdq_build_cmd`),
 * gathered in batches of CMDQ_BATCH_ENTRIES (`arm_smmu_cmdq_batch_add`: a full batch is
 * issued without a sync, MMU-700's CMDQ_FORCE_SYNC issues one entry early with a sync) and
 * published with a trailing CMD_SYNC (`arm_smmu_cmdq_batch_submit`,
 * `arm_smmu_cmdq_issue_cmd_with_sync`).
 *
 * Nothing is executed: the queue counts commands per opcode and keeps the most recent ones
 * in a ring of raw words, decoded only when a test or tool asks. No allocation per command.
 */
import {
  ARM_SMMU_MEMATTR_OIWB,
  ARM_SMMU_SH_ISH,
  CMDQ_BATCH_ENTRIES,
  CMDQ_ENT_BYTES,
  CMDQ_OP_CMD_SYNC,
  CMDQ_OP_NAMES,
  CMDQ_OP_TLBI_EL2_ASID,
  CMDQ_OP_TLBI_EL2_VA,
  CMDQ_OP_TLBI_NH_ALL,
  CMDQ_OP_TLBI_NH_ASID,
  CMDQ_OP_TLBI_NH_VA,
  CMDQ_OP_TLBI_S2_IPA,
  CMDQ_OP_TLBI_S12_VMALL,
  CMDQ_SYNC_0_CS_IRQ,
  CMDQ_SYNC_0_CS_SEV,
  CMDQ_SYNC_0_CS_SHIFT,
  CMDQ_SYNC_0_MSH_SHIFT,
  CMDQ_SYNC_0_MSIATTR_SHIFT,
  CMDQ_TLBI_0_NUM_SHIFT,
  CMDQ_TLBI_0_SCALE_SHIFT,
  CMDQ_TLBI_1_LEAF,
  CMDQ_TLBI_1_TG_SHIFT,
  CMDQ_TLBI_1_TTL_SHIFT,
} from "./regs.js";

const TWO32 = 2 ** 32;

/** `struct arm_smmu_cmdq_ent`: the fields used by TLB invalidation (`.tlbi`). */
export interface TlbiCmd {
  opcode: number;
  asid: number;
  vmid: number;
  leaf: boolean;
  /** Range invalidation: NUM − 1, SCALE, TTL and TG fields (0 without FEAT_RANGE_INV). */
  num: number;
  scale: number;
  ttl: number;
  tg: number;
  /** IOVA / IPA, page aligned (exact as a number up to 2^64). */
  addr: number;
}

/** Model-only: a decoded queue entry (see {@link ArmSmmuCmdq.log}). */
export interface CmdqEntry {
  opcode: number;
  name: string;
  /** Raw entry: dword0 and dword1. */
  cmd: readonly [bigint, bigint];
  asid: number;
  vmid: number;
  /** TLBI_*_VA / S2_IPA only. */
  addr: bigint;
  leaf: boolean;
  num: number;
  scale: number;
  ttl: number;
  tg: number;
  /** CMD_SYNC only: completion signal (1 = MSI write, 2 = SEV) and the MSI address. */
  cs: number;
  msiaddr: bigint;
}

/** Model-only: how an {@link ArmSmmuCmdq} is set up (the probe's queue size and options). */
export interface ArmSmmuCmdqOptions {
  /** log2 of the queue entries (smmu->cmdq.q.llq.max_n_shift). */
  shift: number;
  /** ARM_SMMU_OPT_MSIPOLL: CMD_SYNC completes by an MSI write into its own slot. */
  msiPoll: boolean;
  /** ARM_SMMU_OPT_CMDQ_FORCE_SYNC (Arm MMU-700 erratum 2812531). */
  forceSync: boolean;
  /** DMA address of the queue memory, for the MSI address of CMD_SYNC. */
  baseDma?: number;
  /** Entries kept for inspection (default 4096). */
  logCapacity?: number;
}

/** `struct arm_smmu_cmdq`, as the TLB invalidation code fills it (encoded, counted, logged; not executed). */
export class ArmSmmuCmdq {
  readonly shift: number;
  readonly msiPoll: boolean;
  readonly forceSync: boolean;
  readonly baseDma: number;
  /** Entries ever written to the queue (the producer index without wrap). */
  prod = 0;
  /** `arm_smmu_cmdq_issue_cmdlist` calls. */
  submissions = 0;
  /** CMD_SYNCs issued. */
  syncs = 0;
  private readonly counts = new Float64Array(256);
  private readonly ring: Uint32Array;
  private readonly logCapacity: number;
  // The batch being built (struct arm_smmu_cmdq_batch).
  private readonly batch = new Uint32Array(CMDQ_BATCH_ENTRIES * 4);
  private batchNum = 0;
  /** Set false to stop logging (counters keep running). */
  logging = true;
  /**
   * The TLBI command the invalidation code is building (`struct arm_smmu_cmdq_ent` on the
   * kernel's stack): one per queue, reused, so a flush allocates nothing.
   */
  readonly scratch: TlbiCmd = {
    opcode: 0,
    asid: 0,
    vmid: 0,
    leaf: false,
    num: 0,
    scale: 0,
    ttl: 0,
    tg: 0,
    addr: 0,
  };

  constructor(options: ArmSmmuCmdqOptions) {
    this.shift = options.shift;
    this.msiPoll = options.msiPoll;
    this.forceSync = options.forceSync;
    this.baseDma = options.baseDma ?? 0;
    this.logCapacity = options.logCapacity ?? 4096;
    this.ring = new Uint32Array(this.logCapacity * 4);
  }

  /** Commands issued with this opcode. */
  count(opcode: number): number {
    return this.counts[opcode]!;
  }

  /** Total commands issued (syncs included). */
  get issued(): number {
    return this.prod;
  }

  /** `arm_smmu_cmdq_batch_init` */
  batchInit(): void {
    this.batchNum = 0;
  }

  /** `arm_smmu_cmdq_batch_add` for a TLBI command. */
  batchAddTlbi(cmd: TlbiCmd): void {
    if (this.forceSync && this.batchNum === CMDQ_BATCH_ENTRIES - 1) {
      this.issueCmdlist(this.batchNum, true);
      this.batchNum = 0;
    }
    if (this.batchNum === CMDQ_BATCH_ENTRIES) {
      this.issueCmdlist(this.batchNum, false);
      this.batchNum = 0;
    }
    encodeTlbi(cmd, this.batch, this.batchNum * 4);
    this.batchNum++;
  }

  /** `arm_smmu_cmdq_batch_submit`: publish the batch followed by a CMD_SYNC. */
  batchSubmit(): void {
    this.issueCmdlist(this.batchNum, true);
    this.batchNum = 0;
  }

  /** `arm_smmu_cmdq_issue_cmd_with_sync` for one TLBI command. */
  issueTlbiWithSync(cmd: TlbiCmd): void {
    this.batchInit();
    encodeTlbi(cmd, this.batch, 0);
    this.batchNum = 1;
    this.batchSubmit();
  }

  /** `arm_smmu_cmdq_issue_cmdlist`: n entries of the batch, then optionally a CMD_SYNC. */
  private issueCmdlist(n: number, sync: boolean): void {
    this.submissions++;
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      this.push(this.batch[o]!, this.batch[o + 1]!, this.batch[o + 2]!, this.batch[o + 3]!);
    }
    if (sync) {
      this.syncs++;
      // arm_smmu_cmdq_build_sync_cmd: with MSI polling the SMMU writes into the sync's own slot.
      let w0 = (CMDQ_OP_CMD_SYNC | (ARM_SMMU_SH_ISH << CMDQ_SYNC_0_MSH_SHIFT)) >>> 0;
      w0 = (w0 | (ARM_SMMU_MEMATTR_OIWB << CMDQ_SYNC_0_MSIATTR_SHIFT)) >>> 0;
      let w2 = 0;
      let w3 = 0;
      if (this.msiPoll) {
        w0 = (w0 | (CMDQ_SYNC_0_CS_IRQ << CMDQ_SYNC_0_CS_SHIFT)) >>> 0;
        const slot = this.prod % 2 ** this.shift;
        const msi = this.baseDma + slot * CMDQ_ENT_BYTES;
        w2 = ((msi % TWO32) & ~3) >>> 0; // CMDQ_SYNC_1_MSIADDR_MASK = GENMASK(51, 2)
        w3 = Math.floor(msi / TWO32) & 0xfffff;
      } else {
        w0 = (w0 | (CMDQ_SYNC_0_CS_SEV << CMDQ_SYNC_0_CS_SHIFT)) >>> 0;
      }
      this.push(w0, 0, w2, w3);
    }
  }

  private push(w0: number, w1: number, w2: number, w3: number): void {
    this.counts[w0 & 0xff]!++;
    if (this.logging && this.logCapacity > 0) {
      const o = (this.prod % this.logCapacity) * 4;
      this.ring[o] = w0;
      this.ring[o + 1] = w1;
      this.ring[o + 2] = w2;
      this.ring[o + 3] = w3;
    }
    this.prod++;
  }

  /**
   * The most recent entries (up to the log capacity), oldest first, decoded. `since` (a
   * previous `prod` value) limits the result to entries issued after it.
   */
  log(since = 0): CmdqEntry[] {
    const first = Math.max(since, this.prod - this.logCapacity, 0);
    const out: CmdqEntry[] = [];
    for (let p = first; p < this.prod; p++) {
      const o = (p % this.logCapacity) * 4;
      out.push(decode(this.ring[o]!, this.ring[o + 1]!, this.ring[o + 2]!, this.ring[o + 3]!));
    }
    return out;
  }

  /** Zero the counters and the log. */
  reset(): void {
    this.prod = 0;
    this.submissions = 0;
    this.syncs = 0;
    this.counts.fill(0);
    this.batchNum = 0;
  }
}

/** `arm_smmu_cmdq_build_cmd` for the TLBI opcodes, into words [o, o + 4) of `out`. */
function encodeTlbi(cmd: TlbiCmd, out: Uint32Array, o: number): void {
  const op = cmd.opcode;
  let w0 = op;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  const hasAddr = op === CMDQ_OP_TLBI_NH_VA || op === CMDQ_OP_TLBI_EL2_VA || op === CMDQ_OP_TLBI_S2_IPA;
  if (hasAddr) {
    w0 |= (cmd.num & 0x1f) << CMDQ_TLBI_0_NUM_SHIFT;
    w0 |= (cmd.scale & 0x1f) << CMDQ_TLBI_0_SCALE_SHIFT;
    if (cmd.leaf) w2 |= CMDQ_TLBI_1_LEAF;
    w2 |= (cmd.ttl & 3) << CMDQ_TLBI_1_TTL_SHIFT;
    w2 |= (cmd.tg & 3) << CMDQ_TLBI_1_TG_SHIFT;
    // VA_MASK is [63:12]; IPA_MASK [51:12].
    w2 = (w2 | ((cmd.addr % TWO32) & 0xfffff000)) >>> 0;
    w3 = Math.floor(cmd.addr / TWO32) >>> 0;
    if (op === CMDQ_OP_TLBI_S2_IPA) w3 &= 0xfffff;
  }
  // NH_VA, S2_IPA, NH_ASID, NH_ALL and S12_VMALL carry the VMID; NH_VA, EL2_VA, NH_ASID and
  // EL2_ASID the ASID.
  if (
    op === CMDQ_OP_TLBI_NH_VA ||
    op === CMDQ_OP_TLBI_S2_IPA ||
    op === CMDQ_OP_TLBI_NH_ASID ||
    op === CMDQ_OP_TLBI_NH_ALL ||
    op === CMDQ_OP_TLBI_S12_VMALL
  )
    w1 |= cmd.vmid & 0xffff;
  if (
    op === CMDQ_OP_TLBI_NH_VA ||
    op === CMDQ_OP_TLBI_EL2_VA ||
    op === CMDQ_OP_TLBI_NH_ASID ||
    op === CMDQ_OP_TLBI_EL2_ASID
  )
    w1 = (w1 | ((cmd.asid & 0xffff) << 16)) >>> 0;
  out[o] = w0 >>> 0;
  out[o + 1] = w1 >>> 0;
  out[o + 2] = w2 >>> 0;
  out[o + 3] = w3 >>> 0;
}

function decode(w0: number, w1: number, w2: number, w3: number): CmdqEntry {
  const opcode = w0 & 0xff;
  const dw0 = (BigInt(w1) << 32n) | BigInt(w0);
  const dw1 = (BigInt(w3) << 32n) | BigInt(w2);
  const isSync = opcode === CMDQ_OP_CMD_SYNC;
  const isRange =
    opcode === CMDQ_OP_TLBI_NH_VA || opcode === CMDQ_OP_TLBI_EL2_VA || opcode === CMDQ_OP_TLBI_S2_IPA;
  return {
    opcode,
    name: CMDQ_OP_NAMES[opcode] ?? `CMD_0x${opcode.toString(16)}`,
    cmd: [dw0, dw1],
    asid: isSync ? 0 : w1 >>> 16,
    vmid: isSync ? 0 : w1 & 0xffff,
    addr: isRange ? dw1 & ~0xfffn : 0n,
    leaf: isRange && (w2 & CMDQ_TLBI_1_LEAF) !== 0,
    num: isRange ? (w0 >>> CMDQ_TLBI_0_NUM_SHIFT) & 0x1f : 0,
    scale: isRange ? (w0 >>> CMDQ_TLBI_0_SCALE_SHIFT) & 0x1f : 0,
    ttl: isRange ? (w2 >>> CMDQ_TLBI_1_TTL_SHIFT) & 3 : 0,
    tg: isRange ? (w2 >>> CMDQ_TLBI_1_TG_SHIFT) & 3 : 0,
    cs: isSync ? (w0 >>> CMDQ_SYNC_0_CS_SHIFT) & 3 : 0,
    msiaddr: isSync ? dw1 & 0xffffffffffffcn : 0n,
  };
}
