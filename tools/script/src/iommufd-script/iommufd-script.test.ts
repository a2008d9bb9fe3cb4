// The iommufd script language over @iommu/iommufd: output lines, errno, and the read-back counts
// of both modes for the kernel-callers.md §7 headline case.
import { describe, expect, it } from "vitest";
import { runIommufdScript } from "./run.js";

const HEADLINE = `
# 2 MiB of hugetlb, one 2 MiB AMDv1 leaf, unmapped
mem 0x7f0000000000 2M hugetlb2m
ioas
domain 1 amdv1 pgsizes 2M
map 1 0x7f0000000000 2M 0x40000000
reset
unmap 1 0x40000000 2M
counts
`;

describe("iommufd-script", () => {
  it("headline: 512 lookups today, 1 with the length-aware read-back; one iommu_unmap either way", () => {
    expect(runIommufdScript(HEADLINE)).toBe(
      "ok\nok ioas 1\nok hwpt 2\nok iova 0x40000000\nok\nok unmapped 0x200000\n" +
        "counts iova_to_phys=512 unmap_calls=1 map_calls=0 iotlb_sync=1 batch_full=0 pinned=0 locked_vm=0 warn=0\n",
    );
    expect(runIommufdScript(HEADLINE, { readBack: "length" })).toContain(
      "counts iova_to_phys=1 unmap_calls=1 ",
    );
  });

  it("--read-back runs: one range lookup for a batch of 8 scattered runs; the same unmaps and pins", () => {
    const script = `
mem 0x10000000 64K scattered seed 3
ioas
domain 1 amdv1
map 1 0x10000000 32K 0x40000000
reset
unmap 1 0x40000000 32K
counts
`;
    const legacy = runIommufdScript(script);
    const runs = runIommufdScript(script, { readBack: "runs" });
    expect(legacy).toContain("counts iova_to_phys=8 unmap_calls=1 ");
    expect(runs).toContain("counts iova_to_phys=1 unmap_calls=1 ");
    expect(runs.replace(/iova_to_phys=\d+/, "")).toBe(legacy.replace(/iova_to_phys=\d+/, ""));
  });

  it("errno lines: EEXIST on overmap, ENOENT on a split unmap, EFAULT outside memory, EBUSY destroying a used IOAS", () => {
    const out = runIommufdScript(`
mem 0x10000000 64K scattered
ioas
domain 1 mock
map 1 0x10000000 8K 0x1000000
map 1 0x10000000 4K 0x1001000
unmap 1 0x1000000 4K
map 1 0x20000000 4K 0x1100000
destroy 1
check 2 0x1000000 8K 0x10000000
unmap 1 all
counts
`).split("\n");
    expect(out.slice(0, 10)).toEqual([
      "ok",
      "ok ioas 1",
      "ok hwpt 2",
      "ok iova 0x1000000",
      "err -17 (EEXIST)",
      "err -2 (ENOENT)",
      "err -14 (EFAULT)",
      "err -16 (EBUSY)",
      "ok walks 4",
      "ok unmapped 0x2000",
    ]);
  });

  it("accesses, copies, ranges and syntax errors", () => {
    const out = runIommufdScript(`
mem 0x10000000 64K scattered
ioas
ioas
map 1 0x10000000 16K 0x100000
access 1
pin 3 0x101000 8K
copy 1 0x100000 2 auto 16K
ranges 2
frob
counts
`).split("\n");
    expect(out.slice(4, 9)).toEqual([
      "ok access 3",
      "ok item 1",
      "ok iova 0x4000",
      "ok align 0x1 0x0-0xffffffffffffffff",
      "err syntax line 10: unknown command frob",
    ]);
    expect(out[9]).toContain("pinned=2 locked_vm=2 ");
  });

  it("64-bit IOVAs: maps at 2^63 and on the last page, ranges, EOVERFLOW on wrap, unmap all", () => {
    const out = runIommufdScript(`
mem 0x10000000 2M hugetlb2m
ioas
domain 1 amdv1 pgsizes 2M
map 1 0x10000000 2M 0x8000000000000000
map 1 0x10000000 4K 0xfffffffffffff000
map 1 0x10000000 8K 0xfffffffffffff000
reserve 1 0x8000000000200000 4K
ranges 1
check 2 0xfffffffffffff000 4K 0x10000000
access 1
rw 3 0xffffffffffffffff 1 slow
rw 3 0xffffffffffffffff 2
unmap 1 0xfffffffffffff000 8K
unmap 1 all
`).split("\n");
    expect(out.slice(0, 14)).toEqual([
      "ok",
      "ok ioas 1",
      "ok hwpt 2",
      "ok iova 0x8000000000000000",
      "ok iova 0xfffffffffffff000",
      "err -75 (EOVERFLOW)",
      "ok",
      "ok align 0x1000 0x0-0x80000000001fffff 0x8000000000201000-0xffffffffffffffff",
      "ok walks 1",
      "ok access 3",
      "ok",
      "err -75 (EOVERFLOW)",
      "err -75 (EOVERFLOW)",
      "ok unmapped 0x201000",
    ]);
  });
});
