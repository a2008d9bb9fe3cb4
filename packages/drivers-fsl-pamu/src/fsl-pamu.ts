// drivers/iommu/fsl_pamu.c + fsl_pamu.h, the part a domain's behaviour needs: the PAACT (one
// primary PAACE per LIODN, 0x500 of them) with an entry either invalid (DMA blocked) or valid
// with the domain's window [0, 2^36) in "no translate" mode and a stash target. No sub-windows
// (SPAACEs): the v5.13 rework removed them.

/** `PAACE_NUMBER_ENTRIES`: LIODNs the primary table covers. */
export const PAACE_NUMBER_ENTRIES = 0x500;

/** The window every valid PPAACE opens: the domain aperture, 64 GiB from 0. */
export const PAMU_WINDOW_BITS = 36;

/** One primary PAACE as far as the model observes it. */
export interface Ppaace {
  /** `PAACE_AF_V` */
  valid: boolean;
  /** Stash id (`~0` = none). */
  stashId: number;
}

/** `ppaact`: the primary PAACE table of the PAMU. */
export class Paact {
  readonly entries: Ppaace[] = Array.from({ length: PAACE_NUMBER_ENTRIES }, () => ({
    valid: false,
    stashId: 0xffffffff,
  }));

  /** `pamu_config_ppaace()` + `pamu_enable_liodn()`: window [0, 2^36), no translation. */
  enable(liodn: number, stashId: number): void {
    const e = this.entries[liodn]!;
    e.valid = true;
    e.stashId = stashId >>> 0;
  }

  /** `pamu_disable_liodn()` */
  disable(liodn: number): void {
    this.entries[liodn]!.valid = false;
  }

  /**
   * What a DMA of `liodn` at `addr` reaches: the address itself inside a valid window, null
   * when the PAMU blocks it (invalid PAACE, or outside the 64 GiB window).
   */
  dma(liodn: number, addr: bigint): bigint | null {
    const e = this.entries[liodn];
    if (!e?.valid || addr >= 1n << BigInt(PAMU_WINDOW_BITS)) return null;
    return addr;
  }
}
