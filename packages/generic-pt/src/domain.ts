/**
 * include/linux/generic_pt/iommu.h `IOMMU_PT_DOMAIN_OPS(fmt)` / `IOMMU_PT_DIRTY_OPS(fmt)`: the
 * ops generic_pt implements once for every format, which a driver spreads into its own
 * `iommu_domain_ops` beside its flushes; `struct pt_iommu` as a domain, and a ready-made domain
 * per format with the model's driver part (`createPtDomain`).
 */

import {
  __IOMMU_DOMAIN_PAGING,
  type Addr,
  IommuCounters,
  type IommuDirtyOps,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  IommuError,
  type IotlbGather,
  TableAllocator,
} from "@iommu/core";
import { readAndClearDirtyOp } from "./dirty.js";
import { type PtFormatName, ptFormatOf } from "./formats/index.js";
import { ptIommuInit } from "./init.js";
import { PtInspector } from "./inspector.js";
import { lookupOps } from "./lookup.js";
import { mapOps } from "./map.js";
import { checkPtDomainOptions, checkPtFormat } from "./options-check.js";
import type { PtFormat } from "./pt-common.js";
import type { PtDriverHooks, PtIommuConfig } from "./pt-defs.js";
import type { PtTable } from "./pt-table.js";
import { iovaToPhysRunsOp } from "./runs.js";
import { unmapOps } from "./unmap.js";

/**
 * `struct pt_iommu` as the ops see it: an `iommu_domain` with its generic_pt table. A driver's
 * domain type embeds it (the kernel's `PT_IOMMU_CHECK_DOMAIN` union), as {@link PtDomain} does.
 */
export interface PtIommu extends IommuDomain {
  readonly pt: PtTable;
}

/**
 * `IOMMU_PT_DOMAIN_OPS(fmt)`: the part of `struct iommu_domain_ops` generic_pt provides. A
 * driver composes its ops table from it:
 * `{ ...ptDomainOps("amdv1"), name: "amd-iommu", iotlbSync, flushIotlbAll, free }`.
 */
export type PtDomainOps<D extends PtIommu = PtDomain> = Pick<IommuDomainOps<D>, "mapPages" | "unmapPages"> &
  Required<Pick<IommuDomainOps<D>, "iovaToPhysLength" | "iovaToPhysRuns" | "inspect">>;

/**
 * `struct pt_iommu` embedding `struct iommu_domain`: a generic_pt paging domain, the
 * iommu_domain fields plus the table in `pt`, with the ops of {@link createPtDomain}.
 */
export class PtDomain implements PtIommu {
  type = __IOMMU_DOMAIN_PAGING;
  ops: IommuDomainOps<PtDomain>;
  dirtyOps: IommuDirtyOps<PtDomain> | null;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  readonly isIommupt = true;
  counters: IommuCounters;
  readonly pt: PtTable;

  /** `pt_iommu_init_domain`: the domain of a table initialised by {@link ptIommuInit}. */
  static of(pt: PtTable): PtDomain {
    return new PtDomain(pt);
  }

  constructor(pt: PtTable) {
    this.pt = pt;
    this.ops = modelDriverOps(pt.fmt);
    this.dirtyOps = ptDirtyOps(pt.fmt);
    this.pgsizeBitmap = pt.pgsizeBitmap;
    this.geometry = { apertureStart: pt.apertureStart, apertureEnd: pt.apertureEnd, forceAperture: true };
    this.counters = pt.counters;
  }
}

/** `inspect` of the partial ops table (model-only). */
function inspectOp(d: PtIommu): PtInspector | null {
  return d.pt.isDestroyed ? null : new PtInspector(d.pt);
}

/**
 * One ops object per format, from the op files' per-format factories (map.ts, unmap.ts,
 * lookup.ts), as the kernel's iommu_pt.h instantiates `NS(map_pages)` & co. per format: a call
 * through the table reaches the walker with no extra hop, and each format's ops get their own
 * V8 feedback (measured: a shared op function costs the later formats of a mixed run 2–3 ns
 * per lookup).
 */
function makePtDomainOps(fmt: PtFormat): PtDomainOps<PtIommu> {
  const { mapPages } = mapOps(fmt);
  const { unmapPages } = unmapOps(fmt);
  const { iovaToPhysLength } = lookupOps(fmt);
  return {
    mapPages,
    unmapPages,
    iovaToPhysLength,
    iovaToPhysRuns: iovaToPhysRunsOp,
    inspect: inspectOp,
  };
}

const PT_OPS = new Map<PtFormat, PtDomainOps<PtIommu>>();

/**
 * `IOMMU_PT_DOMAIN_OPS(fmt)`: `mapPages`, `unmapPages`, `iovaToPhysLength`, `iovaToPhysRuns`
 * and the model's `inspect`, one table per format. Drivers spread it into their own ops and add
 * `iotlbSync` / `flushIotlbAll` / `free`; dirty tracking comes from {@link ptDirtyOps}.
 */
