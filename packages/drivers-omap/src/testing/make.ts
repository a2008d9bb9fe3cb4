/**
 * drivers/iommu/omap-iommu.c (test helper, not published): the client's MMUs with one attached
 * paging domain over its own table memory.
 */
import { PhysMem, TableAllocator } from "@iommu/core";
import { type OmapDomain, OmapIommu, type OmapSoc } from "../omap-iommu.js";

export interface OmapFixture {
  readonly omap: OmapIommu;
  readonly d: OmapDomain;
  readonly allocator: TableAllocator;
}

export function makeOmap(
  options: { strict?: boolean; mmus?: 1 | 2; soc?: OmapSoc; tlbEntries?: 8 | 32; base?: number } = {},
): OmapFixture {
  const allocator = new TableAllocator(new PhysMem(), { base: options.base ?? 0x8000_0000 });
  const omap = new OmapIommu({
    soc: options.soc ?? "omap4",
    mmus: options.mmus ?? 1,
    tlbEntries: options.tlbEntries ?? 32,
    allocator,
    strict: options.strict ?? false,
  });
  const d = omap.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`domain_alloc_paging: ${d}`);
  if (omap.attach(d) !== 0) throw new Error("attach failed");
  return { omap, d, allocator };
}
