// drivers/iommu/mtk_iommu_v1.c read back: the inspector over the flat table, also on partial images.
import { IOMMU_READ, IOMMU_WRITE, iommuDomainInspector, iommuMap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { MtkIommuV1Inspector } from "./inspect.js";
import { MtkIommuV1 } from "./mtk-iommu-v1.js";
import { makeMtk } from "./testing/make.js";

describe("MtkIommuV1Inspector", () => {
  it("one level of 2^20 descriptors: leaves are read/write 4 KiB pages, invalid descriptors are reported", () => {
    const t = makeMtk();
    iommuMap(t.d, 0x7_0000, 0x2345_6000, 0x2000, IOMMU_READ);
    t.allocator.mem.write32(t.d.pgtPa + 4 * 0x90, 0x5000_0008);
    const insp = iommuDomainInspector(t.d)!;
    expect(insp.geometry()).toMatchObject({
      format: "mtk_iommu_v1",
      levels: 1,
      topEntries: 1 << 20,
      entryBytes: 4,
    });
    const w = insp.walk(0x7_1abc);
    expect(w).toMatchObject({ end: "leaf", phys: 0x2345_7abcn, length: 0x1000 });
    expect(w.steps[0]!.prot).toBe(IOMMU_READ | IOMMU_WRITE);
    expect(w.steps[0]!.fields.map((f) => f.name)).toEqual(["PA", "NONSEC", "VALID", "ignored"]);
    expect(insp.walk(0x9_0000)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(0x1_0000_0000).end).toBe("out-of-range");
    expect(insp.stats()).toMatchObject({ tables: 1, leafItems: 2, invalidNonZero: 1, mappedBytes: 0x2000n });
    const seen: number[] = [];
    insp.visit((e) => seen.push(e.index), { from: 0x7_1000, to: 0xf_ffff });
    expect(seen).toEqual([0x71, 0x90]);
  });

  it("no inspector before the table exists; never throws once the table memory is gone", () => {
    const m4u = new MtkIommuV1();
    const d = m4u.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(iommuDomainInspector(d)).toBe(null);
    const t = makeMtk();
    const insp = new MtkIommuV1Inspector(t.d);
    t.allocator.reset();
    expect(insp.walk(0).end).toBe("missing-table");
    expect(() => insp.stats()).not.toThrow();
  });
});
