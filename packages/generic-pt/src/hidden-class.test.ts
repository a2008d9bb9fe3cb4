/**
 * Cold-path guard (issue 9 §3): a table's state keeps one V8 hidden class through every
 * operation. A number field that starts as a small integer and later takes a double (a frame
 * number or a byte count ≥ 2^31, a u32 word with bit 31 set), or a number array that first
 * holds small integers and later a table address ≥ 2^31, changes its class the first time;
 * every optimised op compiled against the old class then deoptimises ("wrong map") and is
 * compiled again, in the middle of the first pass. Two domains are made per format; one does
 * all the work at high addresses, the other stays untouched; both must still share a class.
 */
import {
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuIovaToPhysRuns,
  iommuMap,
  iommuUnmap,
  SZ_1G,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { sameHiddenClass } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import { PT_FORMAT_NAMES } from "./formats/index.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("generic_pt state keeps one hidden class (issue 9 §3: no 'wrong map' deopts)", () => {
  for (const name of PT_FORMAT_NAMES) {
    it(name, () => {
      const a = createPtDomain(name);
      const b = createPtDomain(name);
      expect(sameHiddenClass(a.pt, b.pt)).toBe(true);
      expect(sameHiddenClass(a, b)).toBe(true);
      // Output frames ≥ 2^31 (PA ≥ 2^43 where the format reaches it), IOVAs well above 4 GiB.
      const pa = a.pt.maxOasz >= 48 ? 2 ** 44 : 2 ** 31;
      const iova = 2 ** 36;
      for (let i = 0; i < 600; i++) iommuMap(a, iova + i * SZ_4K, pa + i * SZ_4K, SZ_4K, RW);
      for (let i = 0; i < 600; i++) {
        expect(iommuIovaToPhys(a, iova + i * SZ_4K + 8)).toBe(pa + i * SZ_4K + 8);
        expect(iommuIovaToPhysLength(a, iova + i * SZ_4K).mapped).toBe(true);
      }
      expect(iommuIovaToPhysRuns(a, iova, 600 * SZ_4K, () => {})).toBe(1);
      expect(iommuUnmap(a, iova, 600 * SZ_4K)).toBe(600 * SZ_4K);
      // Blocks, and one unmap of more than 2^31 bytes.
      iommuMap(a, iova, pa, 3 * SZ_1G, RW);
      iommuMap(a, iova + 4 * SZ_1G, pa, SZ_2M, IOMMU_READ);
      expect(iommuUnmap(a, iova, 3 * SZ_1G)).toBe(3 * SZ_1G);
      expect(iommuUnmap(a, iova + 4 * SZ_1G, SZ_2M)).toBe(SZ_2M);
      expect(sameHiddenClass(a.pt, b.pt)).toBe(true);
      expect(sameHiddenClass(a, b)).toBe(true);
    });
  }
});
