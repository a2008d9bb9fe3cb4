// drivers/iommu/s390-iommu.c: the shared conformance kit (@iommu/testing) on strict domains of 3, 4 and 5 levels.
import { describeDomainConformance } from "@iommu/testing";
import { makeS390 } from "./testing/make.js";

/*
 * Strict domains: the kit's reference expects a map over a live page to fail and an unmap to
 * stop at the first hole without allocating; the kernel mode (overwrite with WARN, blind and
 * allocating unmaps, size arithmetic, wrap) is checked against its own reference in
 * property.test.ts and quirk by quirk in s390-iommu.test.ts.
 */
for (const levels of [3, 4, 5] as const) {
  describeDomainConformance(
    `s390-iommu ${levels} levels (strict)`,
    () => {
      const t = makeS390(levels, { strict: true });
      return { domain: t.d, allocator: t.allocator };
    },
    {
      semantics: {
        mapConflict: "EEXIST",
        mapOverTable: "fail",
        unmapHole: 0,
        unmapPartialLeaf: "keep",
        unmapRange: "leaf-walk",
      },
      ops: 10_000,
      known: {
        writeImpliesRead: "a PTE has only a protection bit: writable pages are readable",
        tablesShareBlocks: "two 2 KiB page tables share each 4 KiB slab page",
      },
      skip: {
        "alloc-failure":
          "the kernel's undo of a failed map leaves the PTEs it wrote invalid but with their address (pa | 0x400), and keeps the tables it installed (shorter holes); the kit demands untouched entries — src/alloc-failure.test.ts checks translations, reachability and leaks instead",
      },
    },
  );
}
