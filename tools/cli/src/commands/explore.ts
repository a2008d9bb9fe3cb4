/**
 * `iommu explore`: serve the page-table explorer (tools/explorer, built by `vite build` on
 * install into tools/explorer/dist) on 127.0.0.1 and print its URL; `--open` also opens it in
 * the desktop's browser. Static files only: the explorer runs the @iommu packages in the
 * browser, the server only hands out dist/.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CliError, EXIT_INPUT, EXIT_USAGE } from "../exit.js";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * tools/explorer/dist next to this CLI: the bundle runs from tools/cli/dist, the source from
 * tools/cli/src/commands; IOMMU_EXPLORER_DIR overrides.
 */
export function explorerDir(): string {
  if (process.env.IOMMU_EXPLORER_DIR) return resolve(process.env.IOMMU_EXPLORER_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  while (basename(dir) !== "cli" && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, "../explorer/dist");
}

export interface ExplorerServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve `dir` (a built explorer) on `host:port` (0 = any free port). */
export async function startExplorerServer(
  dir: string,
  port: number,
  host = "127.0.0.1",
): Promise<ExplorerServer> {
  if (!existsSync(join(dir, "index.html")))
    throw new CliError(
      `iommu explore: the explorer is not built (no ${join(dir, "index.html")}): run \`pnpm --filter @iommu/explorer run build\``,
      EXIT_INPUT,
    );
  const root = resolve(dir);
  const server: Server = createServer(async (req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = resolve(root, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      fail(
        new CliError(`iommu explore: cannot listen on ${host}:${port}: ${e.code ?? e.message}`, EXIT_INPUT),
      ),
    );
    server.listen(port, host, ok);
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}/`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

/** The desktop's "open this URL" command. */
function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  const child = spawn(cmd, args, { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`iommu explore: cannot run ${cmd}; open ${url} yourself\n`));
  child.unref();
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535)
    throw new CliError(`iommu explore: --port ${text} is not a port number`, EXIT_USAGE);
  return n;
}

export function register(program: Command): void {
  program
    .command("explore")
    .description("serve the page-table explorer (a browser app) on 127.0.0.1 and print its URL")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "8437")
    .option("--open", "open the URL in the desktop's browser")
    .addHelpText(
      "after",
      "\nThe explorer builds a table from a script, draws it level by level, walks an IOVA, and\n" +
        "compares VFIO's unmap loop today vs with iova_to_phys_length (tools/explorer/README.md).",
    )
    .action(async (opts: { port: string; open?: boolean }) => {
      const server = await startExplorerServer(explorerDir(), parsePort(opts.port));
      process.stdout.write(`${server.url}\n`);
      if (opts.open) openInBrowser(server.url);
      // Serve until interrupted.
      await new Promise<void>((done) => {
        const stop = () => void server.close().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
