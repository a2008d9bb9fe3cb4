/**
 * The INVALIDATE_IOMMU_PAGES commands the AMD driver queues per unmap (amd_iommu_iotlb_sync →
 * amd_iommu_domain_flush_pages → build_inv_iommu_pages), flush_iotlb_all and iotlb_sync_map,
 * with the size/S-bit encoding of build_inv_address and the NpCache chunk loop. Every
 * expected word is worked out by hand from iommu.c / amd_iommu_types.h.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuFlushIotlbAll, iommuMap, iommuUnmap, SZ_2M, SZ_4K } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { AmdIommu, type AmdIommuOptions } from "./amd-iommu.js";
import { buildInvAddress, CMD_COMPL_WAIT, CMD_INV_DEV_ENTRY, CMD_INV_IOMMU_PAGES } from "./cmd.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const BASE = 0x4000_0000;

function attached(o: AmdIommuOptions = {}) {
  const u = new AmdIommu(o);
  const d = u.domainAllocPaging();
  expect(u.attachDev(d)).toBe(0);
  return { u, d, mark: u.cmd.issued };
}

function words(u: AmdIommu, mark: number) {
  return u.cmd.log(mark).map((c) => [c.type, ...c.data.map((w) => `0x${w.toString(16)}`)]);
}

describe("build_inv_address", () => {
  const cases: Array<[string, bigint, bigint, bigint]> = [
    ["one page: the page address, S clear", 0x4000_0123n, 0x10n, 0x4000_0000n],
    ["2M: bits 12..19 set, S set (first clear bit 20 → 2^21)", 0x4000_0000n, 0x20_0000n, 0x400f_f001n],
    ["8K at 0x1000 straddles 0x2000: widened to 16K at 0", 0x1000n, 0x2000n, 0x1001n],
    ["two bytes across a page boundary: two pages → 8K at 0x2000", 0x2fffn, 2n, 0x2001n],
    ["ends differing above bit 51: all pages", 0n, 0x7fff_ffff_ffff_ffffn, 0x7fff_ffff_ffff_f001n],
  ];
  for (const [name, a, s, want] of cases) it(name, () => expect(buildInvAddress(a, s)).toBe(want));
});

describe("bare metal: one command per unmap covering the gathered range", () => {
  it("a 4K unmap: INVALIDATE_IOMMU_PAGES (S clear, PDE) + COMPLETION_WAIT", () => {
    const { u, d, mark } = attached();
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    iommuUnmap(d, BASE, SZ_4K);
    // data[1] = domid 1 | type 3 << 28; data[2] = address | PDE (2); COMPLETION_WAIT: type 1 << 28.
    expect(words(u, mark)).toEqual([
      [CMD_INV_IOMMU_PAGES, "0x0", "0x30000001", "0x40000002", "0x0"],
      [CMD_COMPL_WAIT, "0x0", "0x10000000", "0x0", "0x0"],
    ]);
    expect(d.counters.flushPage).toBe(1);
  });
  it("a 2M leaf: one range command, S set", () => {
    const { u, d, mark } = attached();
    iommuMap(d, BASE, 0x1_0000_0000, SZ_2M, RW);
    iommuUnmap(d, BASE, SZ_2M);
    expect(words(u, mark)[0]).toEqual([CMD_INV_IOMMU_PAGES, "0x0", "0x30000001", "0x400ff003", "0x0"]);
    expect(d.counters.flushRange).toBe(1);
  });
  it("12K at 0x1000: one command widened to 16K at 0", () => {
    const { u, d, mark } = attached();
    iommuMap(d, 0x1000, 0x1_0000_1000, 0x3000, RW);
    iommuUnmap(d, 0x1000, 0x3000);
    const c = u.cmd.log(mark);
    expect(c.map((x) => x.type)).toEqual([CMD_INV_IOMMU_PAGES, CMD_COMPL_WAIT]);
    expect(c[0]!.data[2]).toBe(0x1003);
  });
  it("flush_iotlb_all: one all-pages command", () => {
    const { u, d, mark } = attached();
    iommuFlushIotlbAll(d);
    expect(words(u, mark)[0]).toEqual([CMD_INV_IOMMU_PAGES, "0x0", "0x30000001", "0xfffff003", "0x7fffffff"]);
    expect(u.cmd.invAll).toBe(1);
    expect(d.counters.flushAll).toBe(1);
  });
  it("iotlb_sync_map queues nothing without NpCache", () => {
    const { u, d, mark } = attached();
    iommuMap(d, BASE, 0x1_0000_0000, SZ_2M, RW);
    expect(u.cmd.issued).toBe(mark);
  });
  it("a v2 domain sets GN (guest) with PASID 0", () => {
    const u = new AmdIommu({ cmdline: { pgtbl: "v2" } });
    const d = u.domainAllocPaging();
    u.attachDev(d);
    const mark = u.cmd.issued;
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    iommuUnmap(d, BASE, SZ_4K);
    const [c] = u.cmd.log(mark);
    expect(c!.data[2]).toBe(0x4000_0006);
    expect(c!.gn).toBe(true);
  });
  it("two units: one command and one completion wait each", () => {
    const a = new AmdIommu({ name: "a" });
    const b = new AmdIommu({ name: "b" });
    const d = a.domainAllocPaging();
    a.attachDev(d, "x");
    b.attachDev(d, "y");
    const [ma, mb] = [a.cmd.issued, b.cmd.issued];
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    iommuUnmap(d, BASE, SZ_4K);
    expect([a.cmd.issued - ma, b.cmd.issued - mb]).toEqual([2, 2]);
  });
});

describe("NpCache (a VM): naturally aligned chunks", () => {
  it("12K at 0x1000: a 4K command at 0x1000 then an 8K one at 0x2000, one wait", () => {
    const { u, d, mark } = attached({ npCache: true });
    iommuMap(d, 0x1000, 0x1_0000_1000, 0x3000, RW);
    const m2 = u.cmd.issued;
    expect(m2 - mark).toBe(3);
    iommuUnmap(d, 0x1000, 0x3000);
    expect(u.cmd.log(m2).map((c) => [c.type, c.data[2]])).toEqual([
      [CMD_INV_IOMMU_PAGES, 0x1002],
      [CMD_INV_IOMMU_PAGES, 0x2003],
      [CMD_COMPL_WAIT, 0],
    ]);
  });
  it("iotlb_sync_map flushes the new mapping (the hypervisor shadows not-present entries)", () => {
    const { u, d, mark } = attached({ npCache: true });
    iommuMap(d, BASE, 0x1_0000_0000, SZ_2M, RW);
    expect(u.cmd.log(mark).map((c) => [c.type, c.data[2]])).toEqual([
      [CMD_INV_IOMMU_PAGES, 0x400f_f003],
      [CMD_COMPL_WAIT, 0],
    ]);
  });
  it("flush_iotlb_all splits [0, 2^63−1) into 63 chunks: 10 all-pages (2^62..2^53), 40 ranges (2^52..2^13), 13 one-page (2^12, then 12 sub-page chunks of the last page)", () => {
    const { u, d } = attached({ npCache: true });
    const before = {
      all: u.cmd.invAll,
      range: u.cmd.invRange,
      page: u.cmd.invPage,
      wait: u.cmd.completionWaits,
    };
    iommuFlushIotlbAll(d);
    expect([u.cmd.invAll - before.all, u.cmd.invRange - before.range, u.cmd.invPage - before.page]).toEqual([
      10, 40, 13,
    ]);
    expect(u.cmd.completionWaits - before.wait).toBe(1);
  });
});

describe("detach (detach_device)", () => {
  it("clears the DTE (INVALIDATE_DEVTAB_ENTRY + wait), then flushes the whole domain (all pages + wait)", () => {
    const { u, d } = attached();
    const mark = u.cmd.issued;
    u.detachDev();
    expect(u.cmd.log(mark).map((c) => c.type)).toEqual([
      CMD_INV_DEV_ENTRY,
      CMD_COMPL_WAIT,
      CMD_INV_IOMMU_PAGES,
      CMD_COMPL_WAIT,
    ]);
    expect(u.cmd.log(mark)[2]!.data[3]).toBe(0x7fff_ffff);
    expect(d.iommus.size).toBe(0);
    // Once detached, unmaps queue nothing.
    const m2 = u.cmd.issued;
    iommuMap(d, BASE, 0x1_0000_0000, SZ_4K, RW);
    iommuUnmap(d, BASE, SZ_4K);
    expect(u.cmd.issued).toBe(m2);
  });
});
