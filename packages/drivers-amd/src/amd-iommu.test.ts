/**
 * AMD-Vi driver model: cfg derivation per EFR / command-line combination (each row names the
 * kernel rule of amd_iommu_domain_alloc_paging_v1 / _v2 / _flags or init.c it checks),
 * geometry edges, behaviour before the first attach, domain ids, dynamic top growth.
 */
import {
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
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
  PT_FEAT_AMDV1_ENCRYPT_TABLES,
  PT_FEAT_AMDV1_FORCE_COHERENCE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_X86_64_AMD_ENCRYPT_TABLES,
} from "@iommu/generic-pt";
import { describe, expect, it } from "vitest";
import { AMD_IOMMU_PGSIZES, AmdIommu, type AmdIommuOptions } from "./amd-iommu.js";
import { type AmdEfr, decodeAmdEfr, encodeAmdEfr } from "./efr.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const b = (n: number) => 1 << n;
const V1 = b(PT_FEAT_DYNAMIC_TOP) | b(PT_FEAT_AMDV1_ENCRYPT_TABLES) | b(PT_FEAT_AMDV1_FORCE_COHERENCE);
const FR = b(PT_FEAT_FLUSH_RANGE);
const NG = b(PT_FEAT_FLUSH_RANGE_NO_GAPS);
const V2 = b(PT_FEAT_X86_64_AMD_ENCRYPT_TABLES);
const GENOA: Partial<AmdEfr> = {
  gt: true,
  hats: 2,
  gats: 1,
  pasmax: 15,
  giosup: true,
  hasup: true,
  hdsup: true,
};
const X86 = SZ_4K | SZ_2M | SZ_1G;

function unit(efr: Partial<AmdEfr>, more: AmdIommuOptions = {}): AmdIommu {
  return new AmdIommu({ efr: encodeAmdEfr(efr), ...more });
}

describe("EFR decode (amd_iommu_types.h FEATURE_*)", () => {
  it("round-trips the fields the paging side reads", () => {
    expect(decodeAmdEfr(encodeAmdEfr(GENOA))).toMatchObject({ ...GENOA, snp: false });
    expect(decodeAmdEfr(1n << 63n).snp).toBe(true);
  });
});

interface Row {
  rule: string;
  efr: Partial<AmdEfr>;
  more?: AmdIommuOptions;
  flags?: number;
  want:
    | { format: string; features: number; vaBits: number; levels: number; pgsize: number; end: bigint }
    | { errno: string };
}

