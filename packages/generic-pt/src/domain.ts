import {
  __IOMMU_DOMAIN_PAGING,
  type Addr,
  errnoName,
  IommuCounters,
  type IommuDirtyBitmap,
  type IommuDirtyOps,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  IommuError,
  type IotlbGather,
  type PhysLength,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";
import type { PtFormat } from "./format.js";
import { PT_FORMAT_DEFAULTS, PT_FORMATS, type PtFormatName } from "./formats/index.js";
import { type PtDriverHooks, type PtIommuConfig, type PtTable, ptIommuInit } from "./pt-table.js";

/**
 * A generic_pt paging domain (`struct pt_iommu` embedding `struct iommu_domain`): the
 * iommu_domain fields plus the table in `pt`.
 */
export class PtDomain implements IommuDomain {
  type = __IOMMU_DOMAIN_PAGING;
  ops: IommuDomainOps<PtDomain>;
  dirtyOps: IommuDirtyOps<PtDomain> | null;
  pgsizeBitmap: number;
  geometry: IommuDomainGeometry;
  readonly isIommupt = true;
  counters: IommuCounters;
  readonly pt: PtTable;

  /** The domain of a table initialised by {@link ptIommuInit}. */
  static of(pt: PtTable): PtDomain {
    return new PtDomain(pt);
  }

  constructor(pt: PtTable) {
    this.pt = pt;
    this.ops = opsFor(pt.fmt);
    this.dirtyOps = pt.fmt.hasDirty ? PT_DIRTY_OPS : null;
    this.pgsizeBitmap = pt.pgsizeBitmap;
    this.geometry = { apertureStart: pt.apertureStart, apertureEnd: pt.apertureEnd, forceAperture: true };
    this.counters = pt.counters;
  }
}

function makeOps(fmt: PtFormat): IommuDomainOps<PtDomain> {
  return {
    name: `generic_pt-${fmt.name}`,
    mapPages(
      d: PtDomain,
      iova: Addr,
      paddr: Addr,
      pgsize: number,
      pgcount: number,
      prot: number,
      _gfp: number,
      mapped: SizeOut,
    ) {
      d.pt.setDomainBitmap(d.pgsizeBitmap);
      return d.pt.mapPages(iova, paddr, pgsize, pgcount, prot, mapped);
    },
    unmapPages(d: PtDomain, iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null) {
      return d.pt.unmapPages(iova, pgsize, pgcount, gather);
    },
    iovaToPhysLength(d: PtDomain, iova: Addr, out: PhysLength) {
      d.pt.iovaToPhysLength(iova, out);
    },
    iovaToPhys(d: PtDomain, iova: Addr) {
      return d.pt.iovaToPhys(iova);
    },
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
}

const OPS = new Map<PtFormat, IommuDomainOps<PtDomain>>();

/** The ops table of a format (`IOMMU_PT_DOMAIN_OPS(fmt)`), one per format. */
export function opsFor(fmt: PtFormat): IommuDomainOps<PtDomain> {
  let o = OPS.get(fmt);
  if (!o) {
    o = makeOps(fmt);
    OPS.set(fmt, o);
  }
  return o;
}

/** `IOMMU_PT_DIRTY_OPS(fmt)` */
export const PT_DIRTY_OPS: IommuDirtyOps<PtDomain> = {
  setDirtyTracking() {
    return 0;
  },
  readAndClearDirty(d: PtDomain, iova: number, size: number, flags: number, dirty: IommuDirtyBitmap) {
    return d.pt.readAndClearDirty(iova, size, flags, dirty);
  },
};

export interface CreatePtDomainOptions extends Partial<PtIommuConfig> {
  allocator?: TableAllocator;
  counters?: IommuCounters;
  hooks?: PtDriverHooks;
}

/**
 * Build a generic_pt domain of `format` with the driver defaults overridden by `options`.
 * Throws {@link IommuError} with the kernel's init errno when the config is refused.
 */
export function createPtDomain(
  format: PtFormatName | PtFormat,
  options: CreatePtDomainOptions = {},
): PtDomain {
  const fmt = typeof format === "string" ? PT_FORMATS[format] : format;
  const defaults = PT_FORMAT_DEFAULTS[fmt.name as PtFormatName] ?? {
    features: 0,
    vaBits: fmt.maxVaLg2,
    oaBits: fmt.maxOaLg2,
  };
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
  if (typeof r === "number") {
    const err = IommuError.fromReturn(r, `pt_iommu_${fmt.name}_init`, { ...cfg });
    void errnoName;
    throw err;
  }
  return PtDomain.of(r);
}
