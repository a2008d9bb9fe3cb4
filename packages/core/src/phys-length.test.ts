import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { PhysLength } from "./phys-length.js";

describe("PhysLength prints as an address and a length", () => {
  it("toString / toJSON / console.log show phys and length, not the frame split", () => {
    const r = new PhysLength();
    r.setMapped(0x80001, 0x234, 0x200000);
    expect(String(r)).toBe("mapped phys=0x80001234 length=0x200000");
    expect(JSON.parse(JSON.stringify(r))).toEqual({ mapped: true, phys: "0x80001234", length: "0x200000" });
    expect(inspect(r)).toBe("PhysLength { mapped phys=0x80001234 length=0x200000 }");
    expect(inspect(r)).not.toContain("physPfn");
  });

  it("exact above 2^53: a 64-bit physical address and a 2^63 hole", () => {
    const r = new PhysLength();
    r.setMapped(0xf_ffff_ffff_ffff, 0xfff, 0x1000);
    expect(r.toJSON().phys).toBe("0xffffffffffffffff");
    r.setUnmapped(2 ** 63);
    expect(String(r)).toBe("unmapped length=0x8000000000000000");
  });
});
