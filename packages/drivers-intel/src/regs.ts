// drivers/iommu/intel/iommu.h: the CAP_REG and ECAP_REG fields the paging side reads
// (cap_* / ecap_* accessors), and an encoder for building register values from a description.

/** A raw 64-bit register value. */
export type Reg64 = bigint | number;

function field(reg: bigint, shift: number, width: number): number {
  return Number((reg >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));
}

function u64(v: Reg64): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

/**
 * The CAP_REG fields of `struct intel_iommu` the driver decodes (VT-d spec 11.4.2), each
 * named after its kernel accessor.
 */
export interface VtdCap {
  /** `cap_ndoms`: number of domain ids, `1 << (4 + 2·ND)`. */
  readonly ndoms: number;
  /** `cap_rwbf`: write-buffer flushing required. */
  readonly rwbf: boolean;
  /** `cap_caching_mode` (CM): not-present entries may be cached (a virtual IOMMU). */
  readonly cachingMode: boolean;
  /** `cap_sagaw`: bit n = (n+2)-level second-stage table supported (bit 1: 3-level, 2: 4, 3: 5). */
  readonly sagaw: number;
  /** `cap_mgaw`: maximum guest address width (MGAW field + 1). */
  readonly mgaw: number;
  /** `cap_super_page_val` (SSLPS): bit 0 = 2 MiB, bit 1 = 1 GiB second-stage leaves. */
  readonly superPageVal: number;
  /** `cap_pgsel_inv` (PSI): page-selective IOTLB invalidation. */
  readonly pgselInv: boolean;
  /** `cap_max_amask_val` (MAMV): largest address mask a PSI takes. */
  readonly maxAmaskVal: number;
  /** `cap_write_drain` (DWD) / `cap_read_drain` (DRD). */
  readonly writeDrain: boolean;
  readonly readDrain: boolean;
  /** `cap_fl1gp_support`: first-stage 1 GiB pages. */
  readonly fl1gp: boolean;
  /** `cap_fl5lp_support`: first-stage 5-level paging. */
  readonly fl5lp: boolean;
}

/** The ECAP_REG fields the paging side reads (VT-d spec 11.4.3). */
export interface VtdEcap {
  /** `ecap_coherent` (C): legacy-mode walks snoop. */
  readonly coherent: boolean;
  /** `ecap_qis` (QI): queued invalidation. */
  readonly qis: boolean;
  /** `ecap_dev_iotlb_support` (DT). */
  readonly devIotlb: boolean;
  /** `ecap_sc_support` (SC): snoop control. */
  readonly sc: boolean;
  /** `ecap_nest` (NEST). */
  readonly nest: boolean;
  /** `ecap_pasid` (PASID). */
  readonly pasid: boolean;
  /** `ecap_smts` (SMTS): scalable-mode translation. */
  readonly smts: boolean;
  /** `ecap_slads` (SSADS): second-stage accessed/dirty. */
  readonly slads: boolean;
  /** `ecap_slts` (SSTS): second-stage translation in scalable mode. */
  readonly slts: boolean;
  /** `ecap_flts` (FSTS): first-stage translation. */
  readonly flts: boolean;
  /** `ecap_smpwc` (SMPWC): scalable-mode walks snoop. */
  readonly smpwc: boolean;
}

/** `cap_*()`: decode CAP_REG. */
export function decodeVtdCap(value: Reg64): VtdCap {
  const c = u64(value);
  return {
    ndoms: 2 ** (4 + 2 * field(c, 0, 3)),
    rwbf: field(c, 4, 1) === 1,
    cachingMode: field(c, 7, 1) === 1,
    sagaw: field(c, 8, 5),
    mgaw: field(c, 16, 6) + 1,
    superPageVal: field(c, 34, 4),
    pgselInv: field(c, 39, 1) === 1,
    maxAmaskVal: field(c, 48, 6),
    writeDrain: field(c, 54, 1) === 1,
    readDrain: field(c, 55, 1) === 1,
    fl1gp: field(c, 56, 1) === 1,
    fl5lp: field(c, 60, 1) === 1,
  };
}

/** `ecap_*()`: decode ECAP_REG. */
export function decodeVtdEcap(value: Reg64): VtdEcap {
  const e = u64(value);
  return {
    coherent: field(e, 0, 1) === 1,
    qis: field(e, 1, 1) === 1,
    devIotlb: field(e, 2, 1) === 1,
    sc: field(e, 7, 1) === 1,
    nest: field(e, 26, 1) === 1,
    pasid: field(e, 40, 1) === 1,
    smts: field(e, 43, 1) === 1,
    slads: field(e, 45, 1) === 1,
    slts: field(e, 46, 1) === 1,
    flts: field(e, 47, 1) === 1,
    smpwc: field(e, 48, 1) === 1,
  };
}

/** Model-only: CAP_REG from a description (unset fields 0; `ndoms` rounded to the encodable sizes). */
export function encodeVtdCap(c: Partial<VtdCap>): bigint {
  let v = 0n;
  const set = (shift: number, width: number, x: number | boolean | undefined) => {
    const n = BigInt(typeof x === "boolean" ? (x ? 1 : 0) : (x ?? 0));
    v |= (n & ((1n << BigInt(width)) - 1n)) << BigInt(shift);
  };
  const nd = c.ndoms === undefined ? 0 : Math.max(0, Math.ceil((Math.log2(c.ndoms) - 4) / 2));
  set(0, 3, nd);
  set(4, 1, c.rwbf);
  set(7, 1, c.cachingMode);
  set(8, 5, c.sagaw);
  set(16, 6, c.mgaw === undefined ? 0 : c.mgaw - 1);
  set(34, 4, c.superPageVal);
  set(39, 1, c.pgselInv);
  set(48, 6, c.maxAmaskVal);
  set(54, 1, c.writeDrain);
  set(55, 1, c.readDrain);
  set(56, 1, c.fl1gp);
  set(60, 1, c.fl5lp);
  return v;
}

/** Model-only: ECAP_REG from a description (unset fields 0). */
export function encodeVtdEcap(e: Partial<VtdEcap>): bigint {
  const bits: Array<[number, boolean | undefined]> = [
    [0, e.coherent],
    [1, e.qis],
    [2, e.devIotlb],
    [7, e.sc],
    [26, e.nest],
    [40, e.pasid],
    [43, e.smts],
    [45, e.slads],
    [46, e.slts],
    [47, e.flts],
    [48, e.smpwc],
  ];
  let v = 0n;
  for (const [b, on] of bits) if (on) v |= 1n << BigInt(b);
  return v;
}
