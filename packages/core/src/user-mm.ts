// mm/util.c __account_locked_vm + the task attributes callers consult: the user process a caller
// (VFIO type1, iommufd) pins memory for. Moved here from @iommu/vfio so both callers share it.
import { PAGE_SHIFT } from "./addr.js";
import { IommuCounters } from "./counters.js";
import { negErrno } from "./errno.js";
import { UserMemory } from "./user-memory.js";

/** RLIMIT_INFINITY / ULONG_MAX. */
export const RLIM_INFINITY = (1n << 64n) - 1n;

export interface UserMmOptions {
  /** RLIMIT_MEMLOCK in bytes; default unlimited. */
  rlimitMemlock?: bigint | number;
  /** `capable(CAP_IPC_LOCK)` for the task: bypasses the limit (pages are still counted). */
  capIpcLock?: boolean;
  /** WARN sink shared by the memory model and the accounting. */
  counters?: IommuCounters;
  /** RAM user pages come from (default [4 GiB, 64 GiB)); see {@link UserMemory}. */
  phys?: { base: number; end: number };
}

/**
 * The user process a caller (VFIO, iommufd) works for: its `mm_struct` (address space, `locked_vm`) and the task
 * attributes type1 consults (RLIMIT_MEMLOCK, CAP_IPC_LOCK). One per simulated process.
 */
export class UserMm {
  readonly memory: UserMemory;
  /** `mm->locked_vm` in pages. */
  lockedVm = 0;
  /** RLIMIT_MEMLOCK in bytes (RLIM_INFINITY = unlimited). */
  rlimitMemlock: bigint;
  capIpcLock: boolean;
  readonly counters: IommuCounters;

  constructor(opts: UserMmOptions = {}) {
    this.counters = opts.counters ?? new IommuCounters();
    this.memory = new UserMemory(this.counters, opts.phys);
    this.rlimitMemlock = BigInt(opts.rlimitMemlock ?? RLIM_INFINITY);
    this.capIpcLock = opts.capIpcLock ?? false;
  }

  /** `rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT`: the limit in pages, as vfio and iommufd compare it. */
  get memlockLimitPages(): number {
    return Number(this.rlimitMemlock >> BigInt(PAGE_SHIFT));
  }

  /** Pages currently pinned through GUP. */
  get pinned(): number {
    return this.memory.pinned;
  }

  /**
   * `__account_locked_vm(mm, pages, inc, task, bypass_rlim)` (mm/util.c): charging checks the
   * new total against RLIMIT_MEMLOCK unless bypassed (-ENOMEM, nothing charged); uncharging
   * WARNs once when asked for more than is charged and clamps at 0.
   */
  accountLockedVm(pages: number, inc: boolean, bypassRlim: boolean): number {
    const locked = this.lockedVm;
    if (inc) {
      if (!bypassRlim && locked + pages > this.memlockLimitPages) return negErrno("ENOMEM");
      this.lockedVm = locked + pages;
      return 0;
    }
    if (pages > locked) this.counters.warn("__account_locked_vm: uncharging more than locked_vm");
    this.lockedVm = locked > pages ? locked - pages : 0;
    return 0;
  }
}
