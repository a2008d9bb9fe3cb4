/**
 * The binary as a Unix tool, through real subprocesses: --version, exit codes (0 ok, 1 input,
 * 2 usage), one-line messages without stack traces, a reader closing the pipe early, --strict,
 * the demo's report path checked before the run, and one process that a signal stops.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "../bin/iommu.mjs");
const pkg = JSON.parse(readFileSync(join(here, "../package.json"), "utf8")) as { version: string };
const dir = mkdtempSync(join(tmpdir(), "iommu-cli-"));

function iommu(args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", input, cwd: dir });
}

/** stderr has no JavaScript stack frame. */
function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/Error: /);
}

describe("--version and exit codes", () => {
  it("`iommu --version` prints the version and exits 0", () => {
    const r = iommu(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it("usage errors exit 2 with a short message: unknown command, bad option value", () => {
    const unknown = iommu(["frobnicate"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown command 'frobnicate'\n/);
    expect(unknown.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    const badGranule = iommu(["demo", "--granule", "3K"]);
    expect(badGranule.status).toBe(2);
    expect(badGranule.stderr).toContain("expected 4K, 16K and/or 64K");
    noStack(badGranule.stderr);
  });

  it("input errors exit 1 with one line naming the file", () => {
    const r = iommu(["script", join(dir, "missing.txt")]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^iommu script: .*missing\.txt: ENOENT/),
    ]);
  });
});

describe("iommu script --strict", () => {
  const ok = "fmt arm64-s1\nmap 0 0 1000 rw\n";
  const bad = "fmt arm64-s1\nmap 0 0 1000 rw\nmap 0 0 1000 rw\n";

  it("exits 1 when an `err` line was printed, 0 otherwise; without --strict, 0 either way", () => {
    const strictBad = iommu(["script", "--strict", "-q", "-"], bad);
    expect(strictBad.stdout).toContain("err -17 (EEXIST)");
    expect(strictBad.status).toBe(1);
    expect(strictBad.stderr).toBe("iommu script: --strict: 1 err line\n");
    expect(iommu(["script", "--strict", "-q", "-"], ok).status).toBe(0);
    expect(iommu(["script", "-q", "-"], bad).status).toBe(0);
  });
});

describe("a reader that closes the pipe early", () => {
  // Enough output that the writer is still writing when `head` exits.
  const big = join(dir, "big.txt");
  writeFileSync(big, `fmt arm64-s1\nmap 0 0 1000 rw\n${"phys 0\n".repeat(200_000)}`);

  for (const [name, cmd] of [
    ["script", `"${process.execPath}" "${bin}" script -q "${big}" | head -1`],
    ["demo", `"${process.execPath}" "${bin}" demo --format s1 --granule 4K --no-progress | head -1`],
  ] as const)
    it(`\`iommu ${name} … | head -1\` ends quietly with status 0`, () => {
      const r = spawnSync("bash", ["-c", `${cmd}; echo "status=\${PIPESTATUS[0]}" >&2`], {
        encoding: "utf8",
      });
      expect(r.stdout.split("\n").length).toBe(2);
      expect(r.stderr).toBe("status=0\n");
    }, 60_000);
});

describe("iommu demo checks its arguments before running", () => {
  it("--report into a missing directory fails at once: exit 1, one line, nothing on stdout", () => {
    const t0 = Date.now();
    const r = iommu(["demo", "--report", "/nonexistent/x.html"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^iommu demo: --report \/nonexistent\/x\.html: cannot write in \/nonexistent/),
    ]);
    // Checked before the run: the default run takes many seconds, this not even one run's worth.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("a successful --report says where the report went", () => {
    const file = join(dir, "r.html");
    const r = iommu(["demo", "--format", "s1", "--granule", "4K", "--scenario", "block", "--report", file]);
    expect(r.status).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(r.stderr).toBe(`iommu demo: report written to ${file}\n`);
  });

  it("a combination with nothing to run says which granules the format has (exit 2)", () => {
    const r = iommu(["demo", "--granule", "64K", "--format", "sprd"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("nothing to run for --format sprd --granule 64K");
    expect(r.stderr).toContain("sprd: 4K");
    noStack(r.stderr);
  });
});

describe("one process", () => {
  it("runs without a child process, so a signal stops the whole command", async () => {
    const child = spawn(process.execPath, [bin, "demo", "--all", "--no-progress", "--repeat", "3"], {
      stdio: "ignore",
    });
    await new Promise((r) => setTimeout(r, 1500));
    const childrenFile = `/proc/${child.pid}/task/${child.pid}/children`;
    if (existsSync(childrenFile)) expect(readFileSync(childrenFile, "utf8").trim()).toBe("");
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_code, signal) => r(signal)));
    child.kill("SIGTERM");
    expect(await exited).toBe("SIGTERM");
  }, 30_000);
});
