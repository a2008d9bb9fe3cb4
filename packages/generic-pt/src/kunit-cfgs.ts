/**
 * The kernel KUnit configurations (`kunit_fmt_cfgs` of each fmt/<name>.h) and the fixture of
 * kunit_iommu.h, shared by the ported suites.
 */
import { IommuCounters, TableAllocator } from "@iommu/core";
import { PtDomain } from "./domain.js";
import {
  bit,
  PT_FEAT_RISCV_SVNAPOT_64K,
  PT_FEAT_SIGN_EXTEND,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
} from "./features.js";
import type { PtFormat } from "./format.js";
import { PT_FORMATS, type PtFormatName } from "./formats/index.js";
import { ptIommuInit } from "./pt-table.js";

export interface KunitCfg {
  name: string;
  format: PtFormatName;
  features: number;
  vaBits?: number;
  oaBits?: number;
  level?: number;
}

/** `KUNIT_FMT_FEATURES`: the features the cfg list controls; the rest default to on. */
const KUNIT_FMT_FEATURES: Record<PtFormatName, number> = {
  amdv1: 0,
  vtdss: bit(PT_FEAT_VTDSS_FORCE_WRITEABLE),
  x86_64: bit(PT_FEAT_SIGN_EXTEND),
  riscv: bit(PT_FEAT_RISCV_SVNAPOT_64K),
};

/**
 * amdv1's second kernel cfg (hw_max_vasz 32) only initialises under CONFIG_DEBUG_GENERIC_PT,
 * which skips the forced-feature check; the model is the production build, so it is left out.
 */
export const KUNIT_CFGS: readonly KunitCfg[] = [
  { name: "amdv1 start 2", format: "amdv1", features: 0, level: 2 },
  { name: "vtdss 39", format: "vtdss", features: 0, vaBits: 39, level: 2 },
  { name: "vtdss 48", format: "vtdss", features: 0, vaBits: 48, level: 3 },
  { name: "vtdss 57", format: "vtdss", features: 0, vaBits: 57, level: 4 },
  { name: "x86_64 sign 48", format: "x86_64", features: bit(PT_FEAT_SIGN_EXTEND), vaBits: 48, level: 3 },
  { name: "x86_64 sign 57", format: "x86_64", features: bit(PT_FEAT_SIGN_EXTEND), vaBits: 57, level: 4 },
  { name: "x86_64 47", format: "x86_64", features: 0, vaBits: 47, level: 3 },
  { name: "x86_64 56", format: "x86_64", features: 0, vaBits: 56, level: 4 },
  {
    name: "riscv svnapot 39",
    format: "riscv",
    features: bit(PT_FEAT_RISCV_SVNAPOT_64K),
    vaBits: 39,
    oaBits: 56,
  },
  { name: "riscv 48", format: "riscv", features: 0, vaBits: 48, oaBits: 56 },
  {
    name: "riscv svnapot 57",
    format: "riscv",
    features: bit(PT_FEAT_RISCV_SVNAPOT_64K),
    vaBits: 57,
    oaBits: 56,
  },
];

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
  const features = cfg.features | (fmt.supported & ~KUNIT_FMT_FEATURES[cfg.format]);
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
