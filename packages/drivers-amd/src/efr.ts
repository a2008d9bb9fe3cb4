// drivers/iommu/amd/amd_iommu_types.h (FEATURE_* bits of the Extended Feature Register) and
// the init.c decisions taken from them: host/guest table levels, v2 table support.

/** A raw 64-bit register value. */
export type Reg64 = bigint | number;

/** The EFR fields the paging side reads, named after the kernel's FEATURE_* macros. */
export interface AmdEfr {
  /** `FEATURE_GT`: guest translation (v2 tables). */
  readonly gt: boolean;
  /** `FEATURE_HATS` (11:10): host address translation size; levels = 4 + HATS. */
  readonly hats: number;
  /** `FEATURE_GATS` (13:12): guest address translation size (1 = 5-level). */
  readonly gats: number;
  /** `FEATURE_PASMAX` (36:32). */
  readonly pasmax: number;
  /** `FEATURE_GIOSUP`: guest I/O protection (v2 tables for DMA). */
  readonly giosup: boolean;
  /** `FEATURE_HASUP` / `FEATURE_HDSUP`: access / dirty bit updates. */
  readonly hasup: boolean;
  readonly hdsup: boolean;
  /** `FEATURE_SNP` */
  readonly snp: boolean;
}

function bitOf(v: bigint, b: number): boolean {
  return ((v >> BigInt(b)) & 1n) === 1n;
}

function fieldOf(v: bigint, shift: number, width: number): number {
  return Number((v >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));
}

/** `check_feature()` / `FIELD_GET(FEATURE_*)`: decode the EFR. */
export function decodeAmdEfr(value: Reg64): AmdEfr {
  const v = BigInt.asUintN(64, BigInt(value));
  return {
    gt: bitOf(v, 4),
    hats: fieldOf(v, 10, 2),
    gats: fieldOf(v, 12, 2),
    pasmax: fieldOf(v, 32, 5),
    giosup: bitOf(v, 48),
    hasup: bitOf(v, 49),
    hdsup: bitOf(v, 52),
    snp: bitOf(v, 63),
  };
}

/** Model-only: an EFR value from a description (unset fields 0). */
export function encodeAmdEfr(e: Partial<AmdEfr>): bigint {
  let v = 0n;
  const on = (b: number, x: boolean | undefined) => {
    if (x) v |= 1n << BigInt(b);
  };
  on(4, e.gt);
  v |= BigInt((e.hats ?? 0) & 3) << 10n;
  v |= BigInt((e.gats ?? 0) & 3) << 12n;
  v |= BigInt((e.pasmax ?? 0) & 0x1f) << 32n;
  on(48, e.giosup);
  on(49, e.hasup);
  on(52, e.hdsup);
  on(63, e.snp);
  return v;
}

/** `PAGE_MODE_4_LEVEL` / `PAGE_MODE_5_LEVEL` */
export const PAGE_MODE_4_LEVEL = 4;
export const PAGE_MODE_5_LEVEL = 5;

/**
 * `amd_iommu_hpt_level`: the deepest host (v1) table the unit walks, `PAGE_MODE_4_LEVEL +
 * HATS` (4, 5 or 6 levels). HATS 3 is invalid: init disables host translation instead
 * ({@link amdHatDis}) and the level keeps its 4-level start value.
 */
export function amdHptLevel(efr: AmdEfr): number {
  return efr.hats === 3 ? PAGE_MODE_4_LEVEL : PAGE_MODE_4_LEVEL + efr.hats;
}

/** `amd_iommu_hatdis`: early_amd_iommu_init sets it (with a FW_BUG warning) for HATS 3. */
export function amdHatDis(efr: AmdEfr): boolean {
  return efr.hats === 3;
}

/** `amd_iommu_gpt_level`: 5-level guest (v2) tables when GATS says so, else 4. */
export function amdGptLevel(efr: AmdEfr): number {
  return efr.gats === 1 ? PAGE_MODE_5_LEVEL : PAGE_MODE_4_LEVEL;
}

/** `amd_iommu_v2_pgtbl_supported()`: GIOSUP and GT. */
export function amdV2PgtblSupported(efr: AmdEfr): boolean {
  return efr.giosup && efr.gt;
}
