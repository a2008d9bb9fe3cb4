/**
 * VT-d driver model: cfg derivation per capability combination (each row names the kernel
 * rule of intel_iommu_domain_alloc_first_stage / _second_stage / compute_vasz_lg2_ss it
 * checks), geometry edges, behaviour before the first attach, domain ids and the attach
 * compatibility checks (paging_domain_compatible_*).
 */
import {
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_CAP_ENFORCE_CACHE_COHERENCY,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuDomainInspector,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  negErrno,
  PhysLength,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import {
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_SIGN_EXTEND,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
} from "@iommu/generic-pt";
import { describe, expect, it } from "vitest";
import {
  IDA_START_DID,
  IntelIommu,
  type IntelIommuOptions,
  VTD_LEGACY_CAP,
  VTD_LEGACY_ECAP,
} from "./intel-iommu.js";
import {
  decodeVtdCap,
  decodeVtdEcap,
  encodeVtdCap,
  encodeVtdEcap,
  type VtdCap,
  type VtdEcap,
} from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SIGN = 1 << PT_FEAT_SIGN_EXTEND;
const FR = 1 << PT_FEAT_FLUSH_RANGE;
const INC = 1 << PT_FEAT_DMA_INCOHERENT;
const FW = 1 << PT_FEAT_VTDSS_FORCE_WRITEABLE;

const SPR: Partial<VtdCap> = {
  ndoms: 65536,
  sagaw: 0b1100,
  mgaw: 57,
  superPageVal: 3,
  pgselInv: true,
  maxAmaskVal: 18,
  fl1gp: true,
  fl5lp: true,
};
const SPR_E: Partial<VtdEcap> = {
  coherent: true,
  qis: true,
  sc: true,
  nest: true,
  pasid: true,
  smts: true,
  slads: true,
  slts: true,
  flts: true,
  smpwc: true,
};
const LEG: Partial<VtdCap> = {
  ndoms: 65536,
  sagaw: 0b0100,
  mgaw: 48,
  superPageVal: 3,
  pgselInv: true,
  maxAmaskVal: 9,
};
const LEG_E: Partial<VtdEcap> = { coherent: true, qis: true, sc: true };

function unit(cap: Partial<VtdCap>, ecap: Partial<VtdEcap>, more: IntelIommuOptions = {}): IntelIommu {
  return new IntelIommu({ cap: encodeVtdCap(cap), ecap: encodeVtdEcap(ecap), ...more });
}

describe("CAP/ECAP decode (iommu.h cap_*/ecap_*)", () => {
  it("decodes the built-in register values", () => {
    expect(decodeVtdCap(VTD_LEGACY_CAP)).toMatchObject({ ...LEG, rwbf: false, cachingMode: false });
    expect(decodeVtdEcap(VTD_LEGACY_ECAP)).toMatchObject({ ...LEG_E, smts: false, flts: false });
  });
  it("cap_mgaw is the field + 1, cap_ndoms 2^(4+2·ND), cap_super_page_val bits 37:34", () => {
    const c = decodeVtdCap((47n << 16n) | 3n | (0b10n << 34n) | (0x3fn << 48n));
    expect(c.mgaw).toBe(48);
    expect(c.ndoms).toBe(1024);
    expect(c.superPageVal).toBe(2);
    expect(c.maxAmaskVal).toBe(63);
  });
});

interface Row {
  rule: string;
  cap: Partial<VtdCap>;
  ecap: Partial<VtdEcap>;
  more?: IntelIommuOptions;
  flags?: number;
  want:
    | { format: string; features: number; vaBits: number; levels: number; pgsize: number; end: bigint }
    | { errno: string };
}

const ROWS: Row[] = [
  {
    rule: "first stage preferred (sm + FSTS): SIGN_EXTEND|FLUSH_RANGE, FL5LP → 57 bits 5-level, FL1GP → 1G",
    cap: SPR,
    ecap: SPR_E,
    want: {
      format: "x86_64",
      features: SIGN,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 56n - 1n,
    },
  },
  {
    rule: "first stage without FL5LP: 48 bits, 4-level; aperture is the lower canonical half",
    cap: { ...SPR, fl5lp: false },
    ecap: SPR_E,
    want: {
      format: "x86_64",
      features: SIGN,
      vaBits: 48,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 47n - 1n,
    },
  },
  {
    rule: "first stage vasz limited to MGAW (spec 3.6): MGAW 46 → 46 bits",
    cap: { ...SPR, mgaw: 46 },
    ecap: SPR_E,
    want: {
      format: "x86_64",
      features: SIGN,
      vaBits: 46,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 45n - 1n,
    },
  },
  {
    rule: "first stage without FL1GP: pgsize_bitmap &= ~SZ_1G",
    cap: { ...SPR, fl1gp: false },
    ecap: SPR_E,
    want: {
      format: "x86_64",
      features: SIGN,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M,
      end: 2n ** 56n - 1n,
    },
  },
  {
    rule: "first stage without SMPWC: DMA_INCOHERENT",
    cap: SPR,
    ecap: { ...SPR_E, smpwc: false },
    want: {
      format: "x86_64",
      features: SIGN | INC,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 56n - 1n,
    },
  },
  {
    rule: "intel_iommu=sp_off: 4K only",
    cap: SPR,
    ecap: SPR_E,
    more: { superpage: false },
    want: { format: "x86_64", features: SIGN, vaBits: 57, levels: 5, pgsize: SZ_4K, end: 2n ** 56n - 1n },
  },
  {
    rule: "intel_iommu=sm_off: legacy mode, second stage only; SAGAW 5-level + MGAW 57 → 57 bits",
    cap: SPR,
    ecap: SPR_E,
    more: { scalableMode: false },
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 57n - 1n,
    },
  },
  {
    rule: "NEST_PARENT → second stage with FORCE_WRITEABLE (ERRATA_772415_SPR17)",
    cap: SPR,
    ecap: SPR_E,
    flags: IOMMU_HWPT_ALLOC_NEST_PARENT,
    want: {
      format: "vtdss",
      features: FW,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 57n - 1n,
    },
  },
  {
    rule: "DIRTY_TRACKING → second stage (SSADS)",
    cap: SPR,
    ecap: SPR_E,
    flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 57n - 1n,
    },
  },
  {
    rule: "PASID alone stays on the first stage",
    cap: SPR,
    ecap: SPR_E,
    flags: IOMMU_HWPT_ALLOC_PASID,
    want: {
      format: "x86_64",
      features: SIGN,
      vaBits: 57,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 56n - 1n,
    },
  },
  {
    rule: "NEST_PARENT without ECAP.NEST: -EOPNOTSUPP",
    cap: SPR,
    ecap: { ...SPR_E, nest: false },
    flags: IOMMU_HWPT_ALLOC_NEST_PARENT,
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "DIRTY_TRACKING without SSADS: -EOPNOTSUPP",
    cap: SPR,
    ecap: { ...SPR_E, slads: false },
    flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    want: { errno: "EOPNOTSUPP" },
  },
  { rule: "unknown flag: -EOPNOTSUPP", cap: SPR, ecap: SPR_E, flags: 1 << 5, want: { errno: "EOPNOTSUPP" } },
  {
    rule: "scalable mode with neither FSTS nor SSTS: -EOPNOTSUPP",
    cap: SPR,
    ecap: { ...SPR_E, flts: false, slts: false },
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "legacy second stage: SAGAW 4-level, MGAW 48 → 48 bits, 4-level, 2M|1G from SSLPS",
    cap: LEG,
    ecap: LEG_E,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 48,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 48n - 1n,
    },
  },
  {
    rule: "SSLPS bit 0 only: 2M without 1G",
    cap: { ...LEG, superPageVal: 1 },
    ecap: LEG_E,
    want: { format: "vtdss", features: 0, vaBits: 48, levels: 4, pgsize: SZ_4K | SZ_2M, end: 2n ** 48n - 1n },
  },
  {
    rule: "SSLPS 0: 4K only",
    cap: { ...LEG, superPageVal: 0 },
    ecap: LEG_E,
    want: { format: "vtdss", features: 0, vaBits: 48, levels: 4, pgsize: SZ_4K, end: 2n ** 48n - 1n },
  },
  {
    rule: "legacy mode without ECAP.C: DMA_INCOHERENT",
    cap: LEG,
    ecap: { ...LEG_E, coherent: false },
    want: {
      format: "vtdss",
      features: INC,
      vaBits: 48,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 48n - 1n,
    },
  },
  {
    rule: "SAGAW 3-level, MGAW 39 → 39 bits, 3-level",
    cap: { ...LEG, sagaw: 0b0010, mgaw: 39 },
    ecap: LEG_E,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 39,
      levels: 3,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 39n - 1n,
    },
  },
  {
    rule: "MGAW 42 with 4-level SAGAW → 42 bits (MGAW caps the aperture, not the levels)",
    cap: { ...LEG, mgaw: 42 },
    ecap: LEG_E,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 42,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 42n - 1n,
    },
  },
  {
    rule: "5-level-only SAGAW with MGAW 48: 48 bits on a 5-level table (top 2 + ffs(SAGAW >> 2) = 4)",
    cap: { ...LEG, sagaw: 0b1000, mgaw: 48 },
    ecap: LEG_E,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 48,
      levels: 5,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 48n - 1n,
    },
  },
  {
    rule: "SAGAW 4+5-level with MGAW 48 (not > 48): the 4-level walk",
    cap: { ...LEG, sagaw: 0b1100, mgaw: 48 },
    ecap: LEG_E,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 48,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 48n - 1n,
    },
  },
  {
    rule: "4-level-only SAGAW with MGAW 39: 39 bits on a 4-level table (1 + ffs(SAGAW >> 1))",
    cap: { ...LEG, sagaw: 0b0100, mgaw: 39 },
    ecap: LEG_E,
    want: {
      format: "vtdss",
      features: 0,
      vaBits: 39,
      levels: 4,
      pgsize: SZ_4K | SZ_2M | SZ_1G,
      end: 2n ** 39n - 1n,
    },
  },
  {
    rule: "no SAGAW level fits MGAW: hw_max_vasz 0 → pt init -EINVAL",
    cap: { ...LEG, mgaw: 29 },
    ecap: LEG_E,
    want: { errno: "EINVAL" },
  },
];

