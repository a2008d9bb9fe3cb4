import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_TOKENS, parseHex, parseNum, parseProt, tokenize } from "./parse.js";

describe("tokenize", () => {
  it("strips comments and splits on the harness whitespace set", () => {
    expect(tokenize("map 1000\t2000 \r 1000 rw # comment # more")).toEqual([
      "map",
      "1000",
      "2000",
      "1000",
      "rw",
    ]);
    expect(tokenize("   # only a comment")).toEqual([]);
    expect(tokenize("")).toEqual([]);
    expect(tokenize("echo a#b")).toEqual(["echo", "a"]);
  });
  it("keeps only the first 32 tokens", () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    expect(tokenize(words.join(" "))).toEqual(words.slice(0, MAX_TOKENS));
  });
});

describe("parseHex", () => {
  it("accepts digits with or without 0x", () => {
    expect(parseHex("1000")).toBe(4096);
    expect(parseHex("0x1000")).toBe(4096);
    expect(parseHex("0X1000")).toBe(4096);
    expect(parseHex("DeadBeef")).toBe(0xdeadbeef);
    expect(parseHex("0")).toBe(0);
    expect(parseHex("0x0")).toBe(0);
  });
  it("needs the whole token and 64 bits", () => {
    expect(parseHex("0x")).toBeUndefined();
    expect(parseHex("12g")).toBeUndefined();
    expect(parseHex("-")).toBeUndefined();
    expect(parseHex("ffffffffffffffff")).toBe(0xffffffffffffffffn);
    expect(parseHex("10000000000000000")).toBeUndefined();
  });
  it("returns bigints above 2^53 - 1 and negates mod 2^64", () => {
    expect(parseHex("1fffffffffffff")).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseHex("20000000000000")).toBe(1n << 53n);
    expect(parseHex("-1")).toBe((1n << 64n) - 1n);
    expect(parseHex("-0x1000")).toBe((1n << 64n) - 4096n);
    expect(parseHex("-0")).toBe(0);
    expect(parseHex("+10")).toBe(16);
  });
});

describe("parseNum", () => {
  it("hex, octal, decimal", () => {
    expect(parseNum("16")).toBe(16);
    expect(parseNum("0x10")).toBe(16);
    expect(parseNum("020")).toBe(16);
    expect(parseNum("0")).toBe(0);
    expect(parseNum("08")).toBeUndefined();
    expect(parseNum("0x")).toBeUndefined();
    expect(parseNum("1a")).toBeUndefined();
    expect(parseNum("18446744073709551615")).toBe(0xffffffffffffffffn);
    expect(parseNum("18446744073709551616")).toBeUndefined();
    expect(parseNum("-2")).toBe((1n << 64n) - 2n);
  });
});

describe("parseProt", () => {
  it("letters and numbers", () => {
    expect(parseProt("rw")).toBe(3);
    expect(parseProt("rwcxmp")).toBe(0x3f);
    expect(parseProt("rrw-")).toBe(3);
    expect(parseProt("-")).toBe(0);
    expect(parseProt("3")).toBe(3);
    expect(parseProt("0x11")).toBe(0x11);
    expect(parseProt("010")).toBe(8);
    expect(parseProt("q")).toBeUndefined();
    expect(parseProt("rq")).toBeUndefined();
    expect(parseProt("3x")).toBeUndefined();
  });
});

describe("number parsing against a BigInt reference (strtoull semantics)", () => {
  const TWO64 = 1n << 64n;
  const norm = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const u64 = fc.bigInt({ min: 0n, max: TWO64 - 1n });

  it("hex with and without 0x, any case", () => {
    fc.assert(
      fc.property(u64, fc.constantFrom("", "0x", "0X"), fc.boolean(), (v, prefix, upper) => {
        const digits = upper ? v.toString(16).toUpperCase() : v.toString(16);
        expect(parseHex(prefix + digits)).toBe(norm(v));
        expect(parseHex(`-${prefix}${digits}`)).toBe(norm((TWO64 - v) % TWO64));
      }),
    );
  });

  it("num: decimal, 0-prefixed octal, 0x hex", () => {
    fc.assert(
      fc.property(u64, (v) => {
        expect(parseNum(v.toString(10))).toBe(norm(v));
        expect(parseNum(`0${v.toString(8)}`)).toBe(norm(v));
        expect(parseNum(`0x${v.toString(16)}`)).toBe(norm(v));
      }),
    );
  });

  it("values of 2^64 and above are invalid", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: TWO64, max: TWO64 * TWO64 }), (v) => {
        expect(parseHex(v.toString(16))).toBeUndefined();
        expect(parseNum(v.toString(10))).toBeUndefined();
        expect(parseHex(`-${v.toString(16)}`)).toBeUndefined();
      }),
    );
  });
});
