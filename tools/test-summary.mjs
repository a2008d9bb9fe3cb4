#!/usr/bin/env node
// Runs every package's tests through turbo (--continue, so one failure does not hide the
// rest), then sums the vitest JSON reports (turbo restores them on cache hits) into the one
// closing line CI reads: "N passed, N failed, N skipped". A package that has source but no
// test script, ran no test, or left no report counts as a failure.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const extra = process.argv.slice(2);
for (const group of ["packages", "tools"]) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    if (existsSync(join(dir, name, "package.json")))
      rmSync(join(dir, name, ".vitest"), { recursive: true, force: true });
  }
}
// Two packages at a time: each vitest run uses the cores it sees, and the machines here have two;
// more parallel packages only make long property runs contend (and time out) without finishing sooner.
const turbo = spawnSync("turbo", ["run", "test", "--continue", "--concurrency=2", ...extra], {
  cwd: root,
  stdio: "inherit",
});
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ["packages", "tools"]) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const pkgDir = join(dir, name);
    const pkgJson = join(pkgDir, "package.json");
    if (!existsSync(pkgJson)) continue;
    const pkg = JSON.parse(readFileSync(pkgJson, "utf8"));
    // A package with source must test it: one without a test script counts as a failure
    // (tools/config holds presets only and has no src/).
    if (!pkg.scripts?.test) {
      if (existsSync(join(pkgDir, "src"))) {
        console.error(`${pkg.name}: has src/ but no test script`);
        failed++;
      }
      continue;
    }
    const report = join(pkgDir, ".vitest/report.json");
    if (!existsSync(report)) {
      missing.push(pkg.name);
      continue;
    }
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests ?? 0;
    if (!r.numTotalTests) {
      console.error(`${pkg.name}: ran no tests`);
      failed++;
    }
    // A file that failed to load has no test results: count it as one failure.
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === "failed" && !f.assertionResults?.length,
    );
    failed += (r.numFailedTests ?? 0) + brokenFiles.length;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
}
if (missing.length) {
  console.error(`no test report for: ${missing.join(", ")}`);
  failed += missing.length;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 || turbo.status !== 0 ? 1 : 0);
