/**
 * drivers/iommu/rockchip-iommu.c: the kernel behaviours the model reproduces by default and
 * a `strict` domain reports instead (README "Known kernel quirks").
 */

/**
 * `rockchip-iommu.c` behaviours a strict domain reports (model-only names):
 * - `iova-aliased`: the index math keeps IOVA bits 31:0, so IOVAs ≥ 4 GiB alias the low 4 GiB
 *   (the core does not check the 32-bit aperture).
 * - `pa-truncated`: v1 keeps PA bits 31:12, v2 bits 39:12: higher bits are lost.
 * - `pa-unaligned`: the PA's bits 11:0 are dropped silently.
 * - `pgsize-unsupported`: `map_pages`/`unmap_pages` trust the core's alignment: a size below
 *   4 KiB writes nothing yet reports `mapped = size`; a size or IOVA that does not fit one page
 *   table writes past its end.
 */
export type RockchipQuirk = "iova-aliased" | "pa-truncated" | "pa-unaligned" | "pgsize-unsupported";

/**
 * Model-only (rockchip-iommu has no such error): thrown by a `strict` domain's op where the kernel would
 * silently apply {@link RockchipQuirk} `quirk`. Nothing was changed when it is thrown.
 */
export class RockchipQuirkError extends Error {
  override readonly name = "RockchipQuirkError";

  constructor(
    readonly quirk: RockchipQuirk,
    readonly op: string,
    readonly args: Readonly<Record<string, unknown>>,
    detail: string,
  ) {
    super(`${op}: kernel quirk ${quirk}: ${detail}`);
  }
}
