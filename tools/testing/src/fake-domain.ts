/**
 * A small two-level page table over simulated memory, for the kit's self-tests and as the
 * smallest example of a domain that passes the conformance suite: 1 GiB of IOVA, a root of
 * 512 entries holding 2 MiB leaves or pointers to leaf tables of 512 4 KiB leaves; 64-bit
 * entries (bit 0 valid, bit 1 table, bits 2–3 read/write). Tables are allocated from a
 * {@link TableAllocator}, a leaf table is freed when its last leaf goes. Each {@link FakeFaults}
 * flag breaks it in one way, so the self-tests can show which check catches what.
 */
import {
  type Addr,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type IommuDomain,
  type IommuDomainOps,
  type PageTableInspector,
  type PageTableWalk,
  type PhysLength,
  PhysMem,
  type PteInfo,
  pageTableStatsOf,
  type SizeOut,
  TableAllocator,
} from "@iommu/core";

export interface FakeFaults {
  /** iova_to_phys_length reports 8 KiB for a 4 KiB leaf. */
  wrongLength?: boolean;
  /** Lookups are cached per page and unmap forgets to drop the cache. */
  staleCache?: boolean;
  /** A map that fails for lack of memory keeps the tables it had allocated (unreachable). */
  leakOnFailure?: boolean;
  /** iova_to_phys_length counts a walk of its own. */
  doubleWalk?: boolean;
  /** The inspector reports an empty root entry as 1 GiB instead of 2 MiB. */
  inspectorLies?: boolean;
  /** A map into a used entry fails with EBUSY instead of EEXIST. */
  wrongErrno?: boolean;
  /** unmap reports one page more than it cleared. */
  unmapOvercount?: boolean;
}

export interface FakeDomain extends IommuDomain {
  readonly allocator: TableAllocator;
  readonly faults: FakeFaults;
  root: number;
  /** page frame → [phys, length] of a mapped lookup (the cache the faults can leave stale). */
  readonly cache: Map<number, [number, number]>;
  /** Leaf table → leaves in it. */
  readonly used: Map<number, number>;
}

const K4 = 0x1000;
const M2 = 0x20_0000;
const G1 = 0x4000_0000;
const VALID = 1;
const TABLE = 2;
const PROT_SHIFT = 2;

function rd(d: FakeDomain, pa: number): number {
  d.counters.pteReads++;
  const m = d.allocator.mem;
  return m.read32(pa) + m.read32(pa + 4) * 2 ** 32;
}

function wr(d: FakeDomain, pa: number, v: number): void {
  d.counters.pteWrites++;
  d.allocator.mem.write32(pa, v % 2 ** 32);
  d.allocator.mem.write32(pa + 4, Math.floor(v / 2 ** 32));
}

const addrOf = (e: number) => Math.floor(e / K4) * K4;
const protOf = (e: number) => Math.floor(e / 2 ** PROT_SHIFT) % 4;
const leafEntry = (pa: number, prot: number) => pa + VALID + (prot & 3) * 2 ** PROT_SHIFT;
const rootAt = (d: FakeDomain, va: number) => d.root + 8 * Math.floor(va / M2);