export function ptDomainOps<D extends PtIommu = PtDomain>(format: PtFormatName | PtFormat): PtDomainOps<D> {
  const fmt = ptFormatOf(format);
  let o = PT_OPS.get(fmt);
  if (!o) {
    o = makePtDomainOps(fmt);
    PT_OPS.set(fmt, o);
  }
  return o as PtDomainOps<D>;
}

const PT_DIRTY_OPS: IommuDirtyOps<PtIommu> = {
  setDirtyTracking() {
    return 0;
  },
  readAndClearDirty: readAndClearDirtyOp,
};

/**
 * `IOMMU_PT_DIRTY_OPS(fmt)`: `readAndClearDirty` (and a `setDirtyTracking` that accepts) for
 * formats with dirty bits (`pt_entry_is_write_dirty`: amdv1, vtdss); null for the others.
 */
export function ptDirtyOps<D extends PtIommu = PtDomain>(
  format: PtFormatName | PtFormat,
): IommuDirtyOps<D> | null {
  return ptFormatOf(format).hasDirty ? (PT_DIRTY_OPS as IommuDirtyOps<D>) : null;
}

const DRIVER_OPS = new Map<PtFormat, IommuDomainOps<PtDomain>>();

/**
 * Model-only: the ops of a {@link createPtDomain} domain, one table per format — the generic
 * part plus the model's driver part: `iotlbSync` frees the gathered table pages (the driver's
 * flush and `iommu_put_pages_list`), `flushIotlbAll` counts, `free` runs `pt_iommu_deinit`.
 */
function modelDriverOps(fmt: PtFormat): IommuDomainOps<PtDomain> {
  let o = DRIVER_OPS.get(fmt);
  if (!o) {
    o = {
      ...ptDomainOps<PtDomain>(fmt),
      name: `generic_pt-${fmt.name}`,
      iotlbSync(d: PtDomain, gather: IotlbGather) {
        d.pt.iotlbSync(gather);
      },
      flushIotlbAll(d: PtDomain) {
        d.counters.flushAll++;
      },
      free(d: PtDomain) {
        d.pt.deinit();
      },
    };
    DRIVER_OPS.set(fmt, o);
  }
  return o;
}

/** Model-only: the configuration of {@link createPtDomain} (`pt_iommu_<fmt>_cfg` and more). */
export interface CreatePtDomainOptions extends Partial<PtIommuConfig> {
  allocator?: TableAllocator;
  counters?: IommuCounters;
  hooks?: PtDriverHooks;
  /**
   * `domain->pgsize_bitmap` set by the driver after init, replacing what `get_info` gave (the
   * iommufd selftest's MOCK_IOMMUPT_HUGE: `MOCK_HUGE_PAGE_SIZE | PAGE_SIZE`). map_pages picks
   * leaf sizes from it, as the kernel's does from the domain's bitmap.
   */
  pgsizeBitmap?: number;
  /**
   * `domain->geometry.aperture_start/_end` set by the driver after init (the selftest's
   * MOCK_IOMMUPT_DEFAULT: `[MOCK_APERTURE_START, MOCK_APERTURE_LAST]`); inclusive end. The
   * table still translates its whole range: the aperture is what callers may use.
   */
  aperture?: { start: Addr; end: Addr };
}

/**
 * `pt_iommu_<fmt>_init` + `pt_iommu_init_domain`: a generic_pt domain of `format` with the
 * format's driver defaults overridden by `options`, its ops composed from
 * {@link ptDomainOps}. Throws {@link IommuError} with the kernel's init errno when the config
 * is refused.
 */
export function createPtDomain(
  format: PtFormatName | PtFormat,
  options: CreatePtDomainOptions = {},
): PtDomain {
  checkPtFormat(format);
  checkPtDomainOptions(options);
  const fmt = ptFormatOf(format);
  const defaults = fmt.defaults;
  const counters = options.counters ?? new IommuCounters();
  const allocator = options.allocator ?? new TableAllocator(undefined, { counters });
  const cfg: PtIommuConfig = {
    features: options.features ?? defaults.features,
    vaBits: options.vaBits ?? defaults.vaBits,
    oaBits: options.oaBits ?? defaults.oaBits,
    level: options.level ?? defaults.level,
    hasIommuDevice: options.hasIommuDevice,
  };
  const r = ptIommuInit(fmt, cfg, allocator, counters, options.hooks);
  if (typeof r === "number") throw IommuError.fromReturn(r, `pt_iommu_${fmt.name}_init`, { ...cfg });
  const d = PtDomain.of(r);
  if (options.pgsizeBitmap !== undefined) d.pgsizeBitmap = options.pgsizeBitmap;
  if (options.aperture)
    d.geometry = {
      apertureStart: options.aperture.start,
      apertureEnd: options.aperture.end,
      forceAperture: true,
    };
  return d;
}
