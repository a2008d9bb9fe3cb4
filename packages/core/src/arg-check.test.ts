import { describe, expect, it } from "vitest";
import { ArgCheck } from "./arg-check.js";
import { IommuCounters } from "./counters.js";
import { IommuError } from "./errno.js";
import { PhysMem } from "./phys-mem.js";
import { TableAllocator } from "./table-allocator.js";

function message(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IommuError);
    expect((e as IommuError).code).toBe("EINVAL");
    return (e as Error).message;
  }
  throw new Error("expected an IommuError");
}

describe("ArgCheck: a configuration field of the wrong JavaScript type is EINVAL naming it", () => {
  const check = new ArgCheck("op", "cfg.");

  it("integers: non-negative, below 2^53, numbers only; optional lets undefined through", () => {
    for (const ok of [0, 1, 2 ** 53 - 1]) expect(() => check.int("ias", ok)).not.toThrow();
    for (const bad of [-1, 1.5, 2 ** 53, "48", 48n, undefined, null])
      expect(message(() => check.int("ias", bad))).toMatch(
        /^op: EINVAL.*\(cfg\.ias: a non-negative integer number\)$/,
      );
    expect(() => check.int("ias", undefined, true)).not.toThrow();
    expect(message(() => check.int("ias", 48n))).toBe("op: EINVAL (cfg.ias: a non-negative integer number)");
  });

  it("booleans, allocators and counters by shape", () => {
    expect(() => check.bool("coherentWalk", false)).not.toThrow();
    expect(message(() => check.bool("coherentWalk", 1))).toMatch(/cfg\.coherentWalk: a boolean/);
    const counters = new IommuCounters();
    expect(() => check.allocator("allocator", new TableAllocator(new PhysMem(), { counters }))).not.toThrow();
    expect(() => check.counters("counters", counters)).not.toThrow();
    expect(message(() => check.allocator("allocator", {}))).toMatch(/cfg\.allocator: a TableAllocator/);
    expect(message(() => check.allocator("allocator", null))).toMatch(/cfg\.allocator: a TableAllocator/);
    expect(message(() => check.counters("counters", { pteReads: 0 }))).toMatch(
      /cfg\.counters: an IommuCounters/,
    );
    expect(() => check.counters("counters", undefined, true)).not.toThrow();
  });
});