describe("cfg derivation (intel_iommu_domain_alloc_paging_flags)", () => {
  for (const r of ROWS) {
    it(r.rule, () => {
      const u = unit(r.cap, r.ecap, r.more);
      const d = u.domainAllocPagingFlags(r.flags ?? 0);
      if ("errno" in r.want) {
        expect(d).toBe(negErrno(r.want.errno as "EINVAL"));
        return;
      }
      expect(typeof d).toBe("object");
      if (typeof d === "number") return;
      const w = r.want;
      expect(d.pt.fmt.name).toBe(w.format);
      // DYNAMIC_TOP/FULL_VA never apply to these formats: features are what the driver asked.
      expect(d.pt.features & ~FR).toBe(w.features);
      expect(d.pt.features & FR).toBe(FR);
      expect(d.pt.maxVasz).toBe(w.vaBits);
      expect(d.pt.topLevel + 1).toBe(w.levels);
      expect(d.pgsizeBitmap).toBe(w.pgsize);
      expect(BigInt(d.geometry.apertureStart)).toBe(0n);
      expect(BigInt(d.geometry.apertureEnd)).toBe(w.end);
      expect(d.geometry.forceAperture).toBe(true);
    });
  }

  it("compatibility: a domain needs the unit's MGAW, SAGAW level, page sizes and coherency", () => {
    const big = unit(SPR, SPR_E, { scalableMode: false }).domainAllocPaging(); // vtdss 57 bits, 5-level
    expect(unit(LEG, LEG_E).attachDev(big)).toBe(negErrno("EINVAL")); // MGAW 48 < 57
    const leg = unit(LEG, LEG_E).domainAllocPaging();
    expect(unit({ ...LEG, superPageVal: 1 }, LEG_E).attachDev(leg)).toBe(negErrno("EINVAL")); // no 1G
    expect(unit(LEG, { ...LEG_E, coherent: false }).attachDev(leg)).toBe(negErrno("EINVAL")); // coherent table
    expect(unit({ ...LEG, sagaw: 0b1000, mgaw: 48 }, LEG_E).attachDev(leg)).toBe(negErrno("EINVAL")); // no 4-level walk
    expect(unit(LEG, LEG_E).attachDev(leg)).toBe(0);
    const fs = unit(SPR, SPR_E).domainAllocPaging(); // x86_64 57 bits
    expect(unit({ ...SPR, fl5lp: false }, SPR_E).attachDev(fs)).toBe(negErrno("EINVAL"));
    expect(unit({ ...SPR, fl1gp: false }, SPR_E).attachDev(fs)).toBe(negErrno("EINVAL"));
    expect(unit(SPR, SPR_E, { scalableMode: false }).attachDev(fs)).toBe(negErrno("EINVAL"));
  });

  it("capable(): ENFORCE_CACHE_COHERENCY from ECAP.SC, DIRTY_TRACKING from scalable mode + SSADS", () => {
    expect(unit(SPR, SPR_E).capable(IOMMU_CAP_DIRTY_TRACKING)).toBe(true);
    expect(unit(SPR, SPR_E, { scalableMode: false }).capable(IOMMU_CAP_DIRTY_TRACKING)).toBe(false);
    expect(unit(LEG, { ...LEG_E, sc: false }).capable(IOMMU_CAP_ENFORCE_CACHE_COHERENCY)).toBe(false);
    expect(unit(LEG, LEG_E).capable(IOMMU_CAP_ENFORCE_CACHE_COHERENCY)).toBe(true);
  });

  it("dirty tracking domains get generic_pt's read_and_clear_dirty; others none", () => {
    const u = unit(SPR, SPR_E);
    const d = u.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    expect(typeof d !== "number" && d.dirtyOps).toBeTruthy();
    const d0 = u.domainAllocPaging();
    expect(d0.dirtyOps).toBeNull();
  });

  it("table allocation failure at domain alloc is -ENOMEM with nothing left allocated", () => {
    const allocator = new TableAllocator();
    allocator.failNth(1);
    const u = new IntelIommu({ cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP });
    expect(u.domainAllocPagingFlags(0, { allocator })).toBe(negErrno("ENOMEM"));
    expect(allocator.liveCount).toBe(0);
  });
});

