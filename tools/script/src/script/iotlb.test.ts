/**
 * The script languages' model-only IOTLB commands (`iotlb on|off|show`, `access`) in
 * `iommu script` and `iommu vfio-script`, over the core's IOTLB model fed by the driver
 * behind the domain.
 */
import { describe, expect, it } from "vitest";
import { createFamilies } from "../registry.js";
import { runVfioScript } from "../vfio-script/run.js";
import { runScript, ScriptSession } from "./engine.js";
import { IOTLB_FEEDS, parseIotlbOn } from "./iotlb.js";

const families = createFamilies();
const run = (lines: string[]) =>
  runScript(`${lines.join("\n")}\n`, { families })
    .trimEnd()
    .split("\n");

describe("iommu script: iotlb on / access / iotlb show", () => {
  it("VT-d: a miss walks and fills, a hit is served, an unmap's invalidation empties the IOTLB", () => {
    const out = run([
      "fmt driver=intel",
      "access 0x1000 read",
      "iotlb on entries 8 walk 4 policy fifo",
      "map 0x200000 0x80000000 0x4000 rw",
      "access 0x201010 read",
      "access 0x201020 write",
      "access 0x205000 read",
      "iotlb show",
      "unmap 0x200000 0x4000",
      "access 0x201010 read",
    ]);
    expect(out[1]).toBe("err iotlb-off");
    expect(out[2]).toMatch(/^ok iotlb driver=intel tag=0x[0-9a-f]+ entries=8 walk=4 policy=fifo$/);
    expect(out.slice(3, 7)).toEqual([
      "ok mapped=0x4000",
      "ok phys=0x80001010 miss walk leaf=0x201000+0x1000 prot=rw",
      "ok phys=0x80001020 hit leaf=0x201000+0x1000 prot=rw",
      // Unmapped: the walk starts from the walk cache the first access filled.
      "err fault miss walk walk-cache",
    ]);
    const show = out.slice(7, out.indexOf("unmapped=0x4000"));
    expect(show[0]).toMatch(
      /^iotlb driver=intel .* entries=1\/8 walk=4\/4 policy=fifo accesses=3 hits=1 misses=2 walks=2 walk_hits=1 faults=1 /,
    );
    expect(show).toContain("entry tag=0x2 iova=0x201000 size=0x1000 phys=0x80001000 prot=rw");
    expect(show.filter((l) => l.startsWith("walk tag="))).toHaveLength(4);
    expect(show.at(-1)).toBe("end entries=1 walk=4 findings=0");
    // After the unmap (iotlb_sync invalidated the page) the access walks again and faults.
    expect(out.at(-1)).toBe("err fault miss walk walk-cache");
  });

  it("findings are printed: an entry the table does not have is sync-stale on the map that changes it, then a stale access", () => {
    const s = new ScriptSession({ families });
    for (const l of ["fmt driver=intel", "iotlb on", "map 0x200000 0x80000000 0x2000 rw"]) s.line(l);
    // Plant a translation the page table never had (what a lost invalidation leaves behind).
    const io = s.iotlb!;
    io.model.insert(0x300000, 0x1000, 0x9000_0000, 3);
    // Mapping the page now makes the planted entry stale; VT-d does not flush on map.
    const mp = s.line("map 0x300000 0x80100000 0x1000 rw");
    expect(mp[0]).toBe("ok mapped=0x1000");
    expect(mp[1]).toMatch(
      /^finding sync-stale op=map iova=0x300000 size=0x1000 cache=iotlb: map returned with a stale IOTLB entry/,
    );
    const acc = s.line("access 0x300abc write");
    expect(acc[0]).toBe("ok phys=0x90000abc hit leaf=0x300000+0x1000 prot=rw");
    expect(acc[1]).toMatch(
      /^finding stale-access op=access iova=0x300abc size=0x1 cache=iotlb: device write of 0x300abc/,
    );
    const show = s.line("iotlb show");
    expect(show).toContain("entry tag=0x2 iova=0x300000 size=0x1000 phys=0x90000000 prot=rw stale(map)");
    expect(show.filter((l) => l.startsWith("finding "))).toHaveLength(2);
    expect(show.at(-1)).toBe("end entries=1 walk=0 findings=2");
    s.close();
  });

  it("AMD and Apple DART use their own feeds", () => {
    const amd = run([
      "fmt driver=amd",
      "iotlb on",
      "map 0x200000 0x80000000 0x200000 rw",
      "access 0x201010 read",
      "unmap 0x200000 0x200000",
      "iotlb show",
    ]);
    expect(amd[1]).toMatch(/^ok iotlb driver=amd /);
    expect(amd[3]).toBe("ok phys=0x80001010 miss walk leaf=0x200000+0x200000 prot=rw");
    expect(amd.at(-1)).toBe("end entries=0 walk=0 findings=0");
    expect(amd.at(-2)).toMatch(/invalidations=1 .*bytes_unmapped=0x200000 bytes_invalidated=0x200000$/);
    const dart = run([
      "fmt driver=apple-dart hw=t8103",
      "iotlb on",
      "map 0 0x80000000 0x4000 rw",
      "access 0x10 read",
      "unmap 0 0x4000",
      "iotlb show",
    ]);
    expect(dart[1]).toMatch(/^ok iotlb driver=apple-dart /);
    expect(dart.at(-2)).toMatch(/entries=0\/64 .* full=2 /);
  });

  it("errors: no table, a driver without a feed, bad arguments, off", () => {
    expect(run(["iotlb on", "access 0 read"])).toEqual(["err no-fmt", "err no-fmt"]);
    expect(run(["fmt driver=arm-smmu", "iotlb on"])[1]).toBe("err no-iotlb-feed");
    const bad = run([
      "fmt driver=intel",
      "iotlb on entries 0",
      "iotlb on policy mru",
      "iotlb on walk",
      "iotlb",
      "iotlb show",
      "iotlb on",
      "access 0x1000",
      "access 0x1000 exec",
    ]);
    expect(bad.slice(1)).toEqual([
      "err bad-args",
      "err bad-args",
      "err bad-args",
      "err bad-args",
      "err iotlb-off",
      expect.stringMatching(/^ok iotlb /),
      "err bad-args",
      "err bad-args",
    ]);
    // A new fmt or free drops the model with the table.
    expect(run(["fmt driver=intel", "iotlb on", "free", "fmt driver=intel", "iotlb show"]).at(-1)).toBe(
      "err iotlb-off",
    );
    expect(run(["fmt driver=intel", "iotlb on", "iotlb off", "iotlb show"]).slice(2)).toEqual([
      "ok iotlb off",
      "err iotlb-off",
    ]);
  });

  it("option parsing", () => {
    expect(parseIotlbOn([])).toEqual({});
    expect(parseIotlbOn(["entries", "0x10", "walk", "0", "policy", "lru"])).toEqual({
      capacity: 16,
      walkCache: 0,
      replacement: "lru",
    });
    expect(parseIotlbOn(["entries", "-1"])).toBeUndefined();
    expect(IOTLB_FEEDS.map((f) => f.driver)).toEqual([
      "arm-smmu-v3",
      "arm-smmu",
      "intel",
      "amd",
      "apple-dart",
      "exynos",
      "rockchip",
      "sun50i",
      "sprd",
      "tegra-smmu",
      "mtk-iommu-v1",
      "s390",
      "omap",
      "ipmmu-vmsa",
      "msm",
      "mtk-iommu",
      "virtio-iommu",
    ]);
  });

  it.each([
    ["exynos", "fmt exynos"],
    ["rockchip", "fmt rockchip v1"],
    ["sun50i", "fmt sun50i"],
    ["sprd", "fmt sprd"],
    ["tegra-smmu", "fmt tegra"],
    ["mtk-iommu-v1", "fmt mtk_v1"],
    ["omap", "fmt omap"],
  ])("the direct driver %s: iotlb on, a cached access, an unmap that drops it", (driver, fmt) => {
    const out = run([
      fmt,
      "iotlb on entries 8",
      "map 0x100000 0x80000000 0x1000 rw",
      "access 0x100010 read",
      "access 0x100020 read",
      "unmap 0x100000 0x1000",
      "access 0x100010 read",
      "iotlb show",
    ]);
    expect(out[1]).toMatch(new RegExp(`^ok iotlb driver=${driver} `));
    expect(out.find((l) => l.startsWith("ok phys=0x80000020"))).toMatch(/ hit /);
    expect(out.filter((l) => l.startsWith("finding"))).toEqual([]);
    expect(out.at(-1)).toMatch(/^end entries=0 /);
  });

  it("s390: the driver harness calls no iotlb_sync, so the RPCIT never comes and the checker says so", () => {
    const out = run([
      "fmt s390",
      "iotlb on entries 8",
      "map 0x100000 0x80000000 0x1000 rw",
      "access 0x100010 read",
      "unmap 0x100000 0x1000",
      "access 0x100010 read",
    ]);
    expect(out[1]).toMatch(/^ok iotlb driver=s390 /);
    expect(out.filter((l) => l.startsWith("finding")).map((l) => l.split(" ").slice(0, 3).join(" "))).toEqual(
      ["finding sync-stale op=unmap", "finding stale-access op=access"],
    );
  });
});

