/** One measured scenario: what `iommu demo --json` prints, one object per table row. */
export interface Pair {
  legacy: number;
  length: number;
}

export interface DemoRow {
  scenario: string;
  driver: string;
  /** io-pgtable format of the domain, e.g. `ARM_64_LPAE_S1`. */
  format: string;
  /** Sizes in bytes. */
  granule: number;
  leafSize: number;
  regionSize: number;
  /** iommu_iova_to_phys(_length) calls made by VFIO. */
  walks: Pair;
  /** Page-table entries read during the operation (lookups and unmap walks). */
  pteReads: Pair;
  unmapCalls: Pair;
  iotlbSyncs: Pair;
  /** Wall time of the measured operation, nanoseconds. */
  ns: Pair;
  /** Walks the kernel-callers.md §7 formulas predict (table only; not part of --json). */
  expected?: Pair;
}

/** Rows as plain JSON values (the exact `--json` shape). */
export function toJson(rows: readonly DemoRow[]): string {
  const plain = rows.map((r) => ({
    scenario: r.scenario,
    driver: r.driver,
    format: r.format,
    granule: r.granule,
    leafSize: r.leafSize,
    regionSize: r.regionSize,
    walks: { legacy: r.walks.legacy, length: r.walks.length },
    pteReads: { legacy: r.pteReads.legacy, length: r.pteReads.length },
    unmapCalls: { legacy: r.unmapCalls.legacy, length: r.unmapCalls.length },
    iotlbSyncs: { legacy: r.iotlbSyncs.legacy, length: r.iotlbSyncs.length },
    ns: { legacy: r.ns.legacy, length: r.ns.length },
  }));
  return JSON.stringify(plain, null, 2);
}