describe("geometry edges", () => {
  it("second stage 48-bit: the last page maps, the next IOVA is refused", () => {
    const d = unit(LEG, LEG_E).domainAllocPaging();
    const last = 2 ** 48 - SZ_4K;
    iommuMap(d, last, 0x1000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, last + 0x123)).toBe(0x1000_0123);
    expect(() => iommuMap(d, 2 ** 48, 0x1000_0000, SZ_4K, RW)).toThrow(IommuError);
  });
  it("first stage 48-bit: the upper canonical half is outside the aperture", () => {
    const d = unit({ ...SPR, fl5lp: false }, SPR_E).domainAllocPaging();
    iommuMap(d, 2 ** 47 - SZ_2M, 0x4000_0000, SZ_2M, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, 2 ** 47 - 1, out);
    expect(out.length).toBe(SZ_2M);
    expect(() => iommuMap(d, 2 ** 47, 0x4000_0000, SZ_4K, RW)).toThrow(IommuError);
  });
});

describe("before the first attach (the table exists from alloc: no lazy allocation)", () => {
  it("map/unmap/lookup work, and no invalidation is issued (no cache tag yet)", () => {
    const u = new IntelIommu({ cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP });
    const d = u.domainAllocPaging();
    expect(d.allocator.liveCount).toBe(1);
    iommuMap(d, SZ_1G, 2 * SZ_1G, SZ_2M, RW);
    expect(iommuIovaToPhys(d, SZ_1G + 5)).toBe(2 * SZ_1G + 5);
    expect(iommuUnmap(d, SZ_1G, SZ_2M)).toBe(SZ_2M);
    expect(u.qi.issued).toBe(0);
    expect(d.counters.flushRange + d.counters.flushAll).toBe(0);
    expect(u.domainId(d)).toBeUndefined();
    // After attach the same unmap invalidates.
    expect(u.attachDev(d)).toBe(0);
    iommuMap(d, SZ_1G, 2 * SZ_1G, SZ_2M, RW);
    iommuUnmap(d, SZ_1G, SZ_2M);
    expect(u.qi.iotlbPsi).toBe(1);
  });
});

