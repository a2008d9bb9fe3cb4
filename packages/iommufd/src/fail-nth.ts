// drivers/iommu/iommufd/selftest.c iommufd_should_fail() with tools/testing/selftests/iommu/
// iommufd_fail_nth.c: fault injection at every allocation iommufd makes.

/**
 * `iommufd_should_fail`: the allocation-failure injector every fallible allocation of the
 * model consults (object and area kzalloc, temp_kmalloc, GUP, the accounting charge, the
 * xarray, the mock domain's and — through {@link FailNth.wrapAlloc} — page-table pages).
 *
 * `failNth(n)` arms it like writing n to /proc/self/fail-nth: the n-th allocation from now
 * fails (1 = the next one), once. `sites` counts every consultation, so a fail-nth run knows
 * when N has passed the operation's last allocation.
 */
export class FailNth {
  /** Allocation sites consulted since construction or the last {@link reset}. */
  sites = 0;
  /** Allocations made to fail. */
  failed = 0;
  private countdown = 0;

  /** Fail the n-th next allocation (1 = the next); 0 disarms. */
  failNth(n: number): void {
    this.countdown = n;
  }

  /** Whether the fault is still armed (the operation ended before reaching the n-th site). */
  get armed(): boolean {
    return this.countdown > 0;
  }

  reset(): void {
    this.sites = 0;
    this.failed = 0;
    this.countdown = 0;
  }

  /** `iommufd_should_fail()`: true when this allocation must fail. */
  shouldFail(): boolean {
    this.sites++;
    if (this.countdown > 0 && --this.countdown === 0) {
      this.failed++;
      return true;
    }
    return false;
  }

  /**
   * Model-only: put another allocator's failures under this injector, e.g. a
   * TableAllocator's `alloc` (`-1` = NULL) so page-table pages fail like the kernel's
   * GFP_KERNEL_ACCOUNT allocations under fail-nth.
   */
  wrapAlloc<A extends unknown[]>(alloc: (...args: A) => number): (...args: A) => number {
    return (...args: A) => (this.shouldFail() ? -1 : alloc(...args));
  }
}
