// drivers/iommu/virtio-iommu.c under the shared conformance kit (@iommu/testing). The kit's
// reference model is a page table: a map over a live mapping must fail (mapConflict) and
// unmaps follow leaves. viommu_map_pages() inserts an overlapping interval without any check
// and viommu_unmap_pages() removes whole MAP extents, so no sequence check can apply; each is
// listed with that reason, and property.test.ts runs the same kind of ≥ 10,000-op sequences
// against an interval-tree reference instead (plus the device end to end).
import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { guest } from "./testing/setup.js";

const noConflict =
  "map_pages never refuses an overlapping map (the kit's reference needs mapConflict); see property.test.ts";

const options: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "fail",
    unmapHole: 0,
    unmapPartialLeaf: "whole",
    unmapRange: "leaf-walk",
  },
  skip: {
    reference: noConflict,
    "length-contract": noConflict,
    "walk-cache": noConflict,
    "alloc-failure":
      "no page-table allocation: an interval is one record (queue failures: virtio-iommu.test.ts)",
    counters: "no tables to account; lookups count one interval read (virtio-iommu.test.ts)",
  },
};

describeDomainConformance(
  "virtio-iommu (4K granule, 48-bit input range)",
  () => {
    const g = guest();
    g.domain.counters = new IommuCounters();
    return { domain: g.domain, allocator: new TableAllocator(new PhysMem()) };
  },
  options,
);