describe("domain ids (domain_attach_iommu)", () => {
  it("ids start at IDA_START_DID, are shared by devices of one domain, and come back at detach", () => {
    const u = unit({ ...LEG, ndoms: 16 }, LEG_E);
    const a = u.domainAllocPaging();
    const b = u.domainAllocPaging();
    expect(u.attachDev(a, "d0")).toBe(0);
    expect(u.attachDev(a, "d1")).toBe(0);
    expect(u.attachDev(b, "d2")).toBe(0);
    expect(u.domainId(a)).toBe(IDA_START_DID);
    expect(u.domainId(b)).toBe(IDA_START_DID + 1);
    expect(a.cacheTags).toHaveLength(1);
    expect(a.cacheTags[0]!.users).toBe(2);
    u.detachDev("d0");
    u.detachDev("d1");
    expect(a.cacheTags).toHaveLength(0);
    expect(u.domainId(a)).toBeUndefined();
    const c = u.domainAllocPaging();
    expect(u.attachDev(c, "d3")).toBe(0);
    expect(u.domainId(c)).toBe(IDA_START_DID);
  });
  it("CAP.ND exhausted: -ENOSPC, the device stays blocked", () => {
    const u = unit({ ...LEG, ndoms: 16 }, LEG_E);
    for (let i = IDA_START_DID; i <= 15; i++) expect(u.attachDev(u.domainAllocPaging(), `d${i}`)).toBe(0);
    const extra = u.domainAllocPaging();
    expect(u.attachDev(extra, "x")).toBe(negErrno("ENOSPC"));
    expect(extra.cacheTags).toHaveLength(0);
  });
  it("forDevice(): VFIO's alloc+attach; free detaches and releases the id", () => {
    const u = new IntelIommu({ cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP });
    const drv = u.forDevice("vf0");
    const d = drv.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(u.domainId(d)).toBe(IDA_START_DID);
    d.ops.free!(d);
    expect(u.domainId(d)).toBeUndefined();
    expect(d.allocator.liveCount).toBe(0);
  });
});

