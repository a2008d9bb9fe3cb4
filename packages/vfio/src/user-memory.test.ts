import { IommuCounters, SZ_1G, SZ_2M } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { USER_PHYS_BASE, USER_PHYS_END } from "./phys-slots.js";
import { UserMemory, UserMemoryError } from "./user-memory.js";

const V = 0x7f00_0000_0000;

function errCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UserMemoryError) return e.code;
    throw e;
  }
  return "none";
}

describe("UserMemory layout", () => {
  it("places slots exactly as the vectors' harness (seeded splitmix64 probing)", () => {
    const m = new UserMemory();
    m.addRegion({ vaddr: V, size: 0x4000, kind: "scattered", seed: 41 });
    expect(m.layout(V, 0x4000).map((p) => p.pa.toString(16))).toEqual([
      "4bc949000",
      "facd4c000",
      "897281000",
      "1a4e8b000",
    ]);
    const h = new UserMemory();
    h.addRegion({ vaddr: V, size: SZ_1G, kind: "hugetlb1g", seed: 21 });
    expect(h.layout(V, SZ_1G)).toEqual([{ kind: "run", vaddr: V, size: SZ_1G, pa: 0xbc0000000 }]);
    const t = new UserMemory();
    t.addRegion({ vaddr: V, size: SZ_2M, kind: "hugetlb2m", seed: 11 });
    expect(t.translate(V + 0x1fffff)).toBe(0x813bfffff);
  });

  it("never makes consecutive windows physically contiguous, keeps pa ≡ vaddr mod C", () => {
    const m = new UserMemory();
    const r = m.addRegion({ vaddr: V + 0x1000, size: 64 * SZ_2M, kind: "thp", seed: 3 });
    expect(r.runs).toBe(65); // an unaligned THP range touches one window more
    const pieces = m.layout(r.vaddr, r.size);
    expect(pieces).toHaveLength(65);
    for (const p of pieces) {
      expect(p.kind).toBe("run");
      expect(p.pa % SZ_2M).toBe(p.vaddr % SZ_2M);
      expect(p.pa).toBeGreaterThanOrEqual(USER_PHYS_BASE);
      expect(p.pa + p.size).toBeLessThanOrEqual(USER_PHYS_END);
    }
    const s = new UserMemory();
    const sr = s.addRegion({ vaddr: V, size: 0x200000, kind: "scattered", seed: 9 });
    expect(sr.runs).toBe(512);
    expect(s.layout(V, 0x200000)).toHaveLength(512);
  });

  it("takes user pages from a given physical range (a 32-bit SoC's RAM below 4 GiB)", () => {
    const m = new UserMemory(new IommuCounters(), { base: SZ_1G, end: 4 * SZ_1G });
    m.addRegion({ vaddr: V, size: SZ_1G, kind: "hugetlb1g", seed: 2 });
    m.addRegion({ vaddr: V + 2 * SZ_1G, size: 64 * SZ_2M, kind: "thp", seed: 2 });
    m.addRegion({ vaddr: V + 4 * SZ_1G, size: 0x100000, kind: "scattered", seed: 2 });
    for (const r of m.allRegions)
      for (const p of m.layout(r.vaddr, r.size)) {
        expect(p.pa).toBeGreaterThanOrEqual(SZ_1G);
        expect(p.pa + p.size).toBeLessThanOrEqual(4 * SZ_1G);
      }
    expect(errCode(() => new UserMemory(new IommuCounters(), { base: 0x1000, end: SZ_1G }))).toBe("invalid");
  });

  it("keeps slots of different sizes from overlapping", () => {
    const m = new UserMemory();
    m.addRegion({ vaddr: V, size: 8 * SZ_1G, kind: "hugetlb1g", seed: 5 });
    const small = m.addRegion({ vaddr: V + 16 * SZ_1G, size: 0x400000, kind: "scattered", seed: 5 });
    const big = m.allRegions[0]!;
    const bigSlots = new Set(big.slots.map((p) => Math.floor(p / (SZ_1G / 4096))));
    for (const p of small.slots) expect(bigSlots.has(Math.floor(p / (SZ_1G / 4096)))).toBe(false);
  });

  it("refuses overlap, bad alignment and exhaustion without changing state", () => {
    const m = new UserMemory();
    m.addRegion({ vaddr: V, size: 0x10000, kind: "scattered" });
    expect(errCode(() => m.addRegion({ vaddr: V + 0xf000, size: 0x2000, kind: "scattered" }))).toBe(
      "overlap",
    );
    expect(errCode(() => m.addRegion({ vaddr: V + 0x100000, size: 0x1000, kind: "hugetlb2m" }))).toBe(
      "invalid",
    );
    expect(errCode(() => m.addRegion({ vaddr: V + 0x123, size: 0x1000, kind: "scattered" }))).toBe("invalid");
    expect(errCode(() => m.addRegion({ vaddr: V, size: 0, kind: "scattered" }))).toBe("invalid");
    // 60 one-GiB slots exist; the 61st window cannot be placed.
    const h = new UserMemory();
    h.addRegion({ vaddr: 0, size: 59 * SZ_1G, kind: "hugetlb1g" });
    expect(errCode(() => h.addRegion({ vaddr: 64 * SZ_1G, size: 2 * SZ_1G, kind: "hugetlb1g" }))).toBe(
      "nomem",
    );
    expect(h.allRegions).toHaveLength(1);
    h.addRegion({ vaddr: 64 * SZ_1G, size: SZ_1G, kind: "hugetlb1g" }); // the slot was released
  });

  it("reports holes between regions and merges nothing across them", () => {
    const m = new UserMemory();
    m.addRegion({ vaddr: V, size: 0x1000, kind: "scattered" });
    m.addRegion({ vaddr: V + 0x3000, size: 0x1000, kind: "scattered", seed: 2 });
    expect(m.layout(V - 0x1000, 0x6000).map((p) => `${p.kind}:${p.size.toString(16)}`)).toEqual([
      "hole:1000",
      "run:1000",
      "hole:2000",
      "run:1000",
      "hole:1000",
    ]);
  });
});

