/**
 * `iommu vfio-script` through the binary: files, --unmap-mode, bad options. The interpreter
 * and its vectors are @iommu/script's (tested there).
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { vectorFile } from "../testing/vectors.js";

const here = dirname(fileURLToPath(import.meta.url));

describe("the command", () => {
  it("runs files through the CLI entry with --unmap-mode", () => {
    const bin = join(here, "../../bin/iommu.mjs");
    const file = vectorFile("vfio", "vfio-headline-1g-hugetlb.txt");
    const r = spawnSync(process.execPath, [bin, "vfio-script", "--unmap-mode", "length", file], {
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("counts iova_to_phys=1 unmap_calls=1 ");
    const bad = spawnSync(process.execPath, [bin, "vfio-script", "--unmap-mode", "fast", file], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    const unknown = spawnSync(process.execPath, [bin, "vfio-script", "--domains", "nope", file], {
      encoding: "utf8",
    });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("iommu vfio-script: unknown --domains nope\n");
  });
});
