// drivers/iommu/virtio-iommu.c: viommu_probe() negotiation, map_pages / unmap_pages on the
// interval tree, the request bytes, queue-failure rollback, replay, identity domains and the
// synchronous-request status quirk — each against the kernel function named in the test.
import {
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_MMIO,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  PhysMem,
  SizeOut,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { guest, intervalsOf, lpaeHosts } from "./testing/setup.js";
import { ViommuExtent, viommuIovaExtent } from "./viommu-domain.js";
import { VirtioIommu } from "./virtio-iommu.js";
import { VirtioIommuDevice } from "./virtio-iommu-device.js";

const K4 = 0x1000;
const M2 = 0x20_0000;
const RW = IOMMU_READ | IOMMU_WRITE;
const SLOT0 = 0x7f00_0000;

function device(opts: Partial<ConstructorParameters<typeof VirtioIommuDevice>[0]> = {}) {
  return new VirtioIommuDevice({ createHostDomain: lpaeHosts(new Map()), mem: new PhysMem(), ...opts });
}

describe("viommu_probe(): feature negotiation", () => {
  it("page_size_mask 0 → -EINVAL; no MAP_UNMAP or no VERSION_1 → -ENODEV", () => {
    expect(VirtioIommu.probe(device({ pageSizeMask: 0 }))).toBe(-22);
    expect(VirtioIommu.probe(device({ mapUnmap: false }))).toBe(-19);
    expect(VirtioIommu.probe(device({ version1: false }))).toBe(-19);
  });
  it("pgsize_bitmap = page_size_mask; a granule above PAGE_SIZE fails domain allocation with -ENODEV", () => {
    const v = VirtioIommu.probe(device({ pageSizeMask: 0xffff_e000 })) as VirtioIommu;
    expect(v.pgsizeBitmap).toBe(0xffff_e000);
    expect(v.domainAllocPagingFlags(0)).toBe(-19);
    const w = VirtioIommu.probe(device({ pageSizeMask: 2 ** 64 - 4096 })) as VirtioIommu;
    expect(w.pgsizeBitmap).toBe(2 ** 64 - 4096);
  });
  it("INPUT_RANGE → the aperture; without it 0..2^64−1; force_aperture", () => {
    const v = VirtioIommu.probe(device({ inputRange: { start: 0x1000, end: 2 ** 39 - 1 } })) as VirtioIommu;
    expect(v.geometry).toEqual({ apertureStart: 0x1000, apertureEnd: 2 ** 39 - 1, forceAperture: true });
    const w = VirtioIommu.probe(device()) as VirtioIommu;
    expect(w.geometry.apertureEnd).toBe((1n << 64n) - 1n);
  });
  it("DOMAIN_RANGE bounds the ids (ida_alloc_range → -ENOSPC when used up)", () => {
    const v = VirtioIommu.probe(device({ domainRange: { start: 5, end: 6 } })) as VirtioIommu;
    expect(v.domainAllocPagingFlags(0)).toMatchObject({ id: 5 });
    expect(v.domainAllocPagingFlags(0)).toMatchObject({ id: 6 });
    expect(v.domainAllocPagingFlags(0)).toBe(-28);
    expect(v.domainAllocPagingFlags(1)).toBe(-95);
  });
  it("BYPASS_CONFIG reserves first_domain for the identity domain", () => {
    const v = VirtioIommu.probe(device({ bypass: false })) as VirtioIommu;
    expect(v.identityDomainId).toBe(0);
    expect(v.domainAllocPagingFlags(0)).toMatchObject({ id: 1 });
  });
  it("MMIO: MAP_F_MMIO only with the feature, else map_pages → -EINVAL", () => {
    const g = guest({ mmio: false });
    const out = new SizeOut();
    expect(g.domain.ops!.mapPages(g.domain, 0, 0, K4, 1, RW | IOMMU_MMIO, 0, out)).toBe(-22);
    const h = guest();
    expect(h.domain.ops!.mapPages(h.domain, 0, 0, K4, 1, RW | IOMMU_MMIO, 0, out)).toBe(0);
    expect(intervalsOf(h.domain)).toEqual([[0, K4, 0, 7]]);
  });
  it("the driver never accepts VIRTIO_IOMMU_F_BYPASS; it accepts the six others it knows", () => {
    const d = device({
      probeSize: 8,
      bypass: true,
      domainRange: { start: 0, end: 9 },
      inputRange: { start: 0, end: 1 },
    });
    const v = VirtioIommu.probe(d) as VirtioIommu;
    expect(v.features).toBe(0b111_0111);
    expect(v.capable(0)).toBe(true);
    expect(v.capable(4)).toBe(true);
    expect(v.capable(1)).toBe(false);
  });
});

describe("viommu_map_pages() / viommu_unmap_pages()", () => {
  it("one map_pages call = one interval and one MAP request, bytes as struct virtio_iommu_req_map", () => {
    const g = guest();
    const before = g.viommu.sent[3];
    // iommu_pgsize() splits 12K at an 8K-aligned paddr into 8K + 4K: two map_pages calls.
    iommuMap(g.domain, 0x4000_0000, 0x1_2345_6000, 3 * K4, IOMMU_READ);
    expect(intervalsOf(g.domain)).toEqual([
      [0x4000_0000, 0x4000_2000, 0x1_2345_6000, 1],
      [0x4000_2000, 0x4000_3000, 0x1_2345_8000, 1],
    ]);
    expect(g.viommu.sent[3]! - before!).toBe(2);
    const b = g.device.mem.exportRange(SLOT0, 40);
    const v = new DataView(b.buffer);
    expect(v.getUint8(0)).toBe(3); // VIRTIO_IOMMU_T_MAP
    expect([v.getUint8(1), v.getUint8(2), v.getUint8(3)]).toEqual([0, 0, 0]);
    expect(v.getUint32(4, true)).toBe(g.domain.id);
    expect(v.getBigUint64(8, true)).toBe(0x4000_0000n);
    expect(v.getBigUint64(16, true)).toBe(0x4000_1fffn); // inclusive virt_end
    expect(v.getBigUint64(24, true)).toBe(0x1_2345_6000n);
    expect(v.getUint32(32, true)).toBe(1); // MAP_F_READ
    expect(v.getUint8(36)).toBe(0); // the device's tail: S_OK
  });

  it("UNMAP bytes as struct virtio_iommu_req_unmap, covering whole intervals", () => {
    const g = guest();
    iommuMap(g.domain, 0x8000_0000, 0, M2, RW);
    expect(iommuUnmap(g.domain, 0x8000_0000, M2)).toBe(M2);
    const v = new DataView(g.device.mem.exportRange(SLOT0, 32).buffer);
    expect(v.getUint8(0)).toBe(4);
    expect(v.getUint32(4, true)).toBe(g.domain.id);
    expect(v.getBigUint64(8, true)).toBe(0x8000_0000n);
    expect(v.getBigUint64(16, true)).toBe(0x801f_ffffn);
    expect(v.getUint32(24, true)).toBe(0);
    expect(v.getUint8(28)).toBe(0);
  });

  it("a top-of-space interval encodes virt_end 2^64−1 exactly", () => {
    const g = guest({ inputRange: { start: 0, end: (1n << 64n) - 1n } });
    g.domain.ops!.mapPages(g.domain, 2 ** 64 - 2 * K4, 0x5000, K4, 2, RW, 0, new SizeOut());
    const v = new DataView(g.device.mem.exportRange(SLOT0, 40).buffer);
    expect(v.getBigUint64(8, true)).toBe((1n << 64n) - 0x2000n);
    expect(v.getBigUint64(16, true)).toBe((1n << 64n) - 1n);
  });

  it("unmap removes whole intervals and may report more than asked (viommu_del_mappings)", () => {
    const g = guest();
    const d = g.domain;
    d.ops!.mapPages(d, 0, 0x10_0000, K4, 4, RW, 0, new SizeOut()); // [0, 16K)
    expect(d.ops!.unmapPages(d, 0, K4, 1, null)).toBe(4 * K4);
    expect(intervalsOf(d)).toEqual([]);
  });

  it("unmap stops at an interval starting before the range and returns 0 (nothing removed, no UNMAP)", () => {
    const g = guest();
    const d = g.domain;
    d.ops!.mapPages(d, 0, 0x10_0000, K4, 4, RW, 0, new SizeOut());
    const sent = g.viommu.sent[4];
    expect(d.ops!.unmapPages(d, K4, K4, 1, null)).toBe(0);
    expect(intervalsOf(d)).toEqual([[0, 4 * K4, 0x10_0000, 3]]);
    expect(g.viommu.sent[4]).toBe(sent);
  });

  it("quirk: removing less than asked returns 0 but the removed intervals stay removed (and the device keeps them)", () => {
    const g = guest();
    const d = g.domain;
    d.ops!.mapPages(d, 0, 0x10_0000, K4, 1, RW, 0, new SizeOut());
    g.viommu.syncReq();
    expect(d.ops!.unmapPages(d, 0, K4, 2, null)).toBe(0);
    expect(intervalsOf(d)).toEqual([]);
    expect(g.device.domain(d.id)!.mappings.size).toBe(1);
  });

  it("without endpoints: intervals only, no request (the device dropped them at detach)", () => {
    const g = guest({ attach: false });
    const d = g.domain;
    iommuMap(d, 0, 0x10_0000, M2, RW);
    expect(d.ops!.unmapPages(d, 0, M2, 1, null)).toBe(M2);
    expect([...g.viommu.sent]).toEqual([0, 0, 0, 0, 0, 1]); // the endpoint's PROBE only
  });

  it("a queue failure rolls the interval back: the tree is unchanged and iommu_map fails -ENOMEM", () => {
    const g = guest();
    const d = g.domain;
    iommuMap(d, 0, 0x10_0000, M2, RW);
    iommuMap(d, 4 * M2, 0x80_0000, K4, RW);
    const before = intervalsOf(d);
    g.viommu.vq.failNth(1);
    let err: unknown;
    try {
      iommuMap(d, M2, 0x40_0000, M2, RW);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IommuError);
    expect((err as IommuError).code).toBe("ENOMEM");
    expect(intervalsOf(d)).toEqual(before);
    g.viommu.syncReq();
    expect(intervalsOf(d)).toEqual(
      (() => {
        const t = g.device.domain(d.id)!.mappings;
        return t.nodes().map((n) => [t.startOf(n), t.endOf(n), t.paddrOf(n), t.flagsAt(n)]);
      })(),
    );
  });

  it("a full queue is synced once and the request retried (__viommu_add_req)", () => {
    const g = guest();
    const d = g.domain;
    const syncs = g.viommu.syncs;
    for (let i = 0; i < 300; i++) d.ops!.mapPages(d, i * K4, i * K4, K4, 1, RW, 0, new SizeOut());
    expect(g.viommu.syncs - syncs).toBe(1);
    g.viommu.syncReq();
    expect(g.device.domain(d.id)!.mappings.size).toBe(300);
  });
});

describe("attach, replay, identity domains", () => {
  it("the first endpoint replays every interval as synchronous MAPs (viommu_replay_mappings)", () => {
    const g = guest({ attach: false });
    const d = g.domain;
    iommuMap(d, 0, 0x10_0000, M2, RW);
    iommuMap(d, 8 * M2, 0x40_0000, K4, IOMMU_READ);
    expect(g.device.domain(d.id)).toBeUndefined();
    expect(g.viommu.attachDev(d, g.ep)).toBe(0);
    expect(g.viommu.sent[3]).toBe(2);
    const t = g.device.domain(d.id)!.mappings;
    expect(t.nodes().map((n) => [t.startOf(n), t.endOf(n)])).toEqual([
      [0, M2],
      [8 * M2, 8 * M2 + K4],
    ]);
    expect(d.nrEndpoints).toBe(1);
  });

  it("moving the endpoint to another domain: the device drops the old one, the driver keeps its intervals", () => {
    const g = guest();
    iommuMap(g.domain, 0, 0x10_0000, M2, RW);
    const other = g.viommu.domainAllocPagingFlags(0);
    if (typeof other === "number") throw new Error();
    expect(g.viommu.attachDev(other, g.ep)).toBe(0);
    expect(g.device.domain(g.domain.id)).toBeUndefined();
    expect(g.domain.nrEndpoints).toBe(0);
    expect(intervalsOf(g.domain)).toHaveLength(1);
    expect(g.viommu.attachDev(g.domain, g.ep)).toBe(0);
    expect(g.device.domain(g.domain.id)!.mappings.size).toBe(1);
  });

  it("identity without BYPASS_CONFIG: identity intervals over the aperture, granule-aligned, around reserved regions", () => {
    const g = guest({
      inputRange: { start: 0, end: 0xffff_ffff },
      endpoints: [{ id: 0, resv: [{ start: 0x800_0000, end: 0x80f_ffff, subtype: 1 }] }],
    });
    expect(g.ep.resvRegions).toEqual([{ start: 0x800_0000, length: 0x10_0000, type: "msi" }]);
    const id = g.viommu.domainAllocIdentity(g.ep);
    if (typeof id === "number") throw new Error();
    expect(id.type).toBe(IOMMU_DOMAIN_IDENTITY);
    expect(intervalsOf(id)).toEqual([
      [0, 0x800_0000, 0, 3],
      [0x810_0000, 0x1_0000_0000, 0x810_0000, 3],
    ]);
  });

  it("identity with BYPASS_CONFIG: ATTACH(identity id, ATTACH_F_BYPASS); the endpoint then bypasses", () => {
    const g = guest({ bypass: false });
    const id = g.viommu.domainAllocIdentity(g.ep);
    if (typeof id === "number") throw new Error();
    expect(g.viommu.attachDev(id, g.ep)).toBe(0);
    expect(g.device.endpointDomain(0)).toMatchObject({ id: 0, bypass: true });
    expect(g.device.translate(0, 0x1234_5678, new PhysLength()).phys).toBe(0x1234_5678);
  });

  it("get_resv_regions adds the software MSI window when the device reported no MSI region", () => {
    const g = guest();
    expect(g.viommu.getResvRegions(g.ep)).toEqual([{ start: 0x800_0000, length: 0x10_0000, type: "sw-msi" }]);
  });

  it("a device error on a synchronous ATTACH is the errno of its status", () => {
    const g = guest({ attach: false, domainRange: { start: 0, end: 0 } });
    // domain ids come from [0, 0]: the device accepts 0; an ATTACH for an unknown endpoint → -ENOENT
    const ep = { ids: [7], resvRegions: [], vdomain: null };
    expect(g.viommu.attachDev(g.domain, ep)).toBe(-2);
  });

  it("quirk: a synchronous request returned unwritten reads as success (the caller's zeroed tail)", () => {
    const g = guest({ endpoints: [{ id: 0, resv: [{ start: 0x1000, end: 0x1fff }] }] });
    // A device that stopped answering PROBE (used length 0): Linux sets S_IOERR in its copy only.
    g.device.negotiated &= ~(1 << 4);
    const ep = g.viommu.probeDevice([0]);
    expect(ep).toMatchObject({ resvRegions: [] });
  });
});

describe("iova_to_phys and iova_to_phys_length on intervals", () => {
  it("iova_to_phys: the interval's paddr + offset; 0 in a hole", () => {
    const g = guest();
    iommuMap(g.domain, 0x4000_0000, 0x9000_0000, M2, RW);
    expect(iommuIovaToPhys(g.domain, 0x4000_0123)).toBe(0x9000_0123);
    expect(iommuIovaToPhys(g.domain, 0x4020_0000)).toBe(0);
  });

  it("a naturally aligned power-of-two MAP is one unit: one lookup answers for the whole extent", () => {
    const g = guest();
    iommuMap(g.domain, 0x4000_0000, 0x1_0000_0000, 0x4000_0000, RW); // one 1 GiB MAP
    expect(intervalsOf(g.domain)).toHaveLength(1);
    const out = iommuIovaToPhysLength(g.domain, 0x5234_5678);
    expect(out.mapped).toBe(true);
    expect(out.phys).toBe(0x1_1234_5678);
    expect(out.length).toBe(0x4000_0000);
  });

  it("an unaligned extent is crossed in aligned power-of-two pieces (the core contract)", () => {
    const g = guest();
    g.domain.ops!.mapPages(g.domain, K4, 0x7000, K4, 3, RW, 0, new SizeOut()); // [4K, 16K)
    const lengths: number[] = [];
    for (let iova = K4; iova < 4 * K4; ) {
      const out = iommuIovaToPhysLength(g.domain, iova);
      expect(out.phys).toBe(0x7000 + iova - K4);
      lengths.push(out.length);
      iova = Math.floor(iova / out.length) * out.length + out.length;
    }
    expect(lengths).toEqual([K4, 2 * K4]);
  });

  it("holes: bounded by the neighbouring intervals and the aperture", () => {
    const g = guest({ inputRange: { start: 0, end: 2 ** 39 - 1 } });
    iommuMap(g.domain, 0, 0x10_0000, K4, RW);
    iommuMap(g.domain, 0x40_0000, 0x20_0000, K4, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(g.domain, 0x20_0000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x20_0000]);
    iommuIovaToPhysLength(g.domain, K4, out);
    expect(out.length).toBe(K4);
    iommuIovaToPhysLength(g.domain, 2 ** 38, out); // the upper half of the aperture is empty
    expect(out.length).toBe(2 ** 38);
    iommuIovaToPhysLength(g.domain, 2 ** 39, out); // outside: up to the top of 2^64 from 2^39
    expect([out.mapped, out.length]).toEqual([false, 2 ** 39]);
    iommuIovaToPhysLength(g.domain, 2 ** 63, out);
    expect(out.length).toBe(2 ** 63);
  });

  it("a mapping of physical 0 is mapped (a bare address, iommu_iova_to_phys, cannot tell it from a hole)", () => {
    const g = guest();
    iommuMap(g.domain, 0x1000_0000, 0, K4, RW);
    expect(iommuIovaToPhys(g.domain, 0x1000_0000)).toBe(0);
    const out = iommuIovaToPhysLength(g.domain, 0x1000_0000);
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0, K4]);
  });

  it("addresses above 2^53 keep their sub-page offset (bigint in, exact out)", () => {
    const g = guest({ inputRange: { start: 0, end: (1n << 64n) - 1n } });
    iommuMap(g.domain, 0xffff_8000_0000_0000n, 0xf_0000_0000, M2, RW);
    const out = iommuIovaToPhysLength(g.domain, 0xffff_8000_0001_2345n);
    expect(out.phys).toBe(0xf_0001_2345);
    expect(out.length).toBe(M2);
    expect(iommuIovaToPhys(g.domain, 0xffff_8000_0001_2345n)).toBe(0xf_0001_2345);
  });

  it("agrees with the device's host table end to end (ARM LPAE S2)", () => {
    const g = guest();
    iommuMap(g.domain, 0x4000_0000, 0x1_0000_0000, 0x4000_0000, RW);
    iommuMap(g.domain, 0x8020_0000, 0x2_0000_3000, 5 * K4, IOMMU_READ);
    const a = new PhysLength();
    const b = new PhysLength();
    for (const iova of [0x4000_0000, 0x7fff_f123, 0x8020_0000, 0x8020_4fff, 0x8020_5000, 0x3fff_ffff]) {
      iommuIovaToPhysLength(g.domain, iova, a);
      g.device.translate(0, iova, b);
      expect([a.mapped, a.phys]).toEqual([b.mapped, b.phys]);
    }
  });
});

