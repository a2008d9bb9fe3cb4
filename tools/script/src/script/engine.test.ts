import { describe, expect, it } from "vitest";
import { runScript } from "./engine.js";
import { splitLines } from "./lines.js";
import { createFakeFamily } from "./testing/fake-family.js";

function run(script: string, stderr?: (s: string) => void): string {
  return runScript(script, { families: [createFakeFamily()], stderr });
}

/** Script lines joined, output lines joined: each `\n`-terminated. */
const text = (...lines: string[]) => lines.map((l) => `${l}\n`).join("");

describe("lexing and harness commands", () => {
  it("counts every line (blank and comment ones too) for unknown commands", () => {
    expect(run(text("# comment", "", "   ", "frob 1 2", "echo a # b", "Echo"))).toBe(
      text("err unknown-command line 4", "a", "err unknown-command line 6"),
    );
  });

  it("echo joins tokens with single spaces, empty line without words", () => {
    expect(run(text("echo  a \t  b", "echo", "echo x\r"))).toBe(text("a b", "", "x"));
  });

  it("accepts CRLF input and a last line without newline", () => {
    expect(run("echo a\r\necho b")).toBe(text("a", "b"));
  });

  it("keeps only 32 tokens", () => {
    const words = Array.from({ length: 40 }, (_, i) => String(i));
    expect(run(`echo ${words.join(" ")}\n`)).toBe(text(words.slice(0, 31).join(" ")));
  });

  it("splits over-long lines like fgets with a 1024-byte buffer", () => {
    const long = "x".repeat(1023);
    expect(splitLines(`${long}\necho a\n`)).toEqual([long, "", "echo a"]);
    expect(run(`frob${"y".repeat(2000)}\necho z\n`)).toBe(
      text("err unknown-command line 1", "err unknown-command line 2", "z"),
    );
  });

  it("commands needing a table say err no-fmt", () => {
    const cmds = ["map 0 0 1000 rw", "map_pages 0 0 1000 1 rw", "unmap 0 1000", "unmap_pages 0 1000 1"];
    const more = ["phys 0", "walk 0", "dump", "stats", "bench-map 1", "bench-unmap 1", "bench-walk 1"];
    const all = [...cmds, ...more];
    expect(run(text(...all))).toBe(text(...all.map(() => "err no-fmt")));
  });

  it("free always answers ok freed", () => {
    expect(run(text("free", "fmt fake", "free", "phys 0"))).toBe(
      text("ok freed", "ok fmt=fake pgsize_bitmap=0x201000", "ok freed", "err no-fmt"),
    );
  });
});

describe("fmt", () => {
  it("bad-fmt and bad-args are followed by an empty line and keep the old table", () => {
    const out = run(text("fmt", "fmt nope", "fmt fake", "map 0 5000 1000 rw", "fmt fake bogus", "phys 0"));
    expect(out).toBe(
      text("err bad-fmt", "", "err bad-fmt", "", "ok fmt=fake pgsize_bitmap=0x201000", "ok mapped=0x1000") +
        text("err bad-args", "", "phys=0x5000"),
    );
  });

  it("a refused fmt leaves no table; warn= goes on fmt lines", () => {
    const fam = createFakeFamily();
    const out = runScript(text("fmt fake", "fmt fake refuse warn", "phys 0", "fmt fake warn"), {
      families: [fam],
    });
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "err alloc warn=1",
        "err no-fmt",
        "ok fmt=fake pgsize_bitmap=0x201000 warn=1",
      ),
    );
    expect(fam.created.map((t) => t.destroyed)).toEqual([true, true]); // the last one at end of run
  });
});

