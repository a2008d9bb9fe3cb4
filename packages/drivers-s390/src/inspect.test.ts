// drivers/iommu/s390-iommu.c read back: the inspector's walk, visit and stats, also on partial images.
import { IOMMU_READ, IOMMU_WRITE, iommuDomainInspector, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import type { S390Inspector } from "./inspect.js";
import { makeS390 } from "./testing/make.js";

describe("S390Inspector", () => {
  it("walks RT → ST → PT (3 levels) with the architecture's fields; holes report the invalid entry's span", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_1000, 0x12_3456_7000, 0x1000, IOMMU_READ);
    const insp = iommuDomainInspector(t.d)! as S390Inspector;
    expect(insp.geometry()).toMatchObject({
      format: "s390-rtx",
      levels: 3,
      topEntries: 2048,
      entryBytes: 8,
      iasBits: 42,
    });
    expect([1, 2, 3].map((l) => insp.levelKind(l))).toEqual(["RT", "ST", "PT"]);
    const w = insp.walk(0x1_0000_1abc);
    expect(w).toMatchObject({ end: "leaf", phys: 0x12_3456_7abcn, length: 0x1000 });
    expect(w.steps.map((s) => s.kind)).toEqual(["table", "table", "leaf"]);
    expect(w.steps[0]!.fields.map((f) => f.name)).toEqual(["STO", "P", "TF", "I", "TT", "TL"]);
    expect(w.steps[1]!.fields.map((f) => f.name)).toEqual(["PTO", "P", "I", "TT"]);
    expect(w.steps[2]!.prot).toBe(IOMMU_READ);
    expect(insp.walk(0x1_0000_2000)).toMatchObject({ end: "hole", length: 0x1000 });
    expect(insp.walk(0x1_0010_0000)).toMatchObject({ end: "hole", length: 0x10_0000 });
    expect(insp.walk(0x2_0000_0000)).toMatchObject({ end: "hole", length: 0x8000_0000 });
    expect(insp.walk(0x400_0000_0000).end).toBe("out-of-range");
  });

  it("5 levels: RF/RS/RT/ST/PT, spans 2^53 and 2^42 for holes high up", () => {
    const t = makeS390(5);
    iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x1000, IOMMU_READ | IOMMU_WRITE);
    const insp = iommuDomainInspector(t.d)! as S390Inspector;
    expect(insp.walk(0x1_0000_0000).steps.map((s) => s.level)).toEqual([1, 2, 3, 4, 5]);
    expect(insp.walk(0xffe0_0000_0000_0000n)).toMatchObject({ end: "hole", length: 2 ** 53 });
    expect(insp.walk(0x1400_0000_0000n)).toMatchObject({ end: "hole", length: 2 ** 42 });
    expect(insp.walk(0x1_0000_0000).steps[4]!.prot).toBe(IOMMU_READ | IOMMU_WRITE);
  });

  it("stale invalid PTEs are visited as invalid; stats count tables, leaves and them", () => {
    const t = makeS390();
    iommuMap(t.d, 0x1_0000_0000, 0x9000_0000, 0x2000, IOMMU_READ);
    iommuUnmap(t.d, 0x1_0000_0000, 0x1000);
    const insp = iommuDomainInspector(t.d)!;
    expect(insp.stats()).toMatchObject({ tables: 3, leafItems: 1, invalidNonZero: 1, mappedBytes: 0x1000n });
  });

  it("never throws on a partial image: a valid entry pointing to missing memory is a missing table", () => {
    const t = makeS390();
    t.allocator.mem.write64(t.d.dmaTable + 8 * 5, 0x1_2340_0007n); // RT entry 5 → an ST not in memory
    t.allocator.mem.write64(t.d.dmaTable + 8 * 6, 0x1_2340_000bn); // valid, but an RS-type entry: invalid here
    const insp = iommuDomainInspector(t.d)!;
    expect(insp.walk(5 * 2 ** 31).end).toBe("missing-table");
    expect(insp.walk(6 * 2 ** 31).end).toBe("hole");
    expect(insp.stats()).toMatchObject({ missingTables: 1, invalidNonZero: 1 });
  });
});
