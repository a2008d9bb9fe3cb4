/**
 * The `virtio` script family: fmt knobs, map/unmap through the core emulation
 * with the requests reaching the device, the interval dump, stats and the length-aware lookup.
 * Expected lines are worked out by hand from the kernel rules (README "iommu script").
 */
import { describe, expect, it } from "vitest";
import { createFamilies } from "../../../registry.js";
import { runScript } from "../../engine.js";
import { parseVirtioFmt } from "./virtio.js";

const run = (lines: string[]) => runScript([...lines, ""].join("\n"), { families: createFamilies() });

describe("fmt virtio", () => {
  it("defaults: QEMU's page_size_mask, no input/domain range, PROBE and MMIO offered, one attached domain", () => {
    expect(run(["fmt virtio"])).toBe(
      "ok fmt=virtio page_size_mask=0xfffffffffffff000 features=0x34 aperture=0x0-0xffffffffffffffff domain=0 domains=0-4294967295 probe_size=512 map_flags=0x7 mode=spec host=arm64-s2 endpoints=1\n",
    );
  });
  it("negotiation knobs: input range → aperture, domain range, BYPASS_CONFIG reserves the first id, no MMIO", () => {
    expect(run(["fmt virtio input 0-ffffffff domains 1-3 probe 0 bypass 0 mmio 0 mode qemu attach 0"])).toBe(
      "ok fmt=virtio page_size_mask=0xfffffffffffff000 features=0x47 aperture=0x0-0xffffffff domain=2 domains=2-3 probe_size=0 map_flags=0x3 mode=qemu host=arm64-s2 endpoints=0\n",
    );
  });
  it("probe and allocation failures: page_size_mask 0 → -EINVAL; a granule above 4K → -ENODEV", () => {
    expect(run(["fmt virtio pgsizes 0", "fmt virtio pgsizes 2000"])).toBe(
      "err probe -22 (EINVAL)\nerr alloc -19 (ENODEV)\n",
    );
  });
  it("bad options are parse errors", () => {
    for (const bad of [
      ["mode", "x"],
      ["input", "5-1"],
      ["probe", "3"],
      ["host", "nope"],
      ["attach"],
      ["bogus", "1"],
    ])
      expect(parseVirtioFmt(bad)).toBeUndefined();
  });
});

describe("map / unmap / phys / lookup / dump / stats / device", () => {
  it("one 1 GiB MAP is one interval; lookups answer for the whole extent; unmap removes whole intervals", () => {
    expect(
      run([
        "fmt virtio",
        "map 40000000 100000000 40000000 rw",
        "map 80200000 200003000 5000 r",
        "phys 40001234",
        "lookup 40001234",
        "lookup 80203000",
        "lookup 90000000",
        "dump",
        "unmap 80200000 1000",
        "stats",
        "device",
      ]),
    ).toBe(
      [
        "ok fmt=virtio page_size_mask=0xfffffffffffff000 features=0x34 aperture=0x0-0xffffffffffffffff domain=0 domains=0-4294967295 probe_size=512 map_flags=0x7 mode=spec host=arm64-s2 endpoints=1",
        "ok mapped=0x40000000",
        // 0x5000 at a 4K-aligned paddr: iommu_pgsize() gives 4K × 5, one map_pages call.
        "ok mapped=0x5000",
        "phys=0x100001234",
        "lookup mapped=1 phys=0x100001234 length=0x40000000",
        // [0x80200000, 0x80205000): the aligned 16K block [0x80200000, 0x80204000) holds 0x80203000.
        "lookup mapped=1 phys=0x200006000 length=0x4000",
        // The hole runs from 0x80205000 to 2^64: the aligned 256M block at 0x90000000 fits.
        "lookup mapped=0 phys=0x0 length=0x10000000",
        "interval 0 iova=0x40000000-0x7fffffff phys=0x100000000 size=0x40000000 flags=rw",
        "interval 1 iova=0x80200000-0x80204fff phys=0x200003000 size=0x5000 flags=r",
        "end intervals=2 bytes=0x40005000",
        // The whole 20K interval goes: more than asked.
        "unmapped=0x5000",
        // Syncs: PROBE, ATTACH, two iotlb_sync_map, one iotlb_sync. Device OKs: PROBE, ATTACH, 2 MAP, UNMAP.
        "stats intervals_live=1 bytes_live=0x40000000 req_attach=1 req_detach=0 req_map=2 req_unmap=1 req_probe=1 syncs=5 device_ok=5 device_err=0 warns_total=0",
        "device domains=1 ok=5 ioerr=0 unsupp=0 deverr=0 inval=0 range=0 noent=0 fault=0 nomem=0 unwritten=0",
        "device 0 iova=0x40000000-0x7fffffff phys=0x100000000 size=0x40000000 flags=rw",
        "end intervals=1 bytes=0x40000000",
        "",
      ].join("\n"),
    );
  });

  it("the unmap quirk: less than asked removed → 0, the removed intervals stay gone, no UNMAP", () => {
    const out = run(["fmt virtio", "map 0 0 1000 rw", "unmap 0 2000", "dump", "stats"]).split("\n");
    expect(out[2]).toBe("unmapped=0x0");
    expect(out[3]).toBe("end intervals=0 bytes=0x0");
    expect(out[4]).toContain("req_unmap=0");
  });

  it("raw map_pages inserts one interval whatever pgcount; MMIO refused without the feature", () => {
    expect(
      run(["fmt virtio mmio 0", "map_pages 0 5000 1000 3 rw", "map_pages 10000 0 1000 1 rwm", "dump"]),
    ).toBe(
      [
        "ok fmt=virtio page_size_mask=0xfffffffffffff000 features=0x14 aperture=0x0-0xffffffffffffffff domain=0 domains=0-4294967295 probe_size=512 map_flags=0x3 mode=spec host=arm64-s2 endpoints=1",
        "ok mapped=0x3000",
        "err -22 (EINVAL) mapped=0x0",
        "interval 0 iova=0x0-0x2fff phys=0x5000 size=0x3000 flags=rw",
        "end intervals=1 bytes=0x3000",
        "",
      ].join("\n"),
    );
  });
});
