/**
 * The golden vectors' `phys` line (SCRIPT-FORMAT.md: "calls `ops->iova_to_phys(iova)`"): the raw
 * legacy op of the kernel that recorded them, before the series removed it. No driver or format
 * declares that op any more (issue 18); every family answers `phys` with the address of one
 * `iova_to_phys_length` walk, 0 when unmapped — the driver families through `iommuIovaToPhys`,
 * the bare formats through their table's op as the kernel harness calls it (`ioPgtableIovaToPhys`,
 * `PtTable.iovaToPhysLength`) — and this file replays,
 * per format family, the legacy op's documented differences from that answer, each a fact of
 * the pre-series kernel:
 *
 * | family | the pre-series op | replayed as |
 * |---|---|---|
 * | ARM LPAE (every format) | no IAS check: the masked top-level index folds any IOVA onto the table; `iova + 1` wraps at 2^64 − 1 and the walk visits nothing | {@link IovaRanges.fold}; 0 at 2^64 − 1 |
 * | ARMv7s | the L1 index mask folds any IOVA onto [0, 2^ias) | {@link IovaRanges.fold} |
 * | generic_pt | `make_range` fails outside the top range and its `-ERANGE` is returned as the address | {@link GENERIC_PT_ERANGE_PHYS} |
 * | s390 | `*pte & ZPCI_PTE_ADDR_MASK`: the page offset is dropped | {@link dropPageOffset} |
 * | mtk_iommu_v1 | `pte & ~(page size − 1)`: the page offset is dropped | {@link dropPageOffset} |
 * | sprd | `(pte << 12) + offset`: an empty entry in the aperture answers the offset | {@link sprdPreSeriesPhys} |
 *
 * The driver families that replay io-pgtable vectors through a driver (ipmmu: LPAE; msm and
 * mtk_iommu: v7s) fold like the bare format. Every other family's legacy op answered exactly
 * what the wrapper answers (DART's TTBR-index alias lives in its length op too); the driver
 * families with no kernel vectors (arm-smmu, apple-dart, fsl-pamu, virtio-iommu, …) answer the
 * wrapper. Proof: the vectors, and `pre-series-phys.test.ts`, which replays 2,693 probes
 * recorded from the legacy ops before their removal (the quirks among them).
 */
import { type Addr, fromPfn, type IommuDomainGeometry, type IovaRange, pfnOf, toBigInt } from "@iommu/core";

const U64_MAX = (1n << 64n) - 1n;

/** Model-only: `iova == ULONG_MAX`, where the LPAE walk's `end = iova + 1` wraps and it visits nothing. */
export function isU64Max(iova: Addr): boolean {
  return typeof iova === "bigint" && (iova & U64_MAX) === U64_MAX;
}

/** A bound as a number when comparisons with `Addr` numbers are exact for it (2^64 − 1 → 2^64). */
function exactNumber(b: bigint): number | undefined {
  if (b === U64_MAX) return 2 ** 64; // every number IOVA is below 2^64
  const n = Number(b);
  return BigInt(n) === b ? n : undefined;
}

/**
 * Model-only: the IOVA ranges a table translates, asked on the `phys` hot path (`bench-walk`
 * runs it 262,144 times): number IOVAs compare with number bounds, no bigint per call.
 */
export class IovaRanges {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];
  private readonly exact: boolean;

  constructor(readonly ranges: readonly IovaRange[]) {
    let exact = true;
    for (const [first, last] of ranges) {
      const lo = exactNumber(first);
      const hi = exactNumber(last);
      if (lo === undefined || hi === undefined) exact = false;
      else {
        this.lo.push(lo);
        this.hi.push(hi);
      }
    }
    this.exact = exact;
  }

  /** `iova` lies in one of the ranges. */
  contains(iova: Addr): boolean {
    if (typeof iova === "number" && this.exact) {
      for (let i = 0; i < this.lo.length; i++) if (iova >= this.lo[i]! && iova <= this.hi[i]!) return true;
      return false;
    }
    const v = toBigInt(iova);
    for (const [first, last] of this.ranges) if (v >= first && v <= last) return true;
    return false;
  }

  /**
   * Where a walk that masks its top-level index lands for `iova` (one range, a naturally aligned
   * power of two `[first, last]`): `iova` itself inside it, else `first | (iova & (last − first))`.
   */
  fold(iova: Addr): Addr {
    if (this.contains(iova)) return iova;
    const [first, last] = this.ranges[0]!;
    const folded = first | (toBigInt(iova) & (last - first));
    return folded <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(folded) : folded;
  }
}

/** Model-only: generic_pt's pre-series answer outside the top range, `(phys_addr_t)-ERANGE`. */
export const GENERIC_PT_ERANGE_PHYS: bigint = (1n << 64n) - 34n;

/** Model-only: `phys` with its 4 KiB page offset cleared (s390, mtk_iommu_v1). */
export function dropPageOffset(phys: Addr): Addr {
  return typeof phys === "number" && phys <= 0xffff_ffff ? phys - (phys % 4096) : fromPfn(pfnOf(phys), 0);
}

/** Model-only: `iova` lies in the domain's aperture `[apertureStart, apertureEnd]`. */
export function inAperture(geometry: IommuDomainGeometry, iova: Addr): boolean {
  const v = toBigInt(iova);
  return v >= toBigInt(geometry.apertureStart) && v <= toBigInt(geometry.apertureEnd);
}

/**
 * Model-only: sprd's pre-series `(pte << 12) + (iova & 0xfff)`: the wrapper's answer when mapped;
 * for an IOVA inside the aperture whose entry is empty, the page offset of `iova`; 0 outside
 * the aperture (the op's WARN and early return, which the length op shares).
 */
export function sprdPreSeriesPhys(wrapperPhys: Addr, iova: Addr, geometry: IommuDomainGeometry): Addr {
  if (wrapperPhys !== 0 || !inAperture(geometry, iova)) return wrapperPhys;
  return typeof iova === "number" ? iova - pfnOf(iova) * 4096 : Number(iova & 0xfffn);
}
