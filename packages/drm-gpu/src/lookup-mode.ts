/**
 * The series' patch "drm/gpu, iommu/io-pgtable: switch to iova_to_phys_length" (kernel-callers.md
 * §5, §7 rows 8–9): which lookup the GPU drivers' page-table probes use. `legacy` is today's
 * `ops->iova_to_phys()` (0 = not mapped, one probe per step); `length` is the series'
 * `iova_to_phys_length()`, which also reports the size of the leaf or of the empty span, so a
 * probe that lands in a hole skips the whole hole.
 */
export type LookupMode = "legacy" | "length";
