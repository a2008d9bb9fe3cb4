// drivers/iommu/tegra-smmu.c read back: the inspector's walk, visit and stats, also on partial images.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  iommuDomainInspector,
  iommuMap,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { TegraSmmuInspector } from "./inspect.js";
import { TegraSmmu } from "./tegra-smmu.js";
import { makeTegra } from "./testing/make.js";

describe("TegraSmmuInspector", () => {
  it("walks PDE → PTE with the hardware's fields; holes report 4 MiB / 4 KiB; above 4 GiB is out of range", () => {
    const { d } = makeTegra();
    iommuMap(d, 0x40_1000, 0x1234_5000, 0x1000, IOMMU_READ);
    const insp = iommuDomainInspector(d)!;
    expect(insp.geometry()).toMatchObject({
      format: "tegra-smmu",
      levels: 2,
      topEntries: 1024,
      entryBytes: 4,
    });
    const w = insp.walk(0x40_1abc);
    expect(w.end).toBe("leaf");
    expect(w.phys).toBe(0x1234_5abcn);
    expect(w.steps.map((s) => s.kind)).toEqual(["table", "leaf"]);
    expect(w.steps[1]!.prot).toBe(IOMMU_READ);
    expect(w.steps[1]!.fields.map((f) => f.name)).toEqual(["RD", "WR", "NS", "PFN"]);
    expect(insp.walk(0x40_2000)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(0x80_0000)).toMatchObject({ end: "hole", length: 0x40_0000 });
    expect(insp.walk(0x1_0000_0000).end).toBe("out-of-range");
  });

  it("visit and stats count tables and leaves", () => {
    const { d } = makeTegra();
    iommuMap(d, 0x3fe000, 0x100_0000, 0x4000, IOMMU_READ | IOMMU_WRITE);
    const insp = iommuDomainInspector(d)!;
    const s = insp.stats();
    expect([s.tables, s.leafItems, s.mappedBytes]).toEqual([3, 4, 0x4000n]);
    const seen: string[] = [];
    insp.visit((e) => seen.push(`${e.level}:${e.index}:${e.kind}`), { from: 0x40_0000, to: 0x40_0fff });
    expect(seen).toEqual(["1:1:table", "2:0:leaf"]);
  });

  it("never throws on a partial image: a PDE whose table is not in memory is reported missing", () => {
    const mem = new PhysMem();
    const allocator = new TableAllocator(mem);
    const smmu = new TegraSmmu({ allocator });
    const d = smmu.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    mem.write32(d.pd + 8, 0xf00c0000); // PDE 2 → a page table at 0xc0000000, not backed
    mem.write32(d.pd + 12, 0x02345678); // no NEXT bit: invalid
    const insp = new TegraSmmuInspector(d);
    expect(insp.walk(0x80_0000).end).toBe("missing-table");
    expect(insp.walk(0xc0_0000).end).toBe("hole");
    expect(insp.stats()).toMatchObject({ missingTables: 1, invalidNonZero: 1 });
    allocator.release(d.pd);
    expect(insp.walk(0).end).toBe("missing-table");
    expect(() => insp.stats()).not.toThrow();
  });
});
