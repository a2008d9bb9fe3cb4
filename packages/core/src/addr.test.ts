import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  and64,
  checkAddr,
  ffs,
  fls,
  fromPfn,
  hex,
  offOf,
  or64,
  pfnOf,
  toBigInt,
  toNumber,
  toU64,
  u64Less,
} from "./addr.js";
import { IommuError } from "./errno.js";

describe("addresses", () => {
  it("splits any u64 exactly into frame and offset, from numbers or bigints", () => {
    for (const a of [0n, 0xfffn, 1n << 52n, (1n << 57n) + 0x123n, (1n << 64n) - 1n]) {
      expect(BigInt(pfnOf(a))).toBe(a >> 12n);
      expect(BigInt(offOf(a))).toBe(a & 0xfffn);
      expect(toBigInt(fromPfn(pfnOf(a), offOf(a)))).toBe(a);
    }
    expect([pfnOf(0x12345678), offOf(0x12345678)]).toEqual([0x12345, 0x678]);
  });

  it("returns numbers while safe and bigints above 2^53", () => {
    expect(fromPfn(0x1234, 0x10)).toBe(0x1234010);
    expect(fromPfn(2 ** 45, 1)).toBe((1n << 57n) + 1n);
  });

  it("round-trips every u64 through frame/offset (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a) => {
        expect(toBigInt(fromPfn(pfnOf(a), offOf(a)))).toBe(a);
        expect(BigInt(pfnOf(a)) * 4096n + BigInt(offOf(a))).toBe(a);
      }),
      { numRuns: 2000 },
    );
  });

  it("validates user input: negative, unsafe or too wide values are EINVAL", () => {
    expect(() => checkAddr(2 ** 53)).toThrow(IommuError);
    expect(() => checkAddr(-1)).toThrow(IommuError);
    expect(() => checkAddr(1n << 64n)).toThrow(IommuError);
    expect(checkAddr((1n << 64n) - 1n)).toBe((1n << 64n) - 1n);
    // A string (from a config file, a CLI argument) is refused by name, not by a BigInt mix-up.
    expect(() => checkAddr("0x1000" as unknown as number)).toThrow(
      /^addr: EINVAL \(an address is a number or a bigint, got string\)$/,
    );
    expect(() => checkAddr(undefined as unknown as number)).toThrow(/got undefined\)$/);
    expect(() => toNumber((1n << 60n) + 1n)).toThrow(IommuError);
    expect(toNumber(1n << 60n)).toBe(2 ** 60);
  });

  it("prints harness-style hex, u64 wrap included", () => {
    expect(hex(0)).toBe("0x0");
    expect(hex(0xabc)).toBe("0xabc");
    expect(hex(-2)).toBe("0xfffffffffffffffe");
    expect(hex((1n << 64n) - 34n)).toBe("0xffffffffffffffde");
    expect(hex(2 ** 63)).toBe("0x8000000000000000");
    expect(toU64(-34)).toBe((1n << 64n) - 34n);
  });

  it("compares size_t-style numbers unsigned", () => {
    expect(u64Less(0x1000, 0x2000)).toBe(true);
    expect(u64Less(-2, 0x2000)).toBe(false);
    expect(u64Less(0x2000, -2)).toBe(true);
    expect(u64Less(-3, -2)).toBe(true);
  });

  it("bit helpers work across the 32-bit boundary", () => {
    expect(ffs(0)).toBe(-1);
    expect(ffs(2 ** 40 + 2 ** 45)).toBe(40);
    expect(fls(2 ** 63)).toBe(63);
    expect(fls(2 ** 64)).toBe(64);
    expect(fls(0x40201000)).toBe(30);
    expect(and64(2 ** 42 + 0x40201000, 2 ** 42 + 0x1000)).toBe(2 ** 42 + 0x1000);
    expect(or64(2 ** 42, 0x1000)).toBe(2 ** 42 + 0x1000);
  });
});

describe("modPow2 and testBit", () => {
  it("are exact for large values", async () => {
    const { modPow2, testBit } = await import("./addr.js");
    expect(modPow2(2 ** 63 + 2 ** 40, 2 ** 41)).toBe(2 ** 40);
    expect(modPow2(0xffff_ffff_f000, 0x1000)).toBe(0);
    expect(modPow2(0x1234_5678_9abc, 0x1000)).toBe(0xabc);
    expect(testBit(2 ** 63, 63)).toBe(true);
    expect(testBit(2 ** 63, 62)).toBe(false);
    expect(testBit(0x40201000, 21)).toBe(true);
  });
});