describe("pin_user_pages_remote", () => {
  it("pins until the count, a gap or a read-only page under FOLL_WRITE; 0 pinned is -EFAULT", () => {
    const m = new UserMemory();
    m.addRegion({ vaddr: V, size: 0x3000, kind: "scattered" });
    m.addRegion({ vaddr: V + 0x3000, size: 0x2000, kind: "scattered", seed: 2, readOnly: true });
    const pages = new Float64Array(16);
    expect(m.pinUserPagesRemote(V, 2, true, pages)).toBe(2);
    expect(pages[0]).toBe(m.translate(V)! / 4096);
    // crosses into the adjacent region, stops at its read-only pages for a write pin
    expect(m.pinUserPagesRemote(V + 0x1000, 16, true, pages)).toBe(2);
    expect(m.pinUserPagesRemote(V + 0x1000, 16, false, pages)).toBe(4);
    expect(m.pinUserPagesRemote(V + 0x3000, 1, true, pages)).toBe(-14);
    expect(m.pinUserPagesRemote(V + 0x5000, 1, false, pages)).toBe(-14);
    expect(m.pinned).toBe(8);
    expect(m.pinCount(V + 0x1000)).toBe(3);
  });

  it("unpins by frame and WARNs on a page that is not pinned", () => {
    const counters = new IommuCounters();
    const m = new UserMemory(counters);
    m.addRegion({ vaddr: V, size: SZ_2M, kind: "hugetlb2m" });
    const pages = new Float64Array(512);
    expect(m.pinUserPagesRemote(V, 512, true, pages)).toBe(512);
    m.unpinUserPages(pages[0]!, 512);
    expect(m.pinned).toBe(0);
    expect(counters.warns).toBe(0);
    m.unpinUserPages(pages[0]!, 1);
    m.unpinUserPages(0x100, 1); // a frame no region owns
    expect(counters.warns).toBe(2);
    expect(m.pinned).toBe(0);
  });
});
