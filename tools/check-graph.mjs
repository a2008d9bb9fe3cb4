#!/usr/bin/env node
// Enforces the dependency rules written in the root README:
// - io-pgtable, generic-pt and every caller (vfio, iommufd, drm-gpu) depend on @iommu/core only;
// - a driver (drivers-*) depends on core and page-table packages, never on another driver or a caller;
// - published packages use workspace:^ for internal deps; no cycles; no deep imports anywhere.
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
const allowed = (name, dep) => {
  if (dep === "@iommu/config") return true;
  if (!name.startsWith("@iommu/") || pkgs.get(name).json.private) return true; // tools use anything
  if (dep === "@iommu/core") return name !== "@iommu/core";
  if (name.startsWith("@iommu/drivers-")) return PAGE_TABLES.has(dep);
  return false;
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

if (errors.length) {
  for (const e of errors) console.error(`check-graph: ${e}`);
  process.exit(1);
}
console.log(`check-graph: ${pkgs.size} packages, dependency rules hold`);
