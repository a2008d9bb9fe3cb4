/**
 * The driver harness's `fmt` lines (vectors/drivers/README.md Section A §2) for exynos,
 * rockchip, sun50i and sprd: every option and what it sets, and the one-line `err bad-fmt` of
 * a bad option (no empty line after it, unlike the kernel harness). The public vectors
 * themselves run in ../../vectors.test.ts.
 */
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";

describe("Section A fmt lines (README §2)", () => {
  const run = (text: string) => runScript(text, { families: createFamilies() });

  it("options and what they set", () => {
    const script = [
      "fmt exynos version 3.3",
      "stats",
      "fmt exynos version 7 ptbase 880000000",
      "fmt exynos ptbase 8000000",
      "fmt rockchip v2 ptbase 100000000",
      "fmt rockchip v2 ptbase 2080000000",
      "fmt rockchip",
      "fmt sun50i",
      "fmt sprd vau",
      "",
    ].join("\n");
    expect(run(script)).toBe(
      [
        "ok fmt=exynos version=3.3 pg_ent_shift=0 pgsize_bitmap=0x111000 aperture=0x0-0xffffffffffffffff pgtable=0x80004000 zero_lv2link=0x80000001",
        "stats tables_live=3 table_bytes_live=0x6400 tables_allocated_total=3 warns_total=0",
        "ok fmt=exynos version=7.0 pg_ent_shift=4 pgsize_bitmap=0x111000 aperture=0x0-0xffffffffffffffff pgtable=0x880004000 zero_lv2link=0x88000001",
        "ok fmt=exynos version=5.0 pg_ent_shift=4 pgsize_bitmap=0x111000 aperture=0x0-0xffffffffffffffff pgtable=0x8004000 zero_lv2link=0x00800001",
        "ok fmt=rockchip-v2 pgsize_bitmap=0x7ff000 aperture=0x0-0xffffffff dt=0x100000000 dte_addr_reg=0x00000101",
        "ok fmt=rockchip-v2 pgsize_bitmap=0x7ff000 aperture=0x0-0xffffffff dt=0x2080000000 dte_addr_reg=0x80000021",
        "ok fmt=rockchip-v1 pgsize_bitmap=0x7ff000 aperture=0x0-0xffffffff dt=0x80000000 dte_addr_reg=0x80000001",
        "ok fmt=sun50i pgsize_bitmap=0x1000 aperture=0x0-0xffffffff dt=0x80000000",
        "ok fmt=sprd version=vau pgsize_bitmap=0x1000 aperture=0x0-0xfffffff pgt=0x80040000 prot_page=0x80000000",
        "",
      ].join("\n"),
    );
  });

  it("a bad option of a known driver: `err bad-fmt`, and no table after it", () => {
    for (const bad of [
      "fmt exynos version 16",
      "fmt exynos version 5.128",
      "fmt exynos version",
      "fmt exynos ptbase 1000",
      "fmt exynos version 3.3 ptbase 90000000",
      "fmt exynos frob 1",
      "fmt rockchip v3",
      "fmt rockchip ptbase 100000000",
      "fmt sun50i ptbase 0",
      "fmt sprd ptbase 90000000",
      "fmt sprd v1",
    ])
      expect(run(`fmt sun50i\n${bad}\nmap 0 0 1000 rw\n`), bad).toBe(
        "ok fmt=sun50i pgsize_bitmap=0x1000 aperture=0x0-0xffffffff dt=0x80000000\nerr bad-fmt\nerr no-fmt\n",
      );
  });
});
