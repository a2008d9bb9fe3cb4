// Every published @iommu package must run in a browser (the explorer runs them there): bundle
// each packages/*/src/index.ts for the browser with esbuild and fail on any Node built-in
// import, naming the package and the import. Private tools (the CLI) may use Node; the
// script engine (tools/script), which the explorer bundles, is checked too.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The part of esbuild's API used here (esbuild is Vite's dependency, not the explorer's: no types). */
interface Esbuild {
  build(options: {
    entryPoints: string[];
    bundle: true;
    write: false;
    platform: "browser";
    format: "esm";
    conditions: string[];
    logLevel: "silent";
    plugins: {
      name: string;
      setup(b: {
        onResolve(
          o: { filter: RegExp },
          cb: (a: { path: string; importer: string }) => { path: string; external: true } | undefined,
        ): void;
      }): void;
    }[];
  }): Promise<unknown>;
}
// esbuild as the explorer's Vite resolves it.
const esbuild = createRequire(createRequire(import.meta.url).resolve("vite/package.json"))(
  "esbuild",
) as Esbuild;

const NODE = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** The Node built-ins a browser bundle of `entry` imports, with the file importing each. */
async function nodeImports(entry: string): Promise<string[]> {
  const found: string[] = [];
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    conditions: ["@iommu/source"],
    logLevel: "silent",
    plugins: [
      {
        name: "node-builtins",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (a) => {
            if (!NODE.has(a.path) && !a.path.startsWith("node:")) return undefined;
            found.push(`${a.path} (imported by ${a.importer.slice(ROOT.length + 1)})`);
            return { path: a.path, external: true };
          });
        },
      },
    ],
  });
  return found;
}

function packages(): { name: string; entry: string }[] {
  const out: { name: string; entry: string }[] = [];
  for (const dir of readdirSync(join(ROOT, "packages"))) {
    const pkg = join(ROOT, "packages", dir, "package.json");
    const entry = join(ROOT, "packages", dir, "src/index.ts");
    if (!existsSync(pkg) || !existsSync(entry)) continue;
    out.push({ name: (JSON.parse(readFileSync(pkg, "utf8")) as { name: string }).name, entry });
  }
  out.push({ name: "@iommu/script", entry: join(ROOT, "tools/script/src/index.ts") });
  return out;
}

describe("browser safety", () => {
  const list = packages();

  it("finds the published packages", () => {
    expect(list.length).toBeGreaterThan(10);
  });

  it.each(list)("$name bundles for the browser without Node built-ins", async ({ name, entry }) => {
    const found = await nodeImports(entry);
    expect(found, `${name} imports Node built-ins in its runtime code: ${found.join(", ")}`).toEqual([]);
  });

  it("reports a Node import with the package and the importing file", async () => {
    // The check itself: a module importing node:fs is caught.
    const found = await nodeImports(join(ROOT, "tools/explorer/e2e/static-server.ts"));
    expect(found).toContain("node:fs/promises (imported by tools/explorer/e2e/static-server.ts)");
  });
});
