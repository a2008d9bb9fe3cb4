/**
 * Lexical layer of the kernel-harness script language (SCRIPT-FORMAT.md §1): tokens, the two
 * `strtoull` number kinds and prot flags.
 *
 * Parsed numbers follow the {@link Addr} convention: a `number` when the value is a safe
 * integer (≤ 2^53 − 1), a `bigint` above. A leading `-` negates modulo 2^64 exactly like
 * `strtoull`, so `-1` is the bigint 2^64 − 1.
 */
import type { Addr } from "@iommu/core";
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from "@iommu/core";

/** The harness keeps only this many tokens of a line; the rest are dropped silently. */
export const MAX_TOKENS = 32;

const TWO64 = 1n << 64n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const OCT_DIGITS = /^[0-7]+$/;
const DEC_DIGITS = /^[0-9]+$/;

/**
 * Split a script line into tokens: everything from the first `#` is a comment, tokens are
 * separated by space, tab, CR and LF, and only the first {@link MAX_TOKENS} are kept.
 */
export function tokenize(line: string): string[] {
  const hash = line.indexOf("#");
  const body = hash < 0 ? line : line.slice(0, hash);
  const out: string[] = [];
  for (const t of body.split(/[ \t\r\n]+/)) {
    if (t === "") continue;
    out.push(t);
    if (out.length === MAX_TOKENS) break;
  }
  return out;
}

/** Split off the sign `strtoull` accepts (`+` or `-`). */
function splitSign(tok: string): [negative: boolean, rest: string] {
  // strtoull skips leading isspace(); the tokenizer already removed all but \v and \f.
  tok = tok.replace(/^[\v\f]+/, "");
  const c = tok[0];
  if (c === "-") return [true, tok.slice(1)];
  if (c === "+") return [false, tok.slice(1)];
  return [false, tok];
}

/** Apply the sign mod 2^64, reject values that do not fit 64 bits, and pick number/bigint. */
function finish(negative: boolean, magnitude: bigint): Addr | undefined {
  if (magnitude >= TWO64) return undefined; // strtoull: ERANGE
  const v = negative && magnitude !== 0n ? TWO64 - magnitude : magnitude;
  return v <= MAX_SAFE ? Number(v) : v;
}

/**
 * A *hex* argument (addresses, sizes, page sizes, bitmaps): `strtoull(tok, &end, 16)` with the
 * whole token consumed. The `0x`/`0X` prefix is optional. Returns undefined when invalid.
 */
export function parseHex(tok: string): Addr | undefined {
  let [negative, rest] = splitSign(tok);
  if (rest.length > 2 && rest[0] === "0" && (rest[1] === "x" || rest[1] === "X")) rest = rest.slice(2);
  if (!HEX_DIGITS.test(rest)) return undefined;
  return finish(negative, BigInt(`0x${rest}`));
}

/**
 * A *num* argument (counts, ias/oas, reps): `strtoull(tok, &end, 0)`, i.e. `0x…` hex, a
 * leading `0` octal, otherwise decimal; the whole token must parse.
 */
export function parseNum(tok: string): Addr | undefined {
  const [negative, rest] = splitSign(tok);
  if (rest.length > 2 && rest[0] === "0" && (rest[1] === "x" || rest[1] === "X")) {
    const digits = rest.slice(2);
    return HEX_DIGITS.test(digits) ? finish(negative, BigInt(`0x${digits}`)) : undefined;
  }
  if (rest.length > 1 && rest[0] === "0") {
    return OCT_DIGITS.test(rest) ? finish(negative, BigInt(`0o${rest}`)) : undefined;
  }
  return DEC_DIGITS.test(rest) ? finish(negative, BigInt(rest)) : undefined;
}

/** A *num* argument as a plain number (counts); values ≥ 2^53 come back as exact-as-possible doubles. */
export function parseCount(tok: string): number | undefined {
  const v = parseNum(tok);
  return v === undefined ? undefined : Number(v);
}

const PROT_LETTERS: Readonly<Record<string, number>> = {
  r: IOMMU_READ,
  w: IOMMU_WRITE,
  c: IOMMU_CACHE,
  x: IOMMU_NOEXEC,
  m: IOMMU_MMIO,
  p: IOMMU_PRIV,
  "-": 0,
};

/**
 * A *prot* argument: a *num* when the first character is a digit, else flag letters
 * `r w c x m p` (any order, repeats allowed, `-` adds nothing). The value is the C `int` the
 * harness passes to the kernel (low 32 bits, signed). Undefined when invalid.
 */
export function parseProt(tok: string): number | undefined {
  const c = tok.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const v = parseNum(tok);
    if (v === undefined) return undefined;
    return typeof v === "bigint" ? Number(BigInt.asIntN(32, v)) : Number(BigInt.asIntN(32, BigInt(v)));
  }
  let prot = 0;
  for (const ch of tok) {
    const bit = PROT_LETTERS[ch];
    if (bit === undefined) return undefined;
    prot |= bit;
  }
  return prot;
}
