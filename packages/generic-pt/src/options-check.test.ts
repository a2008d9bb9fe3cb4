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

  it("a configuration the kernel refuses is still its init errno", () => {
    const m = message(() => createPtDomain("vtdss", { vaBits: 70 }));
    expect(m).toMatch(/^pt_iommu_vtdss_init: E/);
  });
});