const ROWS: Row[] = [
  {
    rule: "v1 default: DYNAMIC_TOP|ENCRYPT|FORCE_COHERENCE|FLUSH_RANGE, HATS 2 → min(64, 5·9+21) = 64 bits, start level 2, AMD_IOMMU_PGSIZES",
    efr: GENOA,
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 64,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 64n - 1n,
    },
  },
  {
    rule: "HATS 0: 4-level host tables → (4−1)·9+21 = 48 bits; get_info drops sizes ≥ 2^47 (a whole table)",
    efr: { ...GENOA, hats: 0 },
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 48,
      levels: 3,
      pgsize: 0xff7f_ffff_f000,
      end: 2n ** 48n - 1n,
    },
  },
  {
    rule: "HATS 1: 5-level → 57 bits",
    efr: { ...GENOA, hats: 1 },
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 57,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 57n - 1n,
    },
  },
  {
    rule: "NpCache (a VM): FLUSH_RANGE_NO_GAPS instead of FLUSH_RANGE",
    efr: GENOA,
    more: { npCache: true },
    want: {
      format: "amdv1",
      features: V1 | NG,
      vaBits: 64,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 64n - 1n,
    },
  },
  {
    rule: "amd_iommu=nohugepages: 4K only",
    efr: GENOA,
    more: { cmdline: { nohugepages: true } },
    want: { format: "amdv1", features: V1 | FR, vaBits: 64, levels: 3, pgsize: SZ_4K, end: 2n ** 64n - 1n },
  },
  {
    rule: "amd_iommu=v2_pgsizes_only: 4K|2M|1G on the v1 table",
    efr: GENOA,
    more: { cmdline: { v2PgsizesOnly: true } },
    want: { format: "amdv1", features: V1 | FR, vaBits: 64, levels: 3, pgsize: X86, end: 2n ** 64n - 1n },
  },
  {
    rule: "nohugepages wins over v2_pgsizes_only",
    efr: GENOA,
    more: { cmdline: { nohugepages: true, v2PgsizesOnly: true } },
    want: { format: "amdv1", features: V1 | FR, vaBits: 64, levels: 3, pgsize: SZ_4K, end: 2n ** 64n - 1n },
  },
  {
    rule: "amd_iommu=pgtbl_v2, GATS 5-level: x86_64 56 bits (top bit dropped, no SIGN_EXTEND), 5 levels",
    efr: GENOA,
    more: { cmdline: { pgtbl: "v2" } },
    want: { format: "x86_64", features: V2 | FR, vaBits: 56, levels: 5, pgsize: X86, end: 2n ** 56n - 1n },
  },
  {
    rule: "pgtbl_v2, GATS 4-level: 47 bits, 4 levels",
    efr: { ...GENOA, gats: 0 },
    more: { cmdline: { pgtbl: "v2" } },
    want: { format: "x86_64", features: V2 | FR, vaBits: 47, levels: 4, pgsize: X86, end: 2n ** 47n - 1n },
  },
  {
    rule: "the page-size options narrow only the v1 table (v2 keeps 4K|2M|1G)",
    efr: GENOA,
    more: { cmdline: { pgtbl: "v2", nohugepages: true } },
    want: { format: "x86_64", features: V2 | FR, vaBits: 56, levels: 5, pgsize: X86, end: 2n ** 56n - 1n },
  },
  {
    rule: "pgtbl_v2 without GIOSUP falls back to v1 at init",
    efr: { ...GENOA, giosup: false },
    more: { cmdline: { pgtbl: "v2" } },
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 64,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 64n - 1n,
    },
  },
  {
    rule: "PASID → v2 whatever the default",
    efr: GENOA,
    flags: IOMMU_HWPT_ALLOC_PASID,
    want: { format: "x86_64", features: V2 | FR, vaBits: 56, levels: 5, pgsize: X86, end: 2n ** 56n - 1n },
  },
  {
    rule: "DIRTY_TRACKING → v1 (HDSUP)",
    efr: GENOA,
    more: { cmdline: { pgtbl: "v2" } },
    flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 64,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 64n - 1n,
    },
  },
  {
    rule: "NEST_PARENT → v1 (is_nest_parent_supported: GT, GIOSUP, EFR2.GCR3TRPMODE)",
    efr: GENOA,
    more: { gcr3TrpMode: true },
    flags: IOMMU_HWPT_ALLOC_NEST_PARENT,
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 64,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 64n - 1n,
    },
  },
  {
    rule: "HATS 3 (invalid): host translation disabled, flags 0 use the v2 table",
    efr: { ...GENOA, hats: 3 },
    want: { format: "x86_64", features: V2 | FR, vaBits: 56, levels: 5, pgsize: X86, end: 2n ** 56n - 1n },
  },
  {
    rule: "HATS 3: a v1 domain (DIRTY_TRACKING) is -EOPNOTSUPP",
    efr: { ...GENOA, hats: 3 },
    flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "HATS 3 without v2 tables: no paging domain at all",
    efr: { ...GENOA, hats: 3, giosup: false },
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "NEST_PARENT without EFR2.GCR3TRPMODE: -EOPNOTSUPP",
    efr: GENOA,
    flags: IOMMU_HWPT_ALLOC_NEST_PARENT,
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "pgtbl_v2 on a unit without v2 tables: v1",
    efr: { ...GENOA, gt: false },
    more: { cmdline: { pgtbl: "v2" } },
    want: {
      format: "amdv1",
      features: V1 | FR,
      vaBits: 64,
      levels: 3,
      pgsize: AMD_IOMMU_PGSIZES,
      end: 2n ** 64n - 1n,
    },
  },
  {
    rule: "DIRTY_TRACKING without HDSUP: -EOPNOTSUPP",
    efr: { ...GENOA, hdsup: false },
    flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "PASID without v2 support: -EOPNOTSUPP",
    efr: { ...GENOA, gt: false },
    flags: IOMMU_HWPT_ALLOC_PASID,
    want: { errno: "EOPNOTSUPP" },
  },
  {
    rule: "PASID with DIRTY_TRACKING: -EOPNOTSUPP",
    efr: GENOA,
    flags: IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    want: { errno: "EOPNOTSUPP" },
  },
  { rule: "unknown flag: -EOPNOTSUPP", efr: GENOA, flags: b(6), want: { errno: "EOPNOTSUPP" } },
];

describe("cfg derivation (amd_iommu_domain_alloc_paging_flags)", () => {
  for (const r of ROWS)
    it(r.rule, () => {
      const d = unit(r.efr, r.more).domainAllocPagingFlags(r.flags ?? 0);
      if ("errno" in r.want) {
        expect(d).toBe(negErrno(r.want.errno as "EOPNOTSUPP"));
        return;
      }
      if (typeof d === "number") throw new Error(`alloc failed: ${d}`);
      const w = r.want;
      expect(d.pt.fmt.name).toBe(w.format);
      expect(d.pt.features).toBe(w.features);
      expect(d.pt.maxVasz).toBe(w.vaBits);
      expect(d.pt.topLevel + 1).toBe(w.levels);
      expect(d.pgsizeBitmap).toBe(w.pgsize);
      expect(BigInt(d.geometry.apertureEnd)).toBe(w.end);
      expect(BigInt(d.geometry.apertureStart)).toBe(0n);
    });

  it("capable(DIRTY_TRACKING) follows HDSUP; dirty domains get read_and_clear_dirty", () => {
    expect(unit(GENOA).capable(IOMMU_CAP_DIRTY_TRACKING)).toBe(true);
    expect(unit({ ...GENOA, hdsup: false }).capable(IOMMU_CAP_DIRTY_TRACKING)).toBe(false);
    const d = unit(GENOA).domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    expect(typeof d !== "number" && d.dirtyOps).toBeTruthy();
  });

  it("the driver's pgsize_bitmap is the default domain's", () => {
    expect(unit(GENOA).pgsizeBitmap).toBe(AMD_IOMMU_PGSIZES);
    expect(unit(GENOA, { cmdline: { v2PgsizesOnly: true } }).pgsizeBitmap).toBe(X86);
  });

  it("table allocation failure at domain alloc: -ENOMEM, the domain id is not consumed", () => {
    const u = unit(GENOA);
    const allocator = new TableAllocator();
    allocator.failNth(1);
    expect(u.domainAllocPagingFlags(0, { allocator })).toBe(negErrno("ENOMEM"));
    expect(u.domainAllocPaging().id).toBe(1);
  });
});

