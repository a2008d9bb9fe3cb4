/**
 * `iommu demo` rows of @iommu/iommufd: the places pages.c reads PFNs back from a domain
 * (kernel-callers.md §7 rows 3–7) — unfill on IOAS_UNMAP, fill on attaching a domain to a
 * populated IOAS, an access pinning a domain-held range, the selftest mock's 2 KiB leaves and
 * the selftest's tiny temp-memory limit — each measured with today's per-PAGE read-back
 * (`legacy`), the length-aware one (`length`) and the model's range lookup (`runs`, one
 * `iommuIovaToPhysRuns` per batch: {@link IommufdCallerScenario.measureRuns}).
 */
import {
  type IommuDomain,
  type MemKind,
  PAGE_SIZE,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  SZ_64M,
  TableAllocator,
  UserMm,
} from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import {
  type FailNth,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  Iommufd,
  MOCK_APERTURE_START,
  MOCK_PAGE_SIZE,
  mockDomainAllocPgtable,
  type ReadBackMode,
} from "@iommu/iommufd";
import type { Clock } from "../../clock.js";
import { amdv1MockPagetableInit } from "../../iommufd-script/mock-pagetable.js";
import type { CallerScenario, LookupMode } from "../caller.js";
import type { Measurement } from "../run.js";

const VADDR = 0x40_0000_0000;
const IOVA = 0x80_0000_0000;
const RW = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;

type Op = "unmap" | "attach" | "access";

interface Spec {
  id: string;
  op: Op;
  regionSize: number;
  memKind: MemKind;
  /** Leaf size the domain installs (limits its page sizes to 4K | leaf). */
  leafSize: number;
  mock: boolean;
  /** IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT (bytes), when set. */
  tempLimit?: number;
  byDefault: boolean;
  expected: { legacy: number; length: number };
  /** Range lookups of the `runs` read-back (one per batch of runs). */
  expectedRuns: number;
}

/** An iommufd row: the two modes every caller has, plus the `runs` read-back. */
export interface IommufdCallerScenario extends CallerScenario {
  /** Walks (range lookups) the `runs` read-back should make. */
  readonly expectedRuns: number;
  /** {@link CallerScenario.measure} in the `runs` read-back. */
  measureRuns(clock: Clock): Measurement;
}

function check(ret: number, what: string): void {
  if (ret < 0) throw new Error(`demo iommufd: ${what} failed (${ret})`);
}

/**
 * A domain of the scenario: the selftest mock (MOCK_IOMMUPT_DEFAULT on generic_pt amdv1_mock,
 * 2 KiB granule) or generic_pt AMDv1.
 */
function makeDomain(spec: Spec, fault: FailNth): IommuDomain {
  if (spec.mock) {
    const d = mockDomainAllocPgtable(amdv1MockPagetableInit, "default", fault);
    if (typeof d === "number") throw new Error(`demo iommufd: mock_domain_alloc_pgtable failed (${d})`);
    return d;
  }
  const d = createPtDomain("amdv1", { allocator: new TableAllocator() });
  // The leaf the scenario wants: the table may use 4 KiB and that size only.
  d.pgsizeBitmap = SZ_4K | spec.leafSize;
  return d;
}

function measureSpec(spec: Spec, mode: ReadBackMode, clock: Clock): Measurement {
  const mm = new UserMm();
  const unit = spec.memKind === "hugetlb1g" ? SZ_1G : SZ_2M;
  mm.memory.addRegion({
    vaddr: VADDR,
    size: Math.ceil(spec.regionSize / unit) * unit,
    kind: spec.memKind,
    seed: 1,
  });
  const ictx = new Iommufd({ mm, readBack: mode });
  if (spec.tempLimit) ictx.setTempMemoryLimit(spec.tempLimit);
  const alloc = { flags: 0, outIoasId: 0 };
  check(ictx.ioasAlloc(alloc), "IOMMU_IOAS_ALLOC");
  const ioas = alloc.outIoasId;
  const domains: IommuDomain[] = [makeDomain(spec, ictx.fault)];
  check(ictx.attachDomain(ioas, domains[0]!), "attach");
  // The mock row maps a 2 KiB step off the user pages: IOVA ≡ 2K, phys ≡ 0 (mod 4K), so
  // amdv1_mock can install nothing larger than its 2 KiB granule (two leaves per PAGE).
  const iova = spec.mock ? MOCK_APERTURE_START + MOCK_PAGE_SIZE : IOVA;
  check(
    ictx.ioasMap({ flags: RW, ioasId: ioas, userVa: VADDR, length: spec.regionSize, iova }),
    "IOMMU_IOAS_MAP",
  );
  let access = 0;
  if (spec.op === "access") {
    access = ictx.accessCreate(ioas);
    check(access, "access create");
  }
  const before = ictx.counters.snapshot();
  const readsBefore = domains[0]!.counters.pteReads;
  let second: IommuDomain | null = null;
  const t0 = clock();
  if (spec.op === "unmap") {
    const cmd = { ioasId: ioas, iova, length: spec.regionSize };
    check(ictx.ioasUnmap(cmd), "IOMMU_IOAS_UNMAP");
    if (cmd.length !== spec.regionSize) throw new Error(`demo iommufd: unmapped ${cmd.length} bytes`);
  } else if (spec.op === "attach") {
    second = makeDomain(spec, ictx.fault);
    check(ictx.attachDomain(ioas, second), "attach (fill)");
  } else {
    check(ictx.accessPages(access, iova, spec.regionSize), "access pin");
  }
  const ns = Number(clock() - t0);
  const after = ictx.counters.snapshot();
  if (ictx.warns.warns) throw new Error(`demo iommufd: ${ictx.warns.warns} kernel WARNs`);
  return {
    walks: after.iovaToPhys - before.iovaToPhys,
    pteReads: domains[0]!.counters.pteReads - readsBefore + (second ? second.counters.pteReads : 0),
    unmapCalls: after.unmapCalls - before.unmapCalls,
    iotlbSyncs: after.iotlbSync - before.iotlbSync,
    ns,
  };
}

