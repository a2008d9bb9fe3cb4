/**
 * `iommu explore`: the static server over the built explorer (tools/explorer/dist, built on
 * install; the explorer's own browser tests drive the app), its one-line error when the build
 * is missing, and the binary printing the URL it serves.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CliError } from "../exit.js";
import { explorerDir, startExplorerServer } from "./explore.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "../../bin/iommu.mjs");

describe("iommu explore", () => {
  it("finds tools/explorer/dist next to the CLI", () => {
    expect(explorerDir()).toBe(join(dirname(fileURLToPath(import.meta.url)), "../../../explorer/dist"));
  });

  it("fails with one line (exit 1) when the explorer is not built", async () => {
    const empty = mkdtempSync(join(tmpdir(), "explore-"));
    try {
      const e = await startExplorerServer(empty, 0).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(1);
      expect((e as CliError).message).toMatch(
        /^iommu explore: the explorer is not built \(no .*index\.html\): run `pnpm --filter @iommu\/explorer run build`$/,
      );
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  // The explorer's build runs on install (root `prepare`) and before these tests (turbo).
  it("is built", () => {
    expect(
      existsSync(join(explorerDir(), "index.html")),
      "run `pnpm --filter @iommu/explorer run build`",
    ).toBe(true);
  });

  it("serves the built app's files, and nothing outside dist", async () => {
    const s = await startExplorerServer(explorerDir(), 0);
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const index = await fetch(s.url);
      expect(index.status).toBe(200);
      expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await index.text();
      expect(html).toContain("<title>IOMMU page-table explorer</title>");
      const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1]!;
      const js = await fetch(s.url + script);
      expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect((await fetch(`${s.url}nope.js`)).status).toBe(404);
      expect((await fetch(`${s.url}..%2f..%2fpackage.json`)).status).not.toBe(200);
    } finally {
      await s.close();
    }
  });

  it("`iommu explore --port 0` prints the URL it serves", async () => {
    const child = spawn(process.execPath, [bin, "explore", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d;
          if (out.includes("\n")) ok(out.trim());
        });
        child.on("exit", (code) => fail(new Error(`exited ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(url)).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  }, 30_000);

  it("rejects a bad --port as a usage error", async () => {
    const child = spawn(process.execPath, [bin, "explore", "--port", "http"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    const code = await new Promise<number | null>((ok) => child.on("exit", ok));
    expect(code).toBe(2);
    expect(err).toBe("iommu explore: --port http is not a port number\n");
  }, 30_000);
});
