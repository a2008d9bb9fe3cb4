// drivers/iommu/iommufd/pages.c: struct pfn_batch and temp_kmalloc, the temporary PFN vector
// every copy between the three PFN tiers goes through.
import type { IommufdContext } from "./context.js";

/** `TEMP_MEMORY_LIMIT` without CONFIG_IOMMUFD_TEST. */
export const TEMP_MEMORY_LIMIT = 65536;
/** `BATCH_BACKUP_SIZE`: u64 words of the stack backup the destroy paths provide (256 B). */
export const BATCH_BACKUP_SIZE = 32;
/** `sizeof(*batch->pfns) + sizeof(*batch->npfns)` */
export const PFN_BATCH_ELEMENT_SIZE = 12;
/** `type_max(u32)`: the longest run one entry can describe. */
export const MAX_NPFNS = 0xffff_ffff;

/** The result of {@link tempKmalloc}: bytes granted, or -1 (NULL). */
export function tempKmalloc(ctx: IommufdContext, size: number, backupLen: number): number {
  if (size === 0) {
    ctx.warns.warn("temp_kmalloc: WARN_ON(*size == 0)");
    return -1;
  }
  if (size < backupLen) return size;
  if (!backupLen && ctx.fault.shouldFail()) return -1;
  // kmalloc(min(size, limit), __GFP_NORETRY) is not otherwise failed by the model.
  return Math.min(size, ctx.tempMemoryLimit);
}

/**
 * `struct pfn_batch`: runs of (first pfn, u32 count). `arraySize` entries come from
 * temp_kmalloc (64 KiB = 5461 entries), the CONFIG_IOMMUFD_TEST limit, or the caller's stack
 * backup. The typed arrays are kept across inits: a batch is set up once per operation, and
 * the arrays only grow.
 */
export class PfnBatch {
  pfns = new Float64Array(0);
  npfns = new Uint32Array(0);
  arraySize = 0;
  end = 0;
  totalPfns = 0;

  /**
   * `__batch_init(batch, max_pages, backup, backup_len)`: 0, or -ENOMEM when temp_kmalloc
   * fails without a backup (`backupLen` 0). With a backup it cannot fail.
   */
  init(ctx: IommufdContext, maxPages: number, backupLen = 0): number {
    const size = tempKmalloc(ctx, maxPages * PFN_BATCH_ELEMENT_SIZE, backupLen);
    if (size < 0) return -12;
    if (size < PFN_BATCH_ELEMENT_SIZE) {
      // CONFIG_IOMMUFD_TEST: WARN_ON(size < elmsz) -> -EINVAL.
      ctx.warns.warn("__batch_init: temp memory smaller than one batch entry");
      return -22;
    }
    this.arraySize = Math.floor(size / PFN_BATCH_ELEMENT_SIZE);
    if (this.pfns.length < this.arraySize) {
      this.pfns = new Float64Array(this.arraySize);
      this.npfns = new Uint32Array(this.arraySize);
    }
    this.clear();
    return 0;
  }

  /** `batch_clear` */
  clear(): void {
    this.totalPfns = 0;
    this.end = 0;
    if (this.pfns.length) {
      this.pfns[0] = 0;
      this.npfns[0] = 0;
    }
  }

  /** `batch_clear_carry`: keep the last `keep` pfns of the last run as the only content. */
  clearCarry(keep: number, warn: (m: string) => void): void {
    if (!keep) {
      this.clear();
      return;
    }
    if (!this.end || this.npfns[this.end - 1]! < keep)
      warn("batch_clear_carry: carry larger than the last run");
    this.totalPfns = keep;
    this.pfns[0] = this.pfns[this.end - 1]! + (this.npfns[this.end - 1]! - keep);
    this.npfns[0] = keep;
    // One entry, the carry (upstream "Do not corrupt the pfn list when doing batch carry").
    this.end = 1;
  }

  /** `batch_skip_carry`: drop up to `skip` pfns from the front of the carry. */
  skipCarry(skip: number, warn: (m: string) => void): void {
    if (!this.totalPfns) return;
    if (this.totalPfns !== this.npfns[0]) warn("batch_skip_carry: carry is not a single run");
    const n = Math.min(this.totalPfns, skip);
    this.pfns[0]! += n;
    this.npfns[0]! -= n;
    this.totalPfns -= n;
  }

  /**
   * `batch_add_pfn_num`: append `nr` pfns starting at `pfn`, extending the last run when
   * contiguous (and the u32 count does not overflow), else in a new entry; false = full.
   */
  addPfnNum(pfn: number, nr: number): boolean {
    const end = this.end;
    if (end && pfn === this.pfns[end - 1]! + this.npfns[end - 1]! && nr <= MAX_NPFNS - this.npfns[end - 1]!) {
      this.npfns[end - 1]! += nr;
    } else if (end < this.arraySize) {
      this.pfns[end] = pfn;
      this.npfns[end] = nr;
      this.end = end + 1;
    } else return false;
    this.totalPfns += nr;
    return true;
  }

  /** `batch_add_pfn` */
  addPfn(pfn: number): boolean {
    return this.addPfnNum(pfn, 1);
  }
}
