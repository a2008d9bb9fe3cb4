/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: the lowest-free-index allocators behind ASIDs
 * (`xa_alloc` on the global `arm_smmu_asid_xa`, limit [1, 2^asid_bits − 1]) and VMIDs
 * (`ida_alloc_range` on the per-SMMU `vmid_map`, [1, 2^vmid_bits − 1]; VMID 0 stays reserved
 * for bypass STEs).
 */

/**
 * `xa_alloc` / `ida_alloc_range` over a dense id space: lowest free id first, as both
 * kernel allocators hand them out.
 */
export class IdAllocator {
  private readonly used: Uint8Array;
  private live = 0;

  /** `capacity`: one past the largest id that can ever be asked for (65536 for 16-bit ids). */
  constructor(capacity = 1 << 16) {
    this.used = new Uint8Array(capacity);
  }

  /** Lowest free id in [min, max], or -1 when the range is full (the callers' -ENOSPC/-EBUSY). */
  alloc(min: number, max: number): number {
    const top = Math.min(max, this.used.length - 1);
    for (let id = min; id <= top; id++) {
      if (this.used[id] === 0) {
        this.used[id] = 1;
        this.live++;
        return id;
      }
    }
    return -1;
  }

  /** Release an id; freeing a free id is a caller bug and is ignored, as xa_erase does. */
  free(id: number): void {
    if (this.used[id] === 1) {
      this.used[id] = 0;
      this.live--;
    }
  }

  has(id: number): boolean {
    return this.used[id] === 1;
  }

  get liveCount(): number {
    return this.live;
  }
}
