#!/usr/bin/env node
// Enforces the dependency rules written in the root README:
// - io-pgtable, generic-pt and every caller (vfio, iommufd) depend on @iommu/core only;
//   drm-gpu (panfrost/panthor, io-pgtable users) on core and io-pgtable;
// - a driver (drivers-*) depends on core and page-table packages, never on another driver or a caller;
// - published packages use workspace:^ for internal deps; no cycles; no deep imports anywhere;
// - published packages are browser-safe: no `node:` import in src/ outside tests and src/testing/;
// - private @iommu/testing (the test kit) depends on core only; private @iommu/script (the
//   engine) imports nothing but @iommu/* packages in its non-test src/.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const pkgs = new Map();
for (const group of ["packages", "tools"]) {
  for (const name of readdirSync(join(root, group))) {
    const file = join(root, group, name, "package.json");
    if (existsSync(file))
      pkgs.set(JSON.parse(readFileSync(file, "utf8")).name, {
        dir: join(root, group, name),
        json: JSON.parse(readFileSync(file, "utf8")),
      });
  }
}

const PAGE_TABLES = new Set(["@iommu/io-pgtable", "@iommu/generic-pt"]);
/** Internal dependencies beyond @iommu/core, by package. */
const EXTRA = new Map([["@iommu/drm-gpu", new Set(["@iommu/io-pgtable"])]]);
/** Private packages with rules of their own (other tools use anything). */
const PRIVATE_RULES = new Map([["@iommu/testing", new Set(["@iommu/core"])]]);
const allowed = (name, dep) => {
  if (dep === "@iommu/config") return true;
  if (PRIVATE_RULES.has(name)) return PRIVATE_RULES.get(name).has(dep);
  if (!name.startsWith("@iommu/") || pkgs.get(name).json.private) return true; // tools use anything
  if (dep === "@iommu/core") return name !== "@iommu/core";
  if (name.startsWith("@iommu/drivers-")) return PAGE_TABLES.has(dep);
  return EXTRA.get(name)?.has(dep) ?? false;
};

const errors = [];
const internal = (json) => ({ ...json.dependencies, ...json.peerDependencies });
for (const [name, { json }] of pkgs) {
  for (const [dep, range] of Object.entries(internal(json))) {
    if (!dep.startsWith("@iommu/")) continue;
    if (!allowed(name, dep)) errors.push(`${name} must not depend on ${dep}`);
    if (!json.private && range !== "workspace:^")
      errors.push(`${name}: ${dep} should be "workspace:^", is "${range}"`);
  }
}

// Cycles (depth-first over internal dependencies).
const state = new Map();
const visit = (name, path) => {
  if (state.get(name) === "done") return;
  if (state.get(name) === "active") {
    errors.push(`dependency cycle: ${[...path, name].join(" -> ")}`);
    return;
  }
  state.set(name, "active");
  for (const dep of Object.keys(internal(pkgs.get(name)?.json ?? {})))
    if (pkgs.has(dep)) visit(dep, [...path, name]);
  state.set(name, "done");
};
for (const name of pkgs.keys()) visit(name, []);

// Deep imports: only a package's entry point ("@iommu/x") may be imported.
const walk = (dir, out = []) => {
  for (const e of readdirSync(dir)) {
    if (e === "node_modules" || e === "dist" || e.startsWith(".")) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e)) out.push(p);
  }
  return out;
};
const deep = /from\s+["'](@iommu\/[a-z0-9-]+\/[^"']+)["']/g;
for (const { dir } of pkgs.values()) {
  for (const file of walk(dir)) {
    for (const m of readFileSync(file, "utf8").matchAll(deep)) {
      if (m[1].startsWith("@iommu/config/")) continue;
      errors.push(`${relative(root, file)}: deep import ${m[1]}`);
    }
  }
}

// What a module imports: `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`.
const specifiers = (text) =>
  [
    ...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']/g),
    ...text.matchAll(/(?:^|[\s;])import\s*["']([^"']+)["']/g),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
const isTest = (file) => /\.test(-d)?\.ts$/.test(file);
/** Non-test source files of a package (src/testing/ too unless `withTesting` is false). */
const sourceFiles = (dir, withTesting) => {
  const src = join(dir, "src");
  if (!existsSync(src)) return [];
  return walk(src).filter((f) => !isTest(f) && (withTesting || !relative(src, f).startsWith("testing/")));
};

for (const [name, { dir, json }] of pkgs) {
  if (name === "@iommu/script") {
    // The engine runs in a browser too: only @iommu/* packages and its own modules, and none
    // of Node's globals (comments and strings aside).
    for (const file of sourceFiles(dir, true)) {
      const text = readFileSync(file, "utf8");
      for (const spec of specifiers(text))
        if (!spec.startsWith(".") && !spec.startsWith("@iommu/"))
          errors.push(`${relative(root, file)}: @iommu/script imports ${spec} (only @iommu/* packages)`);
      const code = text
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "")
        .replace(/(["'`])(?:\\.|(?!\1)[^\\\n])*\1/g, '""');
      for (const m of code.matchAll(/\b(process|Buffer|__dirname|__filename|require)\b/g))
        errors.push(`${relative(root, file)}: @iommu/script uses Node's ${m[1]}`);
    }
  } else if (!json.private) {
    for (const file of sourceFiles(dir, false))
      for (const spec of specifiers(readFileSync(file, "utf8")))
        if (spec.startsWith("node:"))
          errors.push(`${relative(root, file)}: published ${name} imports ${spec} outside tests`);
  }
}

if (errors.length) {
  for (const e of errors) console.error(`check-graph: ${e}`);
  process.exit(1);
}
console.log(`check-graph: ${pkgs.size} packages, dependency rules hold`);
