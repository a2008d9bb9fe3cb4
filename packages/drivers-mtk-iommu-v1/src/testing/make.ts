/**
 * drivers/iommu/mtk_iommu_v1.c (test helper, not published): a fresh M4U with one attached
 * domain (which owns the 4 MiB table) over its own table memory.
 */
import { PhysMem, TableAllocator } from "@iommu/core";
import { MtkIommuV1, type MtkIommuV1Domain } from "../mtk-iommu-v1.js";

export interface MtkFixture {
  readonly m4u: MtkIommuV1;
  readonly d: MtkIommuV1Domain;
  readonly allocator: TableAllocator;
}

export function makeMtk(options: { strict?: boolean; base?: number } = {}): MtkFixture {
  const allocator = new TableAllocator(new PhysMem(), { base: options.base ?? 0x8000_0000 });
  const m4u = new MtkIommuV1({ allocator, strict: options.strict ?? false });
  const d = m4u.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`domain_alloc_paging: ${d}`);
  if (m4u.attach(d) !== 0) throw new Error("attach failed");
  return { m4u, d, allocator };
}
