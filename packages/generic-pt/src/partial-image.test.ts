/**
 * A table adopted from a partial image (a dump from a real machine that lacks some table
 * pages): the API reports a walk into the missing memory as a typed error (EFAULT, with the
 * address), the inspector lists the entry as pointing at missing memory, and nothing crashes
 * with an untyped exception.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  IommuError,
  iommuMap,
  PhysLength,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import { AMDV1 } from "./formats/index.js";
import { ptIommuInit } from "./init.js";
import { PtInspector } from "./inspector.js";

describe("partial images (issue: dump of a damaged image died in PtTable.tableWords)", () => {
  it("amdv1: a lookup through a table the image lacks is IommuError EFAULT naming the address", () => {
    const live = createPtDomain("amdv1");
    iommuMap(live, 0x4000_0000, 0x700_0000, 0x1000, IOMMU_READ | IOMMU_WRITE);
    const top = new PtInspector(live.pt).geometry();
    // Only the top table's page: every table below it is missing.
    const mem = new PhysMem();
    mem.importRange(top.root, live.pt.alloc.mem.exportRange(top.root, 4096));
    const counters = new IommuCounters();
    const d = AMDV1.defaults;
    const pt = ptIommuInit(
      AMDV1,
      { features: d.features, vaBits: d.vaBits, oaBits: d.oaBits, level: live.pt.topLevel },
      new TableAllocator(mem, { counters, base: top.root + 4096 }),
      counters,
      {},
      top.root,
    );
    if (typeof pt === "number") throw new Error(`adopt failed ${pt}`);
    let err: unknown;
    try {
      pt.iovaToPhysLength(0x4000_0000, new PhysLength());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IommuError);
    expect((err as IommuError).code).toBe("EFAULT");
    expect((err as IommuError).message).toMatch(
      /^generic_pt: EFAULT pa=0x[0-9a-f]+ \(a table entry points at memory the image does not hold\)$/,
    );
    // The inspector reports the same entry as pointing at missing memory, and does not throw.
    const missing: bigint[] = [];
    new PtInspector(pt).visit((e) => {
      if (e.tableMissing) missing.push(e.iova);
    });
    expect(missing.length).toBeGreaterThan(0);
  });
});
