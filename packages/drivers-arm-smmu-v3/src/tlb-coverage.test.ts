/**
 * The invariant a maintainer cares about most: when iommu_unmap() returns, every IOVA that
 * stopped translating has been invalidated by a TLBI of the domain's ASID/VMID, and a
 * CMD_SYNC follows the last of them. Checked with range invalidation (RIL), where each
 * command names its own span: (NUM + 1) × 2^SCALE pages of the TG granule.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArmSmmuV3 } from "./arm-smmu-v3.js";
import type { ArmSmmuDomain } from "./domain.js";
import { CMDQ_OP_CMD_SYNC, CMDQ_OP_TLBI_NH_VA, CMDQ_OP_TLBI_S2_IPA } from "./regs.js";

const RW = IOMMU_READ | IOMMU_WRITE;

/** Granule-sized pages of [base, base + size) that translate. */
function mappedPages(d: ArmSmmuDomain, base: number, size: number, g: number): Set<number> {
  const out = new PhysLength();
  const pages = new Set<number>();
  for (let a = base; a < base + size; a += g) if (iommuIovaToPhysLength(d, a, out).mapped) pages.add(a);
  return pages;
}

describe("TLB invalidation covers everything an unmap removed", () => {
  for (const [g, stage1] of [
    [0x1000, true],
    [0x1000, false],
    [0x10000, true],
  ] as const) {
    it(`granule ${g / 1024}K ${stage1 ? "S1" : "S2"}`, () => {
      const block = g === 0x1000 ? 0x20_0000 : 0x2000_0000;
      const window = 8 * block;
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              at: fc.integer({ min: 0, max: window / g - 1 }),
              pages: fc.integer({ min: 1, max: 64 }),
              asBlock: fc.boolean(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          fc.array(
            fc.record({ at: fc.integer({ min: 0, max: 7 }), blocks: fc.integer({ min: 1, max: 3 }) }),
            {
              minLength: 1,
              maxLength: 4,
            },
          ),
          (maps, unmaps) => {
            const smmu = new ArmSmmuV3({ granules: [g], rangeInv: true, stage1 });
            const d = smmu.domainAllocPaging();
            const tag = stage1 ? d.asid : d.vmid;
            const tgShift = 10 + 2 * (g === 0x1000 ? 1 : 3);
            for (const m of maps) {
              const iova = m.asBlock ? Math.floor((m.at * g) / block) * block : m.at * g;
              const size = m.asBlock ? block : Math.min(m.pages * g, window - iova);
              if (mappedPages(d, iova, size, g).size === 0) iommuMap(d, iova, 2 ** 34 + iova, size, RW);
            }
            for (const u of unmaps) {
              const iova = u.at * block;
              const size = Math.min(u.blocks * block, window - iova);
              const before = mappedPages(d, iova, size, g);
              const mark = smmu.cmdq.prod;
              iommuUnmap(d, iova, size);
              const gone = [...before].filter((a) => !mappedPages(d, a, g, g).size);
              const log = smmu.cmdq.log(mark);
              if (gone.length === 0) continue;
              expect(log.at(-1)!.opcode).toBe(CMDQ_OP_CMD_SYNC);
              const spans = log
                .filter((e) => e.opcode === CMDQ_OP_TLBI_NH_VA || e.opcode === CMDQ_OP_TLBI_S2_IPA)
                .map((e) => {
                  expect(stage1 ? e.asid : e.vmid).toBe(tag);
                  expect(e.tg).toBe((tgShift - 10) / 2);
                  const start = Number(e.addr);
                  return [start, start + (e.num + 1) * 2 ** (e.scale + tgShift)] as const;
                });
              for (const a of gone)
                expect(
                  spans.some(([s, end]) => a >= s && a + g <= end),
                  `iova 0x${a.toString(16)}`,
                ).toBe(true);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});
