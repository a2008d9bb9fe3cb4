/**
 * `iommu iommufd-script` through the binary: a file, stdin, --read-back and a bad mode. The
 * language is @iommu/script's (tested there).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "../../bin/iommu.mjs");
// Source mode: the test does not depend on a fresh dist/ bundle.
const env = { ...process.env, IOMMU_SOURCE: "1" };
const SCRIPT =
  "mem 0x7f0000000000 2M hugetlb2m\nioas\ndomain 1 amdv1 pgsizes 2M\nmap 1 0x7f0000000000 2M 0x40000000\nreset\nunmap 1 0x40000000 2M\ncounts\n";

describe("the command", () => {
  it("runs a file with --read-back, stdin, and refuses an unknown mode", () => {
    const file = join(mkdtempSync(join(tmpdir(), "iommufd-script-")), "headline.txt");
    writeFileSync(file, SCRIPT);
    const r = spawnSync(process.execPath, [bin, "iommufd-script", "--read-back", "length", file], {
      encoding: "utf8",
      env,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("counts iova_to_phys=1 unmap_calls=1 ");
    const s = spawnSync(process.execPath, [bin, "iommufd-script"], { encoding: "utf8", input: SCRIPT, env });
    expect(s.status).toBe(0);
    expect(s.stdout).toContain("counts iova_to_phys=512 unmap_calls=1 ");
    const bad = spawnSync(process.execPath, [bin, "iommufd-script", "--read-back", "fast", file], {
      encoding: "utf8",
      env,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("iommu iommufd-script: unknown --read-back fast\n");
  });
});