const PAGES_2M = SZ_2M / PAGE_SIZE;
const PAGES_1G = SZ_1G / PAGE_SIZE;
/** hugetlb2m slots are never physically adjacent: a 64 MiB region is R = 32 runs of 2 MiB. */
const RUNS_64M = SZ_64M / SZ_2M;

const SPECS: readonly Spec[] = [
  {
    id: "iommufd-unmap-2M-on-2M",
    op: "unmap",
    regionSize: SZ_2M,
    memKind: "hugetlb2m",
    leafSize: SZ_2M,
    mock: false,
    byDefault: true,
    // §7 row 3: npages + F (F = 0: one run) → N + F'.
    expected: { legacy: PAGES_2M, length: 1 },
    expectedRuns: 1,
  },
  {
    id: "iommufd-unmap-1G-on-2M",
    op: "unmap",
    regionSize: SZ_1G,
    memKind: "hugetlb1g",
    leafSize: SZ_2M,
    mock: false,
    byDefault: false,
    expected: { legacy: PAGES_1G, length: SZ_1G / SZ_2M },
    // 1 GiB hugetlb page: one physically contiguous run.
    expectedRuns: 1,
  },
  {
    id: "iommufd-unmap-1G-on-1G",
    op: "unmap",
    regionSize: SZ_1G,
    memKind: "hugetlb1g",
    leafSize: SZ_1G,
    mock: false,
    byDefault: false,
    expected: { legacy: PAGES_1G, length: 1 },
    expectedRuns: 1,
  },
  {
    id: "iommufd-attach-fill",
    op: "attach",
    regionSize: SZ_2M,
    memKind: "hugetlb2m",
    leafSize: SZ_2M,
    mock: false,
    byDefault: false,
    // §7 row 4: the new domain is filled from the storage domain.
    expected: { legacy: PAGES_2M, length: 1 },
    expectedRuns: 1,
  },
  {
    id: "iommufd-access-pin",
    op: "access",
    regionSize: SZ_2M,
    memKind: "hugetlb2m",
    leafSize: SZ_2M,
    mock: false,
    byDefault: false,
    // §7 row 5: raw_pages_from_domain over the requested range.
    expected: { legacy: PAGES_2M, length: 1 },
    expectedRuns: 1,
  },
  {
    id: "iommufd-mock-2K",
    op: "unmap",
    regionSize: SZ_2M,
    memKind: "hugetlb2m",
    leafSize: MOCK_PAGE_SIZE,
    mock: true,
    byDefault: true,
    // Two 2 KiB leaves per PAGE (the map is 2 KiB off its pages): the length read-back clamps
    // its step to one PAGE.
    expected: { legacy: PAGES_2M, length: PAGES_2M },
    // Runs are cut in 4 KiB IOVA frames with equal phys offsets: pages a 2 KiB step off their
    // frames are read back length-aware instead (one lookup per PAGE).
    expectedRuns: PAGES_2M,
  },
  {
    id: "iommufd-batch-limit",
    op: "unmap",
    regionSize: SZ_64M,
    memKind: "hugetlb2m",
    leafSize: SZ_2M,
    mock: false,
    tempLimit: 16,
    byDefault: false,
    // A 16-byte temp limit gives a 1-entry batch: every run but the last ends in a batch-full
    // return whose walk is repeated (F = R − 1).
    expected: { legacy: SZ_64M / PAGE_SIZE + RUNS_64M - 1, length: RUNS_64M + RUNS_64M - 1 },
    // One range lookup per 1-entry batch: it adds one run and stops at the next.
    expectedRuns: RUNS_64M,
  },
];

/** The iommufd rows, in table order. */
export const IOMMUFD_SCENARIOS: readonly IommufdCallerScenario[] = SPECS.map((spec) => ({
  id: spec.id,
  caller: "iommufd",
  driver: spec.mock ? "iommufd-mock" : "generic_pt",
  format: spec.mock ? "mock-2K" : "amdv1",
  granule: spec.mock ? MOCK_PAGE_SIZE : SZ_4K,
  leafSize: spec.leafSize,
  regionSize: spec.regionSize,
  byDefault: spec.byDefault,
  expected: spec.expected,
  expectedRuns: spec.expectedRuns,
  measure: (mode: LookupMode, clock: Clock) => measureSpec(spec, mode, clock),
  measureRuns: (clock: Clock) => measureSpec(spec, "runs", clock),
}));
