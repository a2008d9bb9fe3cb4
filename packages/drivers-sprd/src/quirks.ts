/**
 * drivers/iommu/sprd-iommu.c: the kernel behaviours the model reproduces by default and a
 * `strict` domain reports instead (README "Known kernel quirks").
 */

/**
 * `sprd-iommu.c` behaviours a strict domain reports (model-only names):
 * - `silent-overwrite`: `map_pages` has no overlap check; a live entry is overwritten.
 * - `hole-unmap`: `unmap_pages` clears `pgcount` entries and returns the full size, mapped
 *   or not.
 * - `pa-zero`: a page at PA 0 (mod 4 GiB) is entry 0, which reads as unmapped.
 * - `pa-truncated`: `(u32)paddr`: PAs ≥ 4 GiB lose their high bits and a run crossing 4 GiB
 *   wraps to PA 0.
 * - `pa-unaligned`: the PA's bits 11:0 are dropped silently.
 * - `aperture-wrap`: `iova + size` is computed in 64 bits and wraps, so a range ending past
 *   2^64 passes the aperture check and is written far outside the table.
 * - `prot-ignored`: the table has no permission bits: every mapping is read/write.
 */
export type SprdQuirk =
  | "silent-overwrite"
  | "hole-unmap"
  | "pa-zero"
  | "pa-truncated"
  | "pa-unaligned"
  | "aperture-wrap"
  | "prot-ignored";

/**
 * Model-only (sprd-iommu has no such error): thrown by a `strict` domain's op where the kernel would
 * silently apply {@link SprdQuirk} `quirk`. Nothing was changed when it is thrown.
 */
export class SprdQuirkError extends Error {
  override readonly name = "SprdQuirkError";

  constructor(
    readonly quirk: SprdQuirk,
    readonly op: string,
    readonly args: Readonly<Record<string, unknown>>,
    detail: string,
  ) {
    super(`${op}: kernel quirk ${quirk}: ${detail}`);
  }
}
