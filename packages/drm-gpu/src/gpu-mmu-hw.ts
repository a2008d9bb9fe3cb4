/**
 * drivers/gpu/drm/panfrost/panfrost_mmu.c, drivers/gpu/drm/panthor/panthor_mmu.c: the MMU
 * side of the GPU as the drivers see it — per address space (AS) the TRANSTAB, MEMATTR,
 * TRANSCFG and LOCKADDR registers and the AS_COMMAND register — with every command counted.
 * The AS never reports AS_ACTIVE, so `wait_ready()` always succeeds at once.
 */
import {
  AS_COMMAND_FLUSH_MEM,
  AS_COMMAND_FLUSH_PT,
  AS_COMMAND_LOCK,
  AS_COMMAND_UNLOCK,
  AS_COMMAND_UPDATE,
  type LockRegion,
  lockRegion,
} from "./mmu-regs.js";

/** `AS_TRANSTAB`, `AS_MEMATTR`, `AS_TRANSCFG`, `AS_LOCKADDR`: one address space's registers. */
export interface AsRegs {
  transtab: bigint;
  memattr: bigint;
  transcfg: bigint;
  lockaddr: bigint;
}

/** `AS_COMMAND` writes by command, and GPU_CONTROL cache flushes (the demo's "flushes"). */
export interface AsCommandCounts {
  lock: number;
  unlock: number;
  flushPt: number;
  flushMem: number;
  update: number;
  /** GPU_CONTROL cache flushes (panthor flushes caches itself before AS_COMMAND_UNLOCK). */
  cacheFlush: number;
}

/**
 * Model-only: one AS_COMMAND write in the command log — the AS, the command, and the region
 * it acts on (the region AS_COMMAND_LOCK locked, still locked when FLUSH_PT / FLUSH_MEM /
 * UNLOCK runs; null when nothing is locked).
 */
export interface AsCommandLogEntry {
  readonly as: number;
  readonly cmd: number;
  readonly region: LockRegion | null;
}

/** Model-only: {@link GpuMmuHw} construction options. */
export interface GpuMmuHwOptions {
  /**
   * AS_COMMAND writes the log keeps (the newest; default 0: no log). The IOTLB feed
   * (`gpuMmuIotlbFeed`) reads it.
   */
  logCapacity?: number;
}

/** The GPU's MMU registers: what the drivers write, counted. */
export class GpuMmuHw implements AsCommandCounts {
  lock = 0;
  unlock = 0;
  flushPt = 0;
  flushMem = 0;
  update = 0;
  cacheFlush = 0;
  /** The region of the last AS_COMMAND_LOCK, by AS. */
  readonly locked = new Map<number, LockRegion>();
  private readonly regs = new Map<number, AsRegs>();
  /** Model-only: AS_COMMAND writes so far (a mark for {@link commandLog}). */
  commands = 0;
  /** Model-only: the newest `logCapacity` AS_COMMAND writes, oldest first. */
  readonly log: AsCommandLogEntry[] = [];
  readonly logCapacity: number;

  constructor(options: GpuMmuHwOptions = {}) {
    this.logCapacity = options.logCapacity ?? 0;
  }

  /** Model-only: the logged commands written since `mark` (a past value of `commands`). */
  commandLog(mark: number): AsCommandLogEntry[] {
    const n = this.commands - mark;
    return this.log.slice(Math.max(0, this.log.length - n));
  }

  /** The registers of AS `as` (created zeroed). */
  as(as: number): AsRegs {
    let r = this.regs.get(as);
    if (!r) {
      r = { transtab: 0n, memattr: 0n, transcfg: 0n, lockaddr: 0n };
      this.regs.set(as, r);
    }
    return r;
  }

  /** `write_cmd(as, cmd)` after a successful `wait_ready()`. */
  command(as: number, cmd: number): void {
    this.commands++;
    if (this.logCapacity > 0) {
      if (this.log.length >= this.logCapacity) this.log.shift();
      this.log.push({ as, cmd, region: this.locked.get(as) ?? null });
    }
    if (cmd === AS_COMMAND_LOCK) this.lock++;
    else if (cmd === AS_COMMAND_UNLOCK) {
      this.unlock++;
      this.locked.delete(as);
    } else if (cmd === AS_COMMAND_FLUSH_PT) {
      this.flushPt++;
      this.locked.delete(as); // FLUSH_PT and FLUSH_MEM unlock on completion
    } else if (cmd === AS_COMMAND_FLUSH_MEM) {
      this.flushMem++;
      this.locked.delete(as);
    } else if (cmd === AS_COMMAND_UPDATE) this.update++;
  }

  /** `lock_region()`: program AS_LOCKADDR and issue AS_COMMAND_LOCK (nothing for size 0). */
  lockRegion(as: number, start: bigint, size: bigint): LockRegion | null {
    const r = lockRegion(start, size);
    if (!r) return null;
    this.as(as).lockaddr = r.lockaddr;
    this.locked.set(as, r);
    this.command(as, AS_COMMAND_LOCK);
    return r;
  }

  /** `panthor_gpu_flush_caches()`: one GPU_CONTROL cache flush. */
  flushCaches(): void {
    this.cacheFlush++;
  }

  /** A copy of the command counts. */
  counts(): AsCommandCounts {
    const { lock, unlock, flushPt, flushMem, update, cacheFlush } = this;
    return { lock, unlock, flushPt, flushMem, update, cacheFlush };
  }
}