describe("iommu vfio-script: iotlb on / access / iotlb show", () => {
  const script = [
    "container",
    "mem 7f0000000000 200000 hugetlb2m seed 11",
    "domain attach",
    "iotlb on",
    "map_dma 7f0000000000 40000000 200000 rw",
    "access 40001234 write",
    "access 40101234 read",
    "iotlb show",
    "unmap_dma 40000000 200000",
    "access 40001234 read",
    "iotlb show",
  ];

  it("arm-smmu-v3 domains: a 2 MiB block is one entry, UNMAP_DMA's TLBI + CMD_SYNC drop it", () => {
    const out = runVfioScript(`${script.join("\n")}\n`, { domains: "smmu" })
      .trimEnd()
      .split("\n");
    expect(out[3]).toBe("ok iotlb driver=arm-smmu-v3 tag=0x1 entries=64 walk=0 policy=lru");
    expect(out[5]).toMatch(/^ok phys=0x[0-9a-f]+ miss walk leaf=0x40000000\+0x200000 prot=rw$/);
    expect(out[6]).toMatch(/^ok phys=0x[0-9a-f]+ hit leaf=0x40000000\+0x200000 prot=rw$/);
    expect(BigInt(out[6]!.split(" ")[1]!.slice(5)) - BigInt(out[5]!.split(" ")[1]!.slice(5))).toBe(0x100000n);
    expect(out).toContain("end entries=1 walk=0 findings=0");
    const i = out.indexOf("ok unmapped=0x200000");
    expect(out[i + 1]).toBe("err fault miss walk");
    expect(out.at(-1)).toBe("end entries=0 walk=0 findings=0");
  });

  it("the io-pgtable drivers of the reference harness have no feed", () => {
    const out = runVfioScript(`${script.slice(0, 4).join("\n")}\n`)
      .trimEnd()
      .split("\n");
    expect(out[3]).toBe("err no-iotlb-feed");
    expect(runVfioScript("iotlb on\n")).toBe("err no-container\n");
    expect(runVfioScript("container\naccess 0 read\n").split("\n")[1]).toBe("err iotlb-off");
  });
});