const ops: IommuDomainOps<FakeDomain> = {
  name: "fake-radix",
  mapPages(d, iova: Addr, paddr: Addr, pgsize, pgcount, prot, _gfp, mapped: SizeOut) {
    const va0 = Number(iova);
    const pa0 = Number(paddr);
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -22;
    const conflict = d.faults.wrongErrno ? -16 : -17;
    if (va0 + pgsize * pgcount > G1) return -34;
    // The leaf tables the run needs are allocated first; each is installed with its first leaf.
    const spare = new Map<number, number>();
    if (pgsize === K4) {
      for (let r = Math.floor(va0 / M2); r * M2 < va0 + pgcount * K4; r++) {
        if (rd(d, d.root + 8 * r) !== 0) continue;
        const t = d.allocator.alloc(K4);
        if (t < 0) {
          if (!d.faults.leakOnFailure) for (const x of spare.values()) d.allocator.release(x);
          return -12;
        }
        spare.set(r, t);
      }
    }
    const unused = (ret: number) => {
      for (const x of spare.values()) d.allocator.release(x);
      return ret;
    };
    for (let i = 0; i < pgcount; i++) {
      const va = va0 + i * pgsize;
      let re = rd(d, rootAt(d, va));
      if (pgsize === M2) {
        if (re !== 0) return unused(conflict); // a leaf, or a table (never empty: freed with its last leaf)
        wr(d, rootAt(d, va), leafEntry(pa0 + i * pgsize, prot));
      } else {
        const t = spare.get(Math.floor(va / M2));
        if (re === 0 && t !== undefined) {
          re = t + VALID + TABLE;
          wr(d, rootAt(d, va), re);
          spare.delete(Math.floor(va / M2));
        }
        if (!(re & TABLE)) return unused(conflict);
        const at = addrOf(re) + 8 * (Math.floor(va / K4) % 512);
        if (rd(d, at) !== 0) return unused(conflict);
        wr(d, at, leafEntry(pa0 + i * pgsize, prot));
        d.used.set(addrOf(re), (d.used.get(addrOf(re)) ?? 0) + 1);
      }
      for (let p = va; p < va + pgsize; p += K4) d.cache.delete(p / K4);
      mapped.value += pgsize;
    }
    return unused(0);
  },
  unmapPages(d, iova: Addr, pgsize, pgcount) {
    const end = Number(iova) + pgsize * pgcount;
    let va = Number(iova);
    let done = 0;
    while (va < end && va < G1) {
      const re = rd(d, rootAt(d, va));
      if (re & TABLE) {
        const t = addrOf(re);
        const at = t + 8 * (Math.floor(va / K4) % 512);
        if (rd(d, at) === 0) break;
        wr(d, at, 0);
        if (!d.faults.staleCache) d.cache.delete(va / K4);
        done += K4;
        va += K4;
        const left = d.used.get(t)! - 1;
        d.used.set(t, left);
        if (left === 0) {
          wr(d, rootAt(d, va - K4), 0);
          d.used.delete(t);
          d.allocator.release(t);
        }
      } else if (re & VALID) {
        // A 2 MiB leaf goes only whole, from its start.
        if (va % M2 !== 0 || end - va < M2) break;
        wr(d, rootAt(d, va), 0);
        if (!d.faults.staleCache) for (let p = va; p < va + M2; p += K4) d.cache.delete(p / K4);
        done += M2;
        va += M2;
      } else break;
    }
    return done && d.faults.unmapOvercount ? done + K4 : done;
  },
  iovaToPhysLength(d, iova: Addr, out: PhysLength) {
    const va = Number(iova);
    if (d.faults.doubleWalk) d.counters.walks++;
    if (va >= G1) return out.setUnmapped(K4);
    const hit = d.cache.get(Math.floor(va / K4));
    if (hit) {
      d.counters.pteReads++;
      return out.setMapped(Math.floor(hit[0] / K4), va % K4, hit[1]);
    }
    const w = walk(d, va);
    if (!w.mapped) return out.setUnmapped(w.length);
    const len = w.length === K4 && d.faults.wrongLength ? 2 * K4 : w.length;
    d.cache.set(Math.floor(va / K4), [w.phys - (va % K4), len]);
    out.setMapped(Math.floor(w.phys / K4), va % K4, len);
  },
  inspect(d) {
    return inspector(d);
  },
  free(d) {
    for (let r = 0; r < 512; r++) {
      const re =
        d.allocator.mem.read32(d.root + 8 * r) + d.allocator.mem.read32(d.root + 8 * r + 4) * 2 ** 32;
      if (re & TABLE) d.allocator.release(addrOf(re));
    }
    d.allocator.release(d.root);
  },
};

