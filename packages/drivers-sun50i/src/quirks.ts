/**
 * drivers/iommu/sun50i-iommu.c: the kernel behaviours the model reproduces by default and a
 * `strict` domain reports instead (README "Known kernel quirks").
 */

/**
 * `sun50i-iommu.c` (at 6cc0d5f4) behaviours a strict domain reports (model-only names):
 * - `iova-aliased`: the index math keeps IOVA bits 31:0, so IOVAs ≥ 4 GiB alias the low 4 GiB
 *   (the core does not check the 32-bit aperture).
 * - `pa-truncated`: `page &= GENMASK(31, 12)` drops PA bits above 31 (later kernels refuse
 *   such a PA with -EINVAL, which is what a strict domain returns).
 * - `pa-unaligned`: the PA's bits 11:0 are dropped silently.
 * - `mapped-overreport`: `map_pages` writes one 4 KiB PTE but reports `mapped = pgsize`, so a
 *   raw call with a larger page size claims more than it mapped.
 */
export type Sun50iQuirk = "iova-aliased" | "pa-truncated" | "pa-unaligned" | "mapped-overreport";

/**
 * Model-only (sun50i-iommu has no such error): thrown by a `strict` domain's op where the kernel would
 * silently apply {@link Sun50iQuirk} `quirk`. Nothing was changed when it is thrown.
 */
export class Sun50iQuirkError extends Error {
  override readonly name = "Sun50iQuirkError";

  constructor(
    readonly quirk: Sun50iQuirk,
    readonly op: string,
    readonly args: Readonly<Record<string, unknown>>,
    detail: string,
  ) {
    super(`${op}: kernel quirk ${quirk}: ${detail}`);
  }
}
