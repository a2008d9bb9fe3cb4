import { describe, expect, it } from "vitest";
import { IommuCounters } from "./counters.js";
import { IOMMU_DOMAIN_UNMANAGED, type IommuDomain } from "./domain.js";
import { iommuPagingDomainAllocFlags } from "./domain-alloc.js";
import type { IommuDriver } from "./driver.js";
import { IommuError } from "./errno.js";
import { iommuDomainInspector, pageTableStatsOf } from "./inspect.js";
import type { PageTableInspector, PteInfo } from "./inspector.js";

function pte(p: Partial<PteInfo> & Pick<PteInfo, "kind" | "depth">): PteInfo {
  return {
    level: 0,
    tableAddr: 0,
    index: 0,
    entryBytes: 8,
    raw: 1n,
    iova: 0n,
    itemSize: 4096,
    fields: [],
    ...p,
  };
}

describe("pageTableStatsOf", () => {
  it("counts tables per depth, contiguous runs once at their leaf size, missing tables apart", () => {
    const entries: PteInfo[] = [
      pte({ kind: "table", depth: 0, nextTable: 0x2000 }),
      pte({ kind: "table", depth: 1, nextTable: 0x3000 }),
      ...Array.from({ length: 16 }, (_, i) =>
        pte({ kind: "leaf", depth: 2, leafSize: 0x10000, contigIndex: i }),
      ),
      pte({ kind: "leaf", depth: 2 }),
      pte({ kind: "leaf", depth: 1, itemSize: 0x20_0000 }),
      pte({ kind: "table", depth: 1, tableMissing: true }),
      pte({ kind: "invalid", depth: 1 }),
    ];
    const s = pageTableStatsOf((v) => {
      for (const e of entries) v(e);
    });
    expect(s.tables).toBe(3);
    expect(s.tablesByDepth).toEqual([1, 1, 1]);
    expect(s.leafItems).toBe(18);
    expect([...s.leavesBySize]).toEqual([
      [0x10000, 1],
      [0x1000, 1],
      [0x20_0000, 1],
    ]);
    expect(s.missingTables).toBe(1);
    expect(s.invalidNonZero).toBe(1);
    expect(s.mappedBytes).toBe(BigInt(17 * 4096 + 0x20_0000));
  });
});

const geometry = { apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true };
const domainOf = (ops: IommuDomain["ops"]): IommuDomain => ({
  type: IOMMU_DOMAIN_UNMANAGED,
  ops,
  pgsizeBitmap: 0x1000,
  geometry,
  counters: new IommuCounters(),
});

describe("iommuDomainInspector", () => {
  it("asks the domain's ops, and answers null without an ops table or inspect op", () => {
    const insp = {} as PageTableInspector;
    const ops = {
      name: "t",
      mapPages: () => 0,
      unmapPages: () => 0,
      iovaToPhysLength: () => {},
      inspect: () => insp,
    };
    expect(iommuDomainInspector(domainOf(ops))).toBe(insp);
    expect(iommuDomainInspector(domainOf(null))).toBeNull();
    const bare = { name: "t", mapPages: () => 0, unmapPages: () => 0, iovaToPhysLength: () => {} };
    expect(iommuDomainInspector(domainOf(bare))).toBeNull();
  });
});

describe("iommuPagingDomainAllocFlags", () => {
  const driver = (ret: IommuDomain | number): IommuDriver => ({
    name: "drv",
    pgsizeBitmap: 0x1000,
    capable: () => false,
    domainAllocPagingFlags: () => ret,
  });
  it("returns the driver's domain", () => {
    const d = domainOf(null);
    expect(iommuPagingDomainAllocFlags(driver(d))).toBe(d);
  });
  it("throws the driver's errno as an IommuError naming the driver and flags", () => {
    const e = (() => {
      try {
        iommuPagingDomainAllocFlags(driver(-95), 2);
      } catch (err) {
        return err;
      }
    })() as IommuError;
    expect(e).toBeInstanceOf(IommuError);
    expect(e.code).toBe("EOPNOTSUPP");
    expect(e.args).toEqual({ driver: "drv", flags: 2 });
  });
});
