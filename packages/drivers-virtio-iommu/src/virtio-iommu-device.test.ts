// The device model against the virtio spec §5.13 (normative text and the UNMAP examples of
// §5.13.6.6) and QEMU's departures from it (hw/virtio/virtio-iommu.c).
import { IommuCounters, iommuIovaToPhys, PhysLength, PhysMem, TableAllocator } from "@iommu/core";
import { createIoPgtableDomain } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { bytes, RawDriver, RSP } from "./testing/raw.js";

const K4 = 0x1000n;
// Statuses written out from the spec's table (not imported from the package).
const OK = 0;
const IOERR = 1;
const UNSUPP = 2;
const DEVERR = 3;
const INVAL = 4;
const RANGE = 5;
const NOENT = 6;
const FAULT = 7;
const NOMEM = 8;

/** The spec's examples use byte addresses 0..14; here each unit is one 4 KiB page. */
const pg = (n: number) => BigInt(n) * K4;
const map = (d: RawDriver, a: number, b: number) => d.map(1, pg(a), pg(b + 1) - 1n, pg(100 + a));
const unmap = (d: RawDriver, a: number, b: number) => d.unmap(1, pg(a), pg(b + 1) - 1n);

function attached(mode: "spec" | "qemu" = "spec"): RawDriver {
  const d = new RawDriver({ mode });
  expect(d.attach(1, 0)).toBe(OK);
  return d;
}

describe("every status code is reachable", () => {
  it("OK: ATTACH then MAP", () => {
    const d = attached();
    expect(d.map(1, 0n, K4 - 1n, 0x8000n)).toBe(OK);
  });
  it("IOERR: a writable part that is not one tail (a framing error on the queue)", () => {
    const d = new RawDriver();
    const b = bytes(20);
    b.v.setUint8(0, 1);
    expect(d.send(b.u, 8).status).toBe(IOERR);
  });
  it("UNSUPP: an unknown request type on a QEMU-like device", () => {
    const d = new RawDriver({ mode: "qemu" });
    const b = bytes(20);
    b.v.setUint8(0, 9);
    expect(d.send(b.u).status).toBe(UNSUPP);
  });
  it("…while the spec device returns an unknown type unwritten (used length 0)", () => {
    const d = new RawDriver();
    const b = bytes(20);
    b.v.setUint8(0, 9);
    const r = d.send(b.u);
    expect(r.len).toBe(0);
    expect(r.written).toEqual(new Uint8Array([0xee, 0xee, 0xee, 0xee]));
  });
  it("DEVERR: the host table refuses the range (beyond its 48-bit input size)", () => {
    const d = attached();
    expect(d.map(1, 1n << 50n, (1n << 50n) + K4 - 1n, 0x8000n)).toBe(DEVERR);
    expect(d.device.domain(1)!.mappings.size).toBe(0);
  });
  it("INVAL: a MAP overlapping an existing mapping", () => {
    const d = attached();
    expect(map(d, 0, 3)).toBe(OK);
    expect(map(d, 3, 4)).toBe(INVAL);
  });
  it("RANGE: a MAP not aligned to the granule (spec)", () => {
    const d = attached();
    expect(d.map(1, 0x800n, 0x17ffn, 0x8000n)).toBe(RANGE);
  });
  it("NOENT: a MAP into a domain that does not exist", () => {
    const d = attached();
    expect(d.map(7, 0n, K4 - 1n, 0n)).toBe(NOENT);
  });
  it("FAULT: a request whose readable part is not in guest memory", () => {
    const d = new RawDriver();
    const b = bytes(20);
    b.v.setUint8(0, 1);
    expect(d.send(b.u, 4, { out: 0x5000_0000, in: RSP }).status).toBe(FAULT);
  });
  it("NOMEM: the host table cannot allocate a table page", () => {
    const alloc = new TableAllocator(new PhysMem(), { base: 0x8000_0000 });
    const d = new RawDriver({
      createHostDomain: () =>
        createIoPgtableDomain("arm64-s2", { allocator: alloc, counters: new IommuCounters() }),
    });
    expect(d.attach(1, 0)).toBe(OK);
    alloc.failNth(1);
    expect(d.map(1, 0n, K4 - 1n, 0x8000n)).toBe(NOMEM);
    expect(d.map(1, 0n, K4 - 1n, 0x8000n)).toBe(OK);
  });
  it("NOMEM: one domain more than the device holds", () => {
    const d = new RawDriver({ maxDomains: 1, endpoints: [{ id: 0 }, { id: 1 }] });
    expect(d.attach(1, 0)).toBe(OK);
    expect(d.attach(2, 1)).toBe(NOMEM);
  });
});

