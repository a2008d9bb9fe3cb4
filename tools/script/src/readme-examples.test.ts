/**
 * Every ```ts block of every published package's README runs, and every line that states its
 * result with `// → <expected>` is checked, so the examples cannot drift from the code.
 *
 * A block is written to a module next to this package (whose dependencies include every
 * published package) and imported. Lines of the form `expr; // → expected` become checks of
 * `expr`'s value, `const x = expr; // → expected` checks `x`. An expected value is compared as:
 * hex (`0x…`, `_` ignored) or decimal (`1,024`) against a number or bigint; `true`, `false`,
 * `null`, `undefined` against `String(value)`; a quoted string with JSON equality; anything
 * else against `String(value)` (result records print themselves). Text after ` (` or ` —`
 * is commentary.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const scratch = join(here, "../.readme-examples");

interface Block {
  readme: string;
  index: number;
  line: number;
  code: string;
}

function blocks(readme: string): Block[] {
  const lines = readFileSync(join(root, readme), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    out.push({ readme, index: out.length, line: start + 1, code: lines.slice(start, end).join("\n") });
    i = end;
  }
  return out;
}

/** `expected` without its commentary (` (…`, ` —…`). */
function expectedOf(text: string): string {
  const t = text.trim();
  if (t.startsWith('"')) return t.slice(0, t.indexOf('"', 1) + 1);
  return t.split(/ \(| —/)[0]!.trim();
}

/** The block with its `// →` lines turned into checks. */
export function instrument(code: string, firstLine: number): string {
  return code
    .split("\n")
    .map((l, i) => {
      const m = /^(\s*)(.*?);?\s*\/\/ → (.*)$/.exec(l);
      if (!m || m[2]!.trim() === "") return l;
      const [, indent, stmt, rest] = m;
      const expected = JSON.stringify(expectedOf(rest!));
      const where = JSON.stringify(`line ${firstLine + i}`);
      const decl = /^(const|let)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=/.exec(stmt!);
      if (decl) return `${indent}${stmt}; __readmeCheck(${decl[2]}, ${expected}, ${where});`;
      return `${indent}__readmeCheck((${stmt}), ${expected}, ${where});`;
    })
    .join("\n");
}

function fmtValue(v: unknown, expected: string): string {
  if (/^0x[0-9a-f_]+$/i.test(expected)) {
    if (typeof v === "number" && Number.isInteger(v)) return `0x${v.toString(16)}`;
    if (typeof v === "bigint") return `0x${v.toString(16)}`;
  }
  if (/^-?[0-9][0-9,_]*$/.test(expected) && (typeof v === "number" || typeof v === "bigint"))
    return String(v);
  if (expected.startsWith('"')) return JSON.stringify(v);
  return String(v);
}

function normalize(expected: string): string {
  if (/^0x[0-9a-f_]+$/i.test(expected)) return expected.replace(/_/g, "").toLowerCase();
  if (/^-?[0-9][0-9,_]*$/.test(expected)) return expected.replace(/[,_]/g, "");
  return expected;
}

const checks: Array<{ where: string; actual: string; expected: string }> = [];
(globalThis as { __readmeCheck?: unknown }).__readmeCheck = (v: unknown, expected: string, where: string) => {
  checks.push({ where, actual: fmtValue(v, expected), expected: normalize(expected) });
};

const readmes = readdirSync(join(root, "packages"))
  .map((p) => `packages/${p}/README.md`)
  .filter((f) => {
    try {
      readFileSync(join(root, f));
      return true;
    } catch {
      return false;
    }
  });

mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("README examples run and print what they say", () => {
  it("the instrumentation turns `// →` lines into checks (and leaves other lines alone)", () => {
    expect(instrument("const n = f(); // → 0x10 (a comment)\ng(2); // → true\nh(); // plain", 1)).toBe(
      'const n = f(); __readmeCheck(n, "0x10", "line 1");\n__readmeCheck((g(2)), "true", "line 2");\nh(); // plain',
    );
  });

  for (const readme of readmes)
    for (const b of blocks(readme))
      it(`${readme} example ${b.index + 1} (line ${b.line})`, async () => {
        const file = join(scratch, `${readme.split("/")[1]}-${b.index}.ts`);
        writeFileSync(file, instrument(b.code, b.line));
        checks.length = 0;
        await import(pathToFileURL(file).href);
        for (const c of checks) expect(c.actual, `${readme} ${c.where}`).toBe(c.expected);
        // A block that states results must have run them all (no early exit).
        const stated = b.code.split("\n").filter((l) => /\/\/ → /.test(l)).length;
        expect(checks.length, `${readme}: checked lines`).toBe(stated);
      });
});