describe("v1 page sizes: every power of two but 512G", () => {
  it("a 32K-aligned map uses 32K leaves (NextLevel 7 runs), iova_to_phys_length reports 32K", () => {
    const d = unit(GENOA).domainAllocPaging();
    iommuMap(d, SZ_1G + 0x8000, 0x2_0000_8000, 0x8000 * 4, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, SZ_1G + 0x8000 + 0x1234, out);
    expect(out.length).toBe(0x8000);
    expect(BigInt(out.phys)).toBe(0x2_0000_9234n);
  });
  it("a 1G region maps as one 1G leaf", () => {
    const d = unit(GENOA).domainAllocPaging();
    iommuMap(d, SZ_1G, 4 * SZ_1G, SZ_1G, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, SZ_1G + 5, out);
    expect(out.length).toBe(SZ_1G);
  });
  it("512G is not offered: a 1T-aligned 512G region maps as 256G leaves", () => {
    const d = unit(GENOA).domainAllocPaging();
    expect(d.pgsizeBitmap % 2 ** 40 >= 2 ** 39).toBe(false);
    iommuMap(d, 2 ** 40, 2 ** 40, 2 ** 39, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, 2 ** 40, out);
    expect(out.length).toBe(2 ** 38);
  });
});

describe("geometry and dynamic top", () => {
  it("HATS 0: the last 48-bit page maps, 2^48 is refused", () => {
    const d = unit({ ...GENOA, hats: 0 }).domainAllocPaging();
    iommuMap(d, 2 ** 48 - SZ_4K, 0x1000_0000, SZ_4K, RW);
    expect(() => iommuMap(d, 2 ** 48, 0x1000_0000, SZ_4K, RW)).toThrow(IommuError);
  });
  it("a map above the 3-level top grows the table and rewrites every attached device's DTE", () => {
    const u = unit(GENOA);
    const d = u.domainAllocPaging();
    expect(u.attachDev(d, "a")).toBe(0);
    expect(u.attachDev(d, "b")).toBe(0);
    const before = u.dteWrites;
    iommuMap(d, 2 ** 45, 0x1000_0000, SZ_2M, RW);
    // 2^45 needs the 48-bit level-3 top: one increase_top, one DTE rewrite per device.
    expect(d.pt.topLevel).toBe(3);
    expect(d.pt.topChanges).toBe(1);
    expect(u.dteWrites - before).toBe(2);
  });
});

describe("before the first attach (the table exists from alloc)", () => {
  it("map/unmap/lookup work and no command is queued", () => {
    const u = unit(GENOA);
    const d = u.domainAllocPaging();
    iommuMap(d, SZ_1G, 2 * SZ_1G, SZ_2M, RW);
    expect(iommuIovaToPhys(d, SZ_1G + 7)).toBe(2 * SZ_1G + 7);
    expect(iommuUnmap(d, SZ_1G, SZ_2M)).toBe(SZ_2M);
    expect(u.cmd.issued).toBe(0);
    expect(d.counters.flushPage + d.counters.flushRange + d.counters.flushAll).toBe(0);
  });
});

describe("domain ids (pdom_id_alloc)", () => {
  it("lowest free from 1, given back at free", () => {
    const u = unit(GENOA);
    const a = u.domainAllocPaging();
    const c = u.domainAllocPaging();
    expect([a.id, c.id]).toEqual([1, 2]);
    a.ops.free!(a);
    expect(u.domainAllocPaging().id).toBe(1);
  });
  it("forDevice(): alloc + attach; free detaches (DTE cleared) and frees every table", () => {
    const u = unit(GENOA);
    const d = u.forDevice().domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(d.iommus.size).toBe(1);
    iommuMap(d, SZ_1G, 2 * SZ_1G, SZ_2M, RW);
    d.ops.free!(d);
    expect(d.iommus.size).toBe(0);
    expect(d.allocator.liveCount).toBe(0);
  });
  it("a v2 domain cannot be attached through a unit without v2 tables: -EINVAL", () => {
    const d = unit(GENOA, { cmdline: { pgtbl: "v2" } }).domainAllocPaging();
    expect(unit({ ...GENOA, giosup: false }).attachDev(d)).toBe(negErrno("EINVAL"));
  });
});