describe("UNMAP: the spec's examples (§5.13.6.6), each from an empty domain", () => {
  // [maps, unmap, status, mappings left] — from the spec text.
  const examples: Array<[Array<[number, number]>, [number, number], number, Array<[number, number]>]> = [
    [[], [0, 4], OK, []],
    [[[0, 9]], [0, 9], OK, []],
    [
      [
        [0, 4],
        [5, 9],
      ],
      [0, 9],
      OK,
      [],
    ],
    [[[0, 9]], [0, 4], RANGE, [[0, 9]]],
    [
      [
        [0, 4],
        [5, 9],
      ],
      [0, 4],
      OK,
      [[5, 9]],
    ],
    [[[0, 4]], [0, 9], OK, []],
    [
      [
        [0, 4],
        [10, 14],
      ],
      [0, 14],
      OK,
      [],
    ],
  ];
  for (const [maps, [a, b], status, left] of examples) {
    it(`map ${JSON.stringify(maps)}, unmap(${a},${b}) → ${status === OK ? "OK" : "RANGE"}, left ${JSON.stringify(left)}`, () => {
      const d = attached();
      for (const [x, y] of maps) expect(map(d, x, y)).toBe(OK);
      expect(unmap(d, a, b)).toBe(status);
      const t = d.device.domain(1)!.mappings;
      expect(
        t.nodes().map((n) => [Number(BigInt(t.startOf(n)) / K4), Number(BigInt(t.endOf(n)) / K4) - 1]),
      ).toEqual(left);
    });
  }

  it("spec: a splitting UNMAP removes nothing; QEMU removes the covered mappings before it", () => {
    for (const [mode, left] of [
      [
        "spec",
        [
          [0, 4],
          [5, 9],
        ],
      ],
      ["qemu", [[5, 9]]],
    ] as const) {
      const d = attached(mode);
      expect(map(d, 0, 4)).toBe(OK);
      expect(map(d, 5, 9)).toBe(OK);
      expect(unmap(d, 0, 7)).toBe(RANGE);
      const t = d.device.domain(1)!.mappings;
      expect(
        t.nodes().map((n) => [Number(BigInt(t.startOf(n)) / K4), Number(BigInt(t.endOf(n)) / K4) - 1]),
      ).toEqual(left);
    }
  });

  it("unmapped ranges leave the host table too", () => {
    const d = attached();
    expect(map(d, 0, 9)).toBe(OK);
    const out = new PhysLength();
    expect(d.device.translate(0, pg(3), out).phys).toBe(Number(pg(103)));
    expect(unmap(d, 0, 9)).toBe(OK);
    expect(d.device.translate(0, pg(3), out).mapped).toBe(false);
  });
});

