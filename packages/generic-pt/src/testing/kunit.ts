/**
 * drivers/iommu/generic_pt/kunit_iommu.h (`pt_kunit_priv_init`) and every format's
 * `kunit_fmt_cfgs[]`: the configurations and the fixture the ported KUnit suites run with.
 * Test support only: not exported from the package, not published.
 */
import { IommuCounters, TableAllocator } from "@iommu/core";
import { PtDomain } from "../domain.js";
import { PT_FORMAT_NAMES, PT_FORMATS, type PtFormatName } from "../formats/index.js";
import { ptIommuInit } from "../init.js";
import type { PtFormat, PtKunitCfg } from "../pt-common.js";

/** `kunit_fmt_cfgs[]` entry with the format it belongs to. */
export interface KunitCfg extends PtKunitCfg {
  readonly format: PtFormatName;
}

/** `kunit_fmt_cfgs[]` of every format, in format order. */
export const KUNIT_CFGS: readonly KunitCfg[] = PT_FORMAT_NAMES.flatMap((format) =>
  PT_FORMATS[format].kunitCfgs.map((c) => ({ ...c, format })),
);

/** `struct kunit_iommu_priv` */
export interface KunitFixture {
  fmt: PtFormat;
  domain: PtDomain;
  alloc: TableAllocator;
  counters: IommuCounters;
  smallestLg2: number;
  smallest: number;
  /** test_oa = 0x74a71445deadbeef mod 2^max_oasz */
  testOa: bigint;
  /** pgsize_bitmap mod 2^(max_vasz - 1) */
  safeBitmap: number;
}

/** `pt_kunit_priv_init` */
export function kunitFixture(cfg: KunitCfg): KunitFixture {
  const fmt = PT_FORMATS[cfg.format];
  const counters = new IommuCounters();
  const alloc = new TableAllocator(undefined, { counters });
  const features = cfg.features | (fmt.supported & ~fmt.kunitFmtFeatures);
  const r = ptIommuInit(
    fmt,
    { features, vaBits: cfg.vaBits ?? fmt.maxVaLg2, oaBits: cfg.oaBits ?? fmt.maxOaLg2, level: cfg.level },
    alloc,
    counters,
  );
  if (typeof r === "number") throw new Error(`${cfg.name}: init failed ${r}`);
  const domain = PtDomain.of(r);
  const bitmap = domain.pgsizeBitmap;
  let smallestLg2 = 0;
  while (Math.floor(bitmap / 2 ** smallestLg2) % 2 === 0) smallestLg2++;
  const testOa = 0x74a71445deadbeefn % (1n << BigInt(r.maxOasz));
  return {
    fmt,
    domain,
    alloc,
    counters,
    smallestLg2,
    smallest: 2 ** smallestLg2,
    testOa,
    safeBitmap: bitmap % 2 ** (r.maxVasz - 1),
  };
}
