/**
 * drivers/iommu/exynos-iommu.c: the kernel behaviours the model reproduces by default and a
 * `strict` domain reports instead (README "Known kernel quirks").
 */

/**
 * `exynos-iommu.c` behaviours a strict domain reports (model-only names):
 * - `iova-truncated`: `(sysmmu_iova_t)l_iova` keeps IOVA bits 31:0 although the aperture is
 *   0..2^64−1, so IOVAs ≥ 4 GiB alias the low 4 GiB.
 * - `pa-truncated`: the entry holds `pa >> PG_ENT_SHIFT` in 32 bits: PAs ≥ 4 GiB (v1–v3) or
 *   ≥ 64 GiB (v5+) lose their high bits.
 * - `pa-unaligned`: `mk_lv*ent_*()` do not mask the PA, so its low bits land in the prot and
 *   type bits of the entry.
 * - `iova-unaligned`: no alignment check — a 64 KiB page is written from the IOVA's own slot.
 * - `pgsize-unsupported`: any size other than 4 KiB and 1 MiB is written as a 64 KiB page and
 *   reported mapped in full.
 * - `hole-unmap`: unmapping an empty level-1 slot returns min(size, 1 MiB), an empty level-2
 *   slot 4 KiB, as if something had been unmapped.
 * - `lpage-unmap-replica`: unmapping a 64 KiB page at a replica other than the first clears 16
 *   slots from there (the next page's slots, past the table from slot 241) and credits 16 free
 *   slots.
 * - `write-only-promoted`: SysMMU v1–v3 have no write-only permission; IOMMU_WRITE alone maps
 *   read/write.
 */
export type ExynosQuirk =
  | "iova-truncated"
  | "pa-truncated"
  | "pa-unaligned"
  | "iova-unaligned"
  | "pgsize-unsupported"
  | "hole-unmap"
  | "lpage-unmap-replica"
  | "write-only-promoted";

/**
 * Model-only (exynos-iommu has no such error): thrown by a `strict` domain's op where the kernel would
 * silently apply {@link ExynosQuirk} `quirk`. Nothing was changed when it is thrown.
 */
export class ExynosQuirkError extends Error {
  override readonly name = "ExynosQuirkError";

  constructor(
    readonly quirk: ExynosQuirk,
    readonly op: string,
    readonly args: Readonly<Record<string, unknown>>,
    detail: string,
  ) {
    super(`${op}: kernel quirk ${quirk}: ${detail}`);
  }
}