describe("mapping commands", () => {
  it("check the token count and every argument", () => {
    const bad = [
      "map 0 0 1000",
      "map 0 0 1000 rw x",
      "map zz 0 1000 rw",
      "map 0 0 1000 rq",
      "map 0 0 10000000000000000 rw",
      "map_pages 0 0 1000 08 rw",
      "map_pages 0 0 1000 1",
      "unmap 0",
      "unmap 0 1000 1",
      "unmap_pages 0 1000 1a",
      "phys",
      "phys 0 0",
      "walk zz",
    ];
    expect(run(text("fmt fake", ...bad))).toBe(
      text("ok fmt=fake pgsize_bitmap=0x201000", ...bad.map(() => "err bad-args")),
    );
  });

  it("map goes through the core split and reports EEXIST with the unroll", () => {
    const out = run(
      text(
        "fmt fake",
        "map 1000 1000 1000 rwc",
        "map 0 0 2000 rw",
        "map 1001 0 1000 rw",
        "map 0 0 1000 -",
        "stats",
      ),
    );
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "ok mapped=0x1000",
        "err -17 (EEXIST) mapped=0x1000 unrolled=0x1000 warn=1",
        "err -22 (EINVAL) mapped=0x0 unrolled=0x0",
        "err -22 (EINVAL) mapped=0x0 unrolled=0x0",
        "stats leaves=1 warns_total=1",
      ),
    );
  });

  it("map splits into the largest page sizes", () => {
    const out = run(text("fmt fake", "map 1ff000 1ff000 402000 rw", "dump"));
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "ok mapped=0x402000",
        "leaf iova=0x1ff000 pa=0x1ff000",
        "leaf iova=0x200000 pa=0x200000",
        "leaf iova=0x400000 pa=0x400000",
        "leaf iova=0x600000 pa=0x600000",
        "end leaves=4",
      ),
    );
  });

  it("numbers: octal counts, 0x prefixes, negative values wrap mod 2^64", () => {
    const out = run(
      text(
        "fmt fake",
        "map_pages 0x10000 20000 0x1000 010 3",
        "phys 17000",
        "map -1000 1000 1000 rw",
        "phys fffffffffffff000",
      ),
    );
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "ok mapped=0x8000",
        "phys=0x27000",
        "ok mapped=0x1000",
        "phys=0x1000",
      ),
    );
  });

  it("errno names: the harness table, E? otherwise", () => {
    const out = run(
      text(
        "fmt fake",
        "map_pages 0 0 1000 1 0x5f00",
        "map_pages 0 0 1000 1 0x6200",
        "map_pages 0 0 1000 1 0x6300",
      ),
    );
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "err -95 (EOPNOTSUPP) mapped=0x0",
        "err -98 (EADDRINUSE) mapped=0x0",
        "err -99 (E?) mapped=0x0",
      ),
    );
  });

  it("unmap sums size_t returns mod 2^64: a hole wraps, then BUG", () => {
    const out = run(
      text("fmt fake", "map 1000 1000 1000 rw", "unmap 1000 3000", "unmap 1000 1000", "unmap 1001 1000"),
    );
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "ok mapped=0x1000",
        "unmapped=0xffe warn=2 BUG",
        "unmapped=0xfffffffffffffffe warn=1",
        "unmapped=0x0",
      ),
    );
  });

  it("unmap_pages prints the u64 return; the family's gather suffix precedes warn=", () => {
    const out = run(
      text(
        "fmt fake",
        "unmap_pages 0 1000 1",
        "trace on",
        "unmap_pages 4000 1000 2",
        "trace off",
        "unmap 0 1000",
      ),
    );
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "unmapped=0xfffffffffffffffe warn=1",
        "ok trace=on",
        "unmapped=0xfffffffffffffffe gather=0x4000-0x5fff warn=1",
        "ok trace=off",
        "unmapped=0xfffffffffffffffe warn=1",
      ),
    );
  });

  it("walk: the family's line or err unsupported; dump all", () => {
    const out = run(text("fmt fake", "walk 0", "fmt fake nowalk", "walk 0", "dump all"));
    expect(out).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "walk ret=-22",
        "ok fmt=fake pgsize_bitmap=0x201000",
        "err unsupported",
        "end leaves=0 all",
      ),
    );
  });

  it("family commands may destroy the table", () => {
    expect(run(text("fmt fake", "selftest", "phys 0", "trace on"))).toBe(
      text(
        "ok fmt=fake pgsize_bitmap=0x201000",
        "selftest: completed",
        "err no-fmt",
        "err unknown-command line 4",
      ),
    );
  });

  it("WARN text goes to stderr only", () => {
    const err: string[] = [];
    run(text("fmt fake", "unmap_pages 0 1000 1"), (s) => err.push(s));
    expect(err.join("")).toMatch(/fake: hole\n$/);
  });
});

describe("bench commands", () => {
  it("print the harness line shapes", () => {
    const out = run(
      text("fmt fake", "bench-map 16", "bench-walk 16", "bench-unmap 16 1000 40000000", "bench-map x"),
    );
    const lines = out.split("\n");
    expect(lines[1]).toMatch(/^bench-map n=16 pgsize=0x1000 total_ms=\d+\.\d{3} ns\/op=\d+\.\d$/);
    expect(lines[2]).toMatch(
      /^bench-walk n=16 stride=0x1000 span=0x10000 total_ms=\d+\.\d{3} ns\/op=\d+\.\d not_identity=0$/,
    );
    expect(lines[3]).toMatch(/^bench-unmap n=16 pgsize=0x1000 total_ms=\d+\.\d{3} ns\/op=\d+\.\d failed=0$/);
    expect(lines[4]).toBe("err bad-args");
  });

  it("bench-map flags errors and warns", () => {
    const out = run(text("fmt fake", "map 40000000 0 1000 rw", "bench-map 2"));
    expect(out.split("\n")[2]).toMatch(/^bench-map n=2 pgsize=0x1000 total_ms=\S+ ns\/op=\S+ ERR warn=1$/);
  });

  it("bench-1g needs the arm64-s1 family", () => {
    expect(run(text("bench-1g"))).toBe(text("err bad-fmt", ""));
  });
});
