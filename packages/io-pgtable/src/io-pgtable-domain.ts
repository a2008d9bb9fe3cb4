/**
 * drivers/iommu/io-pgtable.c users: a paging domain straight over an io-pgtable, for tools,
 * tests and callers that want a domain without a hardware driver model (the IOTLB is the
 * format's `cfg.tlb` callbacks).
 */
import { IOMMU_DOMAIN_UNMANAGED, type IommuCounters, type IommuDomainOps, IommuError } from "@iommu/core";
import { freeIoPgtableOps, ioPgtableOpsToPgtable } from "./alloc.js";
import {
  allocIoPgtableOpsFor,
  type IoPgtableDomainOptions,
  type IoPgtableFormatName,
} from "./create-domain.js";
import { IO_PGTABLE_QUIRK_ARM_TTBR1, type IoPgtableOps } from "./io-pgtable.js";
import { IO_PGTABLE_DIRTY_OPS, type IoPgtableDomain, ioPgtableDomainOps } from "./io-pgtable-domain-ops.js";

/**
 * Model-only (no kernel driver of its own): the domain ops of a driver that simply forwards
 * to its io-pgtable — {@link ioPgtableDomainOps} plus `flush_iotlb_all` through the format's
 * `tlb_flush_all` and `free` through `free_io_pgtable_ops()`. Shared by every such domain,
 * as kernel ops tables are; spread it with another `name` for a second "driver".
 */
export const IO_PGTABLE_DOMAIN_OPS: IommuDomainOps<IoPgtableDomain> = ioPgtableDomainOps<IoPgtableDomain>(
  "io-pgtable",
  {
    flushIotlbAll(d) {
      const ops = d.pgtblOps;
      if (!ops) return;
      const iop = ioPgtableOpsToPgtable(ops);
      iop.cfg.tlb?.tlbFlushAll(iop.cookie);
    },
    free(d) {
      const ops = d.pgtblOps;
      if (!ops) return;
      freeIoPgtableOps(ops);
      d.pgtblOps = null;
    },
  },
);

/**
 * Model-only (what arm-smmu & co. do in their `domain_finalise`): an UNMANAGED paging domain
 * over an io-pgtable, with {@link IO_PGTABLE_DOMAIN_OPS}. The bitmap and aperture come from
 * the cfg the format left (`aperture_end = 2^ias − 1`, or the top of the address space for
 * TTBR1); dirty ops when the format has a dirty walk.
 *
 * Two forms:
 * - `createIoPgtableDomain("arm64-s1", { granule: "4K" })`: the short path — the format by
 *   name, every cfg field defaulted (see {@link IoPgtableDomainOptions}), memory, allocator
 *   and counters created unless given;
 * - `createIoPgtableDomain(ops, counters?)`: wrap ops from `alloc_io_pgtable_ops()`.
 *
 * Throws {@link IommuError} EINVAL naming the option or cfg field when one is malformed or the
 * format refuses the configuration.
 */
export function createIoPgtableDomain(
  format: IoPgtableFormatName,
  options?: IoPgtableDomainOptions,
): IoPgtableDomain;
export function createIoPgtableDomain(ops: IoPgtableOps, counters?: IommuCounters): IoPgtableDomain;
export function createIoPgtableDomain(
  what: IoPgtableFormatName | IoPgtableOps,
  second?: IoPgtableDomainOptions | IommuCounters,
): IoPgtableDomain {
  if (typeof what === "string") {
    const { ops, cfg } = allocIoPgtableOpsFor(what, second as IoPgtableDomainOptions | undefined);
    return wrap(ops, cfg.counters);
  }
  if (what === null || typeof what !== "object")
    throw new IommuError(
      "EINVAL",
      "createIoPgtableDomain",
      {},
      `expected a format name or io-pgtable ops, got ${what === null ? "null (alloc_io_pgtable_ops() refused the cfg)" : typeof what}`,
    );
  return wrap(what, second as IommuCounters | undefined);
}

function wrap(ops: IoPgtableOps, counters?: IommuCounters): IoPgtableDomain {
  const cfg = ioPgtableOpsToPgtable(ops).cfg;
  const ttbr1 = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1) !== 0;
  const span = 2n ** BigInt(cfg.ias);
  const top = (1n << 64n) - 1n;
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops: IO_PGTABLE_DOMAIN_OPS,
    dirtyOps: ops.readAndClearDirty ? IO_PGTABLE_DIRTY_OPS : null,
    pgsizeBitmap: cfg.pgsizeBitmap,
    geometry: ttbr1
      ? { apertureStart: top + 1n - span, apertureEnd: top, forceAperture: true }
      : { apertureStart: 0, apertureEnd: 2 ** cfg.ias - 1, forceAperture: true },
    counters: counters ?? cfg.counters,
    pgtblOps: ops,
  };
}