describe("ATTACH / DETACH / PROBE", () => {
  it("ATTACH: unknown flag or non-zero reserved → INVAL (spec); QEMU ignores reserved", () => {
    expect(new RawDriver().attach(1, 0, 2)).toBe(INVAL);
    expect(new RawDriver().attach(1, 0, 0, 1)).toBe(INVAL);
    expect(new RawDriver({ mode: "qemu" }).attach(1, 0, 0, 1)).toBe(OK);
    expect(new RawDriver().attach(1, 0, 1)).toBe(INVAL); // ATTACH_F_BYPASS without BYPASS_CONFIG
  });
  it("ATTACH: unknown endpoint → NOENT; domain outside domain_range → RANGE (spec)", () => {
    expect(new RawDriver().attach(1, 5)).toBe(NOENT);
    expect(new RawDriver({ domainRange: { start: 1, end: 3 } }).attach(4, 0)).toBe(RANGE);
  });
  it("ATTACH to a domain of the other kind: INVAL; QEMU has already detached the endpoint", () => {
    for (const mode of ["spec", "qemu"] as const) {
      const d = new RawDriver({ mode, bypass: false, endpoints: [{ id: 0 }, { id: 1 }] });
      expect(d.attach(1, 0, 1)).toBe(OK); // bypass domain 1
      expect(d.attach(2, 1)).toBe(OK);
      expect(d.attach(1, 1)).toBe(INVAL);
      expect(d.device.endpointDomain(1)?.id ?? null).toBe(mode === "spec" ? 2 : null);
    }
  });
  it("MAP into a bypass domain → INVAL", () => {
    const d = new RawDriver({ bypass: false });
    expect(d.attach(1, 0, 1)).toBe(OK);
    expect(d.map(1, 0n, K4 - 1n, 0n)).toBe(INVAL);
  });
  it("DETACH: unknown endpoint NOENT, wrong domain INVAL; the last endpoint destroys the domain and its mappings", () => {
    const d = attached();
    expect(map(d, 0, 3)).toBe(OK);
    expect(d.detach(1, 9)).toBe(NOENT);
    expect(d.detach(2, 0)).toBe(INVAL);
    const host = d.hosts.get(1)!;
    // The MAP reached the host table: IOVA page 0 → page 100.
    expect(iommuIovaToPhys(host, 0)).toBe(0x6_4000);
    expect(d.detach(1, 0)).toBe(OK);
    expect(d.device.domain(1)).toBeUndefined();
    // The host domain was freed with the domain: no table, nothing translates.
    expect(iommuIovaToPhys(host, 0)).toBe(0);
    expect(d.attach(1, 0)).toBe(OK);
    expect(d.device.domain(1)!.mappings.size).toBe(0);
  });
  it("PROBE: RESV_MEM properties in the spec's layout, zero-filled after; NOENT; too many → INVAL", () => {
    const d = new RawDriver({
      probeSize: 64,
      endpoints: [
        {
          id: 3,
          resv: [
            { start: 0x800_0000, end: 0x80f_ffff, subtype: 1 },
            { start: 0xfee0_0000, end: 0xfeef_ffff },
          ],
        },
        { id: 4, resv: [1, 2, 3].map((i) => ({ start: i * 0x10000, end: i * 0x10000 + 0xfff })) },
      ],
    });
    const r = d.probe(3, 64);
    expect(r.status).toBe(OK);
    expect(r.len).toBe(68);
    const v = new DataView(r.written.buffer);
    expect(v.getUint16(0, true)).toBe(1); // VIRTIO_IOMMU_PROBE_T_RESV_MEM
    expect(v.getUint16(2, true)).toBe(20);
    expect(v.getUint8(4)).toBe(1); // MSI
    expect(v.getBigUint64(8, true)).toBe(0x800_0000n);
    expect(v.getBigUint64(16, true)).toBe(0x80f_ffffn);
    expect(v.getUint8(24 + 4)).toBe(0); // RESERVED
    expect(v.getBigUint64(24 + 16, true)).toBe(0xfeef_ffffn);
    expect(v.getUint32(48, true)).toBe(0); // PROBE_T_NONE ends the list
    expect(d.probe(9, 64).status).toBe(NOENT);
    expect(d.probe(4, 64).status).toBe(INVAL);
  });
  it("a MAP over a reserved region of an attached endpoint → INVAL (spec), accepted by QEMU", () => {
    for (const [mode, status] of [
      ["spec", INVAL],
      ["qemu", OK],
    ] as const) {
      const d = new RawDriver({
        mode,
        endpoints: [{ id: 0, resv: [{ start: 0x800_0000, end: 0x80f_ffff }] }],
      });
      expect(d.attach(1, 0)).toBe(OK);
      expect(d.map(1, 0x80f_f000n, 0x810_0fffn, 0x8000n)).toBe(status);
    }
  });
  it("QEMU does not check alignment or input_range (the host table still must accept it)", () => {
    const d = new RawDriver({ mode: "qemu", inputRange: { start: 0, end: 0xffff_ffff } });
    expect(d.attach(1, 0)).toBe(OK);
    expect(d.map(1, 0x1_0000_0000n, 0x1_0000_0fffn, 0n)).toBe(OK);
    const s = new RawDriver({ inputRange: { start: 0, end: 0xffff_ffff } });
    expect(s.attach(1, 0)).toBe(OK);
    expect(s.map(1, 0x1_0000_0000n, 0x1_0000_0fffn, 0n)).toBe(RANGE);
  });
  it("counts requests by type and statuses by code", () => {
    const d = attached();
    map(d, 0, 1);
    map(d, 0, 1);
    expect([...d.device.requests]).toEqual([0, 1, 0, 2, 0, 0]);
    expect(d.device.statuses[OK]).toBe(2);
    expect(d.device.statuses[INVAL]).toBe(1);
  });
});