function walk(d: FakeDomain, va: number): { mapped: boolean; phys: number; length: number } {
  const re = rd(d, rootAt(d, va));
  if (re === 0) return { mapped: false, phys: 0, length: M2 };
  if (!(re & TABLE)) return { mapped: true, phys: addrOf(re) + (va % M2), length: M2 };
  const e = rd(d, addrOf(re) + 8 * (Math.floor(va / K4) % 512));
  if (e === 0) return { mapped: false, phys: 0, length: K4 };
  return { mapped: true, phys: addrOf(e) + (va % K4), length: K4 };
}

function inspector(d: FakeDomain): PageTableInspector {
  const mem = d.allocator.mem;
  const read = (pa: number) => mem.read32(pa) + mem.read32(pa + 4) * 2 ** 32;
  const info = (level: number, tableAddr: number, index: number, raw: number, base: number): PteInfo => {
    const itemSize = level === 1 ? M2 : K4;
    const iova = BigInt(base + index * itemSize);
    const common = {
      level,
      depth: 1 - level,
      tableAddr,
      index,
      entryBytes: 8,
      raw: BigInt(raw),
      iova,
      itemSize,
    };
    if (raw & TABLE) return { ...common, kind: "table", nextTable: addrOf(raw), fields: [] };
    const prot = protOf(raw);
    return { ...common, kind: "leaf", phys: BigInt(addrOf(raw)), leafSize: itemSize, prot, fields: [] };
  };
  const self: PageTableInspector = {
    geometry: () => ({
      format: "fake-radix",
      root: d.root,
      topLevel: 1,
      levels: 2,
      topEntries: 512,
      entryBytes: 8,
      iasBits: 30,
      signExtended: false,
      pgsizeBitmap: BigInt(d.pgsizeBitmap),
    }),
    walk(iova: Addr): PageTableWalk {
      const va = Number(iova);
      if (va >= G1) return { iova: BigInt(va), steps: [], end: "out-of-range" };
      const r = Math.floor(va / M2);
      const re = read(d.root + 8 * r);
      const s0 = info(1, d.root, r, re, 0);
      if (re === 0)
        return { iova: BigInt(va), steps: [s0], end: "hole", length: d.faults.inspectorLies ? G1 : M2 };
      if (!(re & TABLE))
        return {
          iova: BigInt(va),
          steps: [s0],
          end: "leaf",
          phys: BigInt(addrOf(re) + (va % M2)),
          length: M2,
        };
      const i = Math.floor(va / K4) % 512;
      const e = read(addrOf(re) + 8 * i);
      const s1 = info(0, addrOf(re), i, e, r * M2);
      if (e === 0) return { iova: BigInt(va), steps: [s0, s1], end: "hole", length: K4 };
      return {
        iova: BigInt(va),
        steps: [s0, s1],
        end: "leaf",
        phys: BigInt(addrOf(e) + (va % K4)),
        length: K4,
      };
    },
    visit(visitor) {
      for (let r = 0; r < 512; r++) {
        const re = read(d.root + 8 * r);
        if (re === 0) continue;
        if (visitor(info(1, d.root, r, re, 0)) === false || !(re & TABLE)) continue;
        for (let i = 0; i < 512; i++) {
          const e = read(addrOf(re) + 8 * i);
          if (e !== 0) visitor(info(0, addrOf(re), i, e, r * M2));
        }
      }
    },
    stats: () => pageTableStatsOf((v) => self.visit(v)),
  };
  return self;
}

/** A fresh fake domain and its allocator (the allocator counts into the domain's counters). */
export function createFakeDomain(faults: FakeFaults = {}): { domain: FakeDomain; allocator: TableAllocator } {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  const domain: FakeDomain = {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops,
    pgsizeBitmap: K4 | M2,
    geometry: { apertureStart: 0, apertureEnd: G1 - 1, forceAperture: true },
    counters,
    allocator,
    faults,
    root: allocator.alloc(K4),
    cache: new Map(),
    used: new Map(),
  };
  return { domain, allocator };
}

/** The fake's kernel behaviours, in the kit's terms. */
export const FAKE_SEMANTICS = {
  mapConflict: "EEXIST",
  mapOverTable: "fail",
  unmapHole: 0,
  unmapPartialLeaf: "keep",
  unmapRange: "leaf-walk",
} as const;
