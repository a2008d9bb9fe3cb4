import { IommuError } from "./errno.js";

/**
 * An address or size as the public API takes it: a `number` when it is a safe integer
 * (below 2^53), a `bigint` for anything up to 2^64 − 1. Write the literal you mean; add `n`
 * when it is ≥ 2^53 (`0xffff_8000_0000_0000n`).
 *
 * Inside the model, hot paths never create bigints: an address is split once into its 4 KiB
 * frame number (`pfn`, always < 2^52, exact in a double) and its offset in the frame. Values
 * that are multiples of 4 KiB are exact as doubles up to 2^65, so page-granular sizes and
 * aligned addresses are carried as plain numbers even above 2^53. Outputs are numbers when
 * they are safe integers and bigints otherwise ({@link Addr}).
 */
export type Addr = number | bigint;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** 2^64 as a double (exact). Used as the kernel's ULONG_MAX sentinel where only order matters. */
export const U64_LIMIT = 2 ** 64;
const TWO32 = 2 ** 32;

/**
 * 2^n for n = 0..64. A table read: `2 ** n` with a variable exponent is a Math.pow call,
 * about 20× slower on the paths that pick page sizes.
 */
export const POW2: readonly number[] = Array.from({ length: 65 }, (_, n) => 2 ** n);
const MAX_U64 = (1n << 64n) - 1n;

function badAddr(a: Addr, why: string): never {
  throw new IommuError("EINVAL", "addr", { value: String(a) }, why);
}

/**
 * True when `a` is a value the model can carry exactly as a number: a non-negative safe
 * integer, or a multiple of 4 KiB below 2^64.
 */
export function isExactNumber(a: number): boolean {
  return a >= 0 && a < U64_LIMIT && (Number.isSafeInteger(a) || modPow2(a, PAGE_SIZE) === 0);
}

/** Validate a user-supplied address: a non-negative safe integer number or a bigint below 2^64. */
export function checkAddr(a: Addr): Addr {
  if (typeof a === "number") {
    if (!Number.isSafeInteger(a) || a < 0)
      badAddr(a, "numbers must be non-negative safe integers; pass a bigint");
  } else if (typeof a !== "bigint")
    badAddr(a, `an address is a number or a bigint, got ${a === null ? "null" : typeof a}`);
  else if (a < 0n || a > MAX_U64) badAddr(a, "outside 0..2^64-1");
  return a;
}

/** 4 KiB frame number of an address (exact for every u64). */
export function pfnOf(a: Addr): number {
  return typeof a === "number" ? Math.floor(a / PAGE_SIZE) : Number(a >> 12n);
}

/** Offset of an address inside its 4 KiB frame. */
export function offOf(a: Addr): number {
  return typeof a === "number" ? a - Math.floor(a / PAGE_SIZE) * PAGE_SIZE : Number(a & 0xfffn);
}

/**
 * `x mod m` for a non-negative integer number and a power of two `m`. V8 compiles `%` on
 * values beyond small integers to a slow fmod call (~9 ns); division by a power of two,
 * floor and the multiply-back are exact and inline (~1 ns).
 */
export function modPow2(x: number, m: number): number {
  return x - Math.floor(x / m) * m;
}

/** Rebuild an address from frame and offset: a number when safe, a bigint otherwise. */
export function fromPfn(pfn: number, off = 0): Addr {
  const v = pfn * PAGE_SIZE + off;
  if (v <= Number.MAX_SAFE_INTEGER) return v;
  return (BigInt(pfn) << 12n) | BigInt(off);
}

/** Exact bigint of an address (numbers may be exact multiples of 4 KiB above 2^53). */
export function toBigInt(a: Addr): bigint {
  if (typeof a === "bigint") return a;
  if (a < 0) return (1n << 64n) + BigInt(a); // u64 wrap, see toU64
  return BigInt(a);
}