describe("quirk: map_pages does not check overlaps", () => {
  it("the second, overlapping interval goes into the tree; the device answers INVAL and nobody reads it", () => {
    const g = guest();
    const d = g.domain;
    expect(d.ops!.mapPages(d, 0, 0x10_0000, K4, 2, RW, 0, new SizeOut())).toBe(0);
    expect(d.ops!.mapPages(d, K4, 0x20_0000, K4, 2, RW, 0, new SizeOut())).toBe(0);
    g.viommu.syncReq();
    expect(intervalsOf(d)).toEqual([
      [0, 2 * K4, 0x10_0000, 3],
      [K4, 3 * K4, 0x20_0000, 3],
    ]);
    expect(g.device.statuses[4]).toBe(1); // VIRTIO_IOMMU_S_INVAL
    expect(g.device.domain(d.id)!.mappings.size).toBe(1);
    // The tree answers with the first interval in start order where both overlap.
    expect(iommuIovaToPhys(d, K4)).toBe(0x10_1000);
    expect(iommuIovaToPhys(d, 2 * K4)).toBe(0x20_1000);
  });
});

describe("request bytes of the synchronous requests (struct virtio_iommu_req_*)", () => {
  it("ATTACH: type 1, domain @4, endpoint @8, flags @12, reserved[4] @16 zero, tail @20", () => {
    const g = guest({ attach: false, ids: [0] });
    expect(g.viommu.attachDev(g.domain, g.ep)).toBe(0);
    const v = new DataView(g.device.mem.exportRange(SLOT0, 24).buffer);
    expect([v.getUint8(0), v.getUint8(1), v.getUint8(2), v.getUint8(3)]).toEqual([1, 0, 0, 0]);
    expect(v.getUint32(4, true)).toBe(g.domain.id);
    expect(v.getUint32(8, true)).toBe(0);
    expect(v.getUint32(12, true)).toBe(0);
    expect(v.getUint32(16, true)).toBe(0);
    expect(v.getUint8(20)).toBe(0); // S_OK from the device
  });

  it("ATTACH of the bypass domain carries ATTACH_F_BYPASS and the reserved identity id", () => {
    const g = guest({ bypass: false, attach: false });
    const id = g.viommu.domainAllocIdentity(g.ep);
    if (typeof id === "number") throw new Error();
    expect(g.viommu.attachDev(id, g.ep)).toBe(0);
    const v = new DataView(g.device.mem.exportRange(SLOT0, 24).buffer);
    expect(v.getUint32(4, true)).toBe(0);
    expect(v.getUint32(12, true)).toBe(1);
  });

  it("DETACH: type 2, domain @4, endpoint @8, reserved[8] @12 zero, tail @20", () => {
    const g = guest({ endpoints: [{ id: 0x10 }], ids: [0x10] });
    g.viommu.detachDev(g.ep);
    const v = new DataView(g.device.mem.exportRange(SLOT0, 24).buffer);
    expect(v.getUint8(0)).toBe(2);
    expect(v.getUint32(4, true)).toBe(g.domain.id);
    expect(v.getUint32(8, true)).toBe(0x10);
    expect([v.getUint32(12, true), v.getUint32(16, true)]).toEqual([0, 0]);
    expect(v.getUint8(20)).toBe(0);
    expect(g.device.domain(g.domain.id)).toBeUndefined();
    expect(g.domain.nrEndpoints).toBe(0);
  });

  it("PROBE: type 5, endpoint @4, reserved[64] zero, probe_size bytes of properties @72, tail after", () => {
    const g = guest({
      probeSize: 64,
      endpoints: [{ id: 9, resv: [{ start: 0x1000, end: 0x1fff }] }],
      ids: [9],
      attach: false,
    });
    // The PROBE buffer sits after the 256 request slots.
    const v = new DataView(g.device.mem.exportRange(SLOT0 + 256 * 64, 72 + 64 + 4).buffer);
    expect(v.getUint8(0)).toBe(5);
    expect(v.getUint32(4, true)).toBe(9);
    for (let i = 8; i < 72; i += 4) expect(v.getUint32(i, true)).toBe(0);
    expect(v.getUint16(72, true)).toBe(1);
    expect(v.getBigUint64(72 + 8, true)).toBe(0x1000n);
    expect(v.getUint8(72 + 64)).toBe(0);
    expect(g.ep.resvRegions).toEqual([{ start: 0x1000, length: 0x1000, type: "reserved" }]);
  });

  it("a failed ATTACH leaves the old domain's endpoint count dropped (viommu_attach_dev order)", () => {
    const g = guest({ domainRange: { start: 0, end: 1 } });
    const other = g.viommu.domainAllocPagingFlags(0);
    if (typeof other === "number") throw new Error();
    // Make the device refuse: a second endpoint id it does not know.
    const ep2 = { ...g.ep, ids: [0, 5] };
    expect(g.viommu.attachDev(other, ep2)).toBe(-2);
    expect(g.domain.nrEndpoints).toBe(0);
  });
});

describe("viommuIovaExtent (model-only): the whole MAP extent or hole from one lookup", () => {
  it("reports [start, end) of the MAP and of the hole", () => {
    const g = guest();
    g.domain.ops!.mapPages(g.domain, K4, 0x7000, K4, 3, RW, 0, new SizeOut()); // [4K, 16K)
    const e = viommuIovaExtent(g.domain, 3 * K4, new ViommuExtent());
    expect([e.mapped, e.start, e.end, e.paddr, e.flags]).toEqual([true, K4, 4 * K4, 0x7000, 3]);
    viommuIovaExtent(g.domain, 9 * K4, e);
    expect([e.mapped, e.start, e.end]).toEqual([false, 4 * K4, 2 ** 64]);
    viommuIovaExtent(g.domain, 0, e);
    expect([e.mapped, e.start, e.end]).toEqual([false, 0, K4]);
  });
});
