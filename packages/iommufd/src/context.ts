// drivers/iommu/iommufd/iommufd_private.h: what pages.c and io_pagetable.c need from the
// iommufd context (struct iommufd_ctx, current task/mm/user) in the model.
import type { IommuCounters, PhysLength, UserMm } from "@iommu/core";
import type { IommufdCounters } from "./counters.js";
import type { FailNth } from "./fail-nth.js";
import type { IommuCalls } from "./iommu-calls.js";

/**
 * How pages.c reads PFNs back from a domain (batch_from_domain, raw_pages_from_domain):
 * - `legacy`: today's kernel, one iommu_iova_to_phys() per PAGE_SIZE index;
 * - `length`: the series' version, one iommu_iova_to_phys_length() per leaf, the whole leaf
 *   added to the batch as one run; a leaf of PAGE_SIZE or less (the mock domain's 2 KiB
 *   pages) still advances one PAGE index, so it never walks more than `legacy`;
 * - `runs` (model-only, issue 17): one range lookup (`iommuIovaToPhysRuns`) per batch, each
 *   run of physically contiguous pages added as one batch entry (split only at the u32 count
 *   and the batch's capacity); batch contents, unmaps and unpins are those of `legacy`.
 */
export type ReadBackMode = "legacy" | "length" | "runs";

/** Model-only: every {@link ReadBackMode}, today's first. */
export const READ_BACK_MODES: readonly ReadBackMode[] = ["legacy", "length", "runs"];

/** `enum iopt_pages_account_mode` / `ictx->account_mode` */
export type AccountMode = "none" | "user" | "mm";

/** `struct user_struct`: the per-user locked_vm IOPT_PAGES_ACCOUNT_USER charges. */
export interface SourceUser {
  lockedVm: number;
}

/** The context shared by every IOAS of one iommufd (one open /dev/iommu). */
export interface IommufdContext {
  /** `current->mm` and the task limits (RLIMIT_MEMLOCK, CAP_IPC_LOCK). */
  readonly mm: UserMm;
  /** `current_user()` */
  readonly user: SourceUser;
  readonly calls: IommuCalls;
  readonly counters: IommufdCounters;
  readonly fault: FailNth;
  /** WARN sink. */
  readonly warns: IommuCounters;
  /** PFN read-back strategy of every IOAS of this context. */
  readBack: ReadBackMode;
  /** `TEMP_MEMORY_LIMIT`: 64 KiB, or `iommufd_test_memory_limit` (IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT). */
  tempMemoryLimit: number;
  /** `ictx->account_mode` (IOMMU_OPTION_RLIMIT_MODE): "user" (default) or "mm". */
  accountMode: AccountMode;
  /** `mm->pinned_vm` in pages. */
  pinnedVm: number;
  /** Reused lookup record of the length read-back. */
  readonly lookup: PhysLength;
}
