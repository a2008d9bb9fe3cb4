/**
 * drivers/iommu/tegra-smmu.c (test helper, not published): a fresh SMMU with one attached
 * address space over its own table memory.
 */
import { PhysMem, TableAllocator } from "@iommu/core";
import { TegraSmmu, type TegraSmmuDomain } from "../tegra-smmu.js";

export interface TegraFixture {
  readonly smmu: TegraSmmu;
  readonly d: TegraSmmuDomain;
  readonly allocator: TableAllocator;
}

export function makeTegra(
  options: { strict?: boolean; numAddressBits?: number; base?: number; attach?: boolean } = {},
): TegraFixture {
  const allocator = new TableAllocator(new PhysMem(), { base: options.base ?? 0x8000_0000 });
  const smmu = new TegraSmmu({
    soc: "tegra124",
    allocator,
    strict: options.strict ?? false,
    ...(options.numAddressBits ? { numAddressBits: options.numAddressBits } : {}),
  });
  const d = smmu.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`domain_alloc_paging: ${d}`);
  if (options.attach !== false && smmu.attach(d) !== 0) throw new Error("attach failed");
  return { smmu, d, allocator };
}
