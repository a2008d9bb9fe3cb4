import { IommuError } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IommuError);
    expect((e as IommuError).code).toBe("EINVAL");
    return (e as Error).message;
  }
  throw new Error("expected an IommuError");
}

describe("createPtDomain says why a configuration is malformed", () => {
  it("an unknown format, a string where a number goes, a foreign allocator", () => {
    expect(message(() => createPtDomain("amd" as "amdv1"))).toMatch(
      /^createPtDomain: EINVAL \(format: one of amdv1, .*riscv/,
    );
    expect(message(() => createPtDomain("vtdss", { vaBits: "48" as unknown as number }))).toBe(
      "createPtDomain: EINVAL (vaBits: a non-negative integer number)",
    );
    expect(message(() => createPtDomain("x86_64", { allocator: {} as never }))).toMatch(
      /allocator: a TableAllocator/,
    );
  });

  it("the driver's overrides: a page-size bitmap number, an aperture of two ordered addresses", () => {
    expect(message(() => createPtDomain("amdv1_mock", { pgsizeBitmap: "4K" as unknown as number }))).toBe(
      "createPtDomain: EINVAL (pgsizeBitmap: a non-negative integer number)",
    );
    expect(message(() => createPtDomain("amdv1_mock", { aperture: { start: -1, end: 5 } }))).toMatch(
      /aperture\.start: an address/,
    );
    expect(message(() => createPtDomain("amdv1_mock", { aperture: { start: 0, end: 2n ** 64n } }))).toMatch(
      /aperture\.end: an address/,
    );
    expect(message(() => createPtDomain("amdv1_mock", { aperture: { start: 0x2000, end: 0x1fff } }))).toMatch(
      /aperture: start ≤ end/,
    );
    const d = createPtDomain("amdv1", { aperture: { start: 0n, end: 2n ** 64n - 1n }, pgsizeBitmap: 0x1000 });
    expect([d.geometry.apertureEnd, d.pgsizeBitmap]).toEqual([2n ** 64n - 1n, 0x1000]);
  });

  it("a configuration the kernel refuses is still its init errno", () => {
    const m = message(() => createPtDomain("vtdss", { vaBits: 70 }));
    expect(m).toMatch(/^pt_iommu_vtdss_init: E/);
  });
});