describe("enforce_cache_coherency", () => {
  it("second stage: SNP (bit 11) in leaves mapped afterwards; refused through a unit without SC", () => {
    const u = unit(LEG, LEG_E);
    const d = u.domainAllocPaging();
    expect(u.attachDev(d)).toBe(0);
    iommuMap(d, SZ_1G, 2 * SZ_1G, SZ_4K, RW);
    expect(u.enforceCacheCoherency(d)).toBe(true);
    iommuMap(d, SZ_1G + SZ_4K, 2 * SZ_1G, SZ_4K, RW);
    const raw = (iova: number) => iommuDomainInspector(d)!.walk(iova).steps.at(-1)!.raw;
    expect(raw(SZ_1G) & (1n << 11n)).toBe(0n);
    expect(raw(SZ_1G + SZ_4K) & (1n << 11n)).toBe(1n << 11n);
    const noSc = unit(LEG, { ...LEG_E, sc: false });
    const d2 = noSc.domainAllocPaging();
    expect(noSc.attachDev(d2)).toBe(0);
    expect(noSc.enforceCacheCoherency(d2)).toBe(false);
    // A forced-coherent table cannot be attached through a unit without snoop control.
    expect(noSc.attachDev(d, "other")).toBe(negErrno("EINVAL"));
  });
});
