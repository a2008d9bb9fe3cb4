import { describe, expect, it } from "vitest";
import { runTableScript } from "./table-source.js";

const VTD = "fmt driver=intel\nmap 200000 80000000 4000 rw\nmap 400000 90000000 200000 r\n";

describe("the IOTLB panel's data", () => {
  it("off by default: no model, no status", () => {
    const t = runTableScript(`${VTD}access 201010 read\n`);
    expect(t.iotlb).toBeNull();
    expect(t.iotlbStatus).toBe("");
    // Without the model the script's access line says so.
    expect(t.lines[3]!.out).toEqual(["err iotlb-off"]);
  });

  it("with the toggle: cached entries (ascending IOVA, prot, leaf size) and walk-cache entries follow the accesses", () => {
    const t = runTableScript(
      `${VTD}access 400010 read\naccess 201010 write\naccess 203ff0 read\naccess 201000 read\n`,
      {
        iotlb: true,
      },
    );
    expect(t.iotlbStatus).toBe("ok iotlb driver=intel");
    const io = t.iotlb!;
    expect(io.driver).toBe("intel");
    expect(io.entries).toEqual([
      {
        tag: io.tag,
        iova: 0x201000n,
        end: 0x202000n,
        phys: 0x8000_1000n,
        size: 0x1000,
        prot: "rw",
        stale: null,
      },
      {
        tag: io.tag,
        iova: 0x203000n,
        end: 0x204000n,
        phys: 0x8000_3000n,
        size: 0x1000,
        prot: "rw",
        stale: null,
      },
      {
        tag: io.tag,
        iova: 0x400000n,
        end: 0x600000n,
        phys: 0x9000_0000n,
        size: 0x20_0000,
        prot: "r",
        stale: null,
      },
    ]);
    expect(io.stats).toMatchObject({ accesses: 4, hits: 1, misses: 3, walks: 3, faults: 0 });
    expect(io.findings).toEqual([]);
  });

  it("an unmap's invalidation removes what it covered; a write to a read-only leaf is a fault", () => {
    const t = runTableScript(
      `${VTD}access 201010 read\naccess 400010 read\nunmap 200000 4000\naccess 400020 write\n`,
      {
        iotlb: true,
      },
    );
    expect(t.iotlb!.entries.map((e) => e.iova)).toEqual([0x400000n]);
    expect(t.lines.at(-1)!.out).toEqual(["err perm-fault hit leaf=0x400000+0x200000 prot=r"]);
    expect(t.iotlb!.stats.invalidations).toBeGreaterThan(0);
  });

  it("walk-cache entries when the script asks for a walk cache", () => {
    const t = runTableScript(`${VTD}iotlb on walk 8\naccess 201010 read\n`, { iotlb: true });
    const walk = t.iotlb!.walk;
    expect(walk.length).toBeGreaterThan(0);
    // Ascending, each a table span containing the accessed address, none stale.
    for (const w of walk) {
      expect(w.iova <= 0x201010n && 0x201010n < w.end).toBe(true);
      expect(w.stale).toBeNull();
    }
  });

  it("a table whose driver has no feed: the reason, no model", () => {
    const t = runTableScript("fmt arm64-s1 granule 4k ias 48 oas 48\nmap 0 80000000 1000 rw\n", {
      iotlb: true,
    });
    expect(t.iotlb).toBeNull();
    expect(t.iotlbStatus).toBe("err no-iotlb-feed");
  });

  it("copies keep the toggle", () => {
    const t = runTableScript(`${VTD}access 201010 read\n`, { iotlb: true });
    expect(t.copy().iotlb?.entries).toHaveLength(1);
  });
});