/**
 * Convert an exact address to a number where the model computes with numbers: page-aligned
 * values stay exact up to 2^65, others must be safe integers.
 */
export function toNumber(a: Addr): number {
  if (typeof a === "number") return a;
  const n = Number(a);
  if (BigInt(n) !== a) badAddr(a, "not exactly representable: not 4 KiB aligned above 2^53");
  return n;
}

/** The number or bigint that best represents an exact value: numbers up to 2^53, bigints above. */
export function normalizeAddr(a: Addr): Addr {
  if (typeof a === "number") return Number.isSafeInteger(a) ? a : BigInt(a);
  return a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : a;
}

/**
 * A kernel `size_t`/`unsigned long` result carried as a number: values ≥ 0 are themselves,
 * a negative value v stands for 2^64 + v (an errno returned as size_t, or a wrapped sum).
 */
export function toU64(v: number): bigint {
  return v < 0 ? (1n << 64n) + BigInt(v) : BigInt(v);
}

/** Unsigned comparison of two size_t-style numbers (see {@link toU64}). */
export function u64Less(a: number, b: number): boolean {
  if (a < 0) return b < 0 && a < b;
  return b < 0 || a < b;
}

/** `0x…` lowercase hex without padding, the kernel harness style; negative numbers print as u64. */
export function hex(a: Addr): string {
  if (typeof a === "number") {
    if (a >= 0 && a <= Number.MAX_SAFE_INTEGER) return `0x${a.toString(16)}`;
    return `0x${toU64(a).toString(16)}`;
  }
  return `0x${(a < 0n ? (1n << 64n) + a : a).toString(16)}`;
}

/** Index of the lowest set bit (`__ffs`) of a non-negative integer number; -1 for 0. */
export function ffs(x: number): number {
  if (x === 0) return -1;
  // Fast path: 32-bit integer ops for values that fit.
  if (x <= 0x7fffffff) return 31 - Math.clz32(x & -x);
  let e = 0;
  while (modPow2(x, TWO32) === 0) {
    x /= TWO32;
    e += 32;
  }
  const lo = modPow2(x, TWO32);
  return e + 31 - Math.clz32(lo & -lo);
}

/** Index of the highest set bit (`__fls`) of a non-negative integer number; -1 for 0. */
export function fls(x: number): number {
  if (x < 1) return -1;
  if (x <= 0x7fffffff) return 31 - Math.clz32(x);
  let e = 0;
  while (x >= TWO32) {
    x = Math.floor(x / TWO32);
    e += 32;
  }
  return e + 31 - Math.clz32(x);
}

/** `x & GENMASK(bit, 0)` for a non-negative integer number: keep bits 0..bit. */
export function lowBits(x: number, bit: number): number {
  if (bit < 30 && x <= 0x7fffffff) return x & ((1 << (bit + 1)) - 1);
  return bit >= 63 ? x : modPow2(x, POW2[bit + 1]!);
}

/** Whether bit `n` is set in a bitmap number (exact up to bit 63 for bitmaps). */
export function testBit(x: number, n: number): boolean {
  // ToInt32 reduces modulo 2^32 exactly, so the low bit survives for any integer double.
  return (Math.floor(x / POW2[n]!) & 1) === 1;
}

/** Bitwise AND of two non-negative integer numbers below 2^64 (bitmaps). */
export function and64(a: number, b: number): number {
  const ah = Math.floor(a / TWO32);
  const bh = Math.floor(b / TWO32);
  return ((ah & bh) >>> 0) * TWO32 + ((modPow2(a, TWO32) & modPow2(b, TWO32)) >>> 0);
}

/** Bitwise OR of two non-negative integer numbers below 2^64 (bitmaps). */
export function or64(a: number, b: number): number {
  const ah = Math.floor(a / TWO32);
  const bh = Math.floor(b / TWO32);
  return ((ah | bh) >>> 0) * TWO32 + ((modPow2(a, TWO32) | modPow2(b, TWO32)) >>> 0);
}
