// tools/testing/selftests/iommu/iommufd_utils.h: the selftest helpers (test_ioctl_*, test_cmd_*)
// over the model, and the state snapshot the fail-nth and property tests compare.
import { type Addr, type IommuDomain, type MemKind, PAGE_SIZE, PhysLength, UserMm } from "@iommu/core";
import type { ReadBackMode } from "../context.js";
import { Iommufd } from "../iommufd.js";
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE } from "../uapi.js";
import { amdv1MockPagetableInit } from "./mock-pagetable.js";

export const RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
/** `HUGEPAGE_SIZE` of the test machine. */
export const HUGEPAGE_SIZE = 2 * 1024 * 1024;
/** `buffer`: BUFFER_SIZE bytes at a HUGEPAGE_SIZE aligned address. */
export const BUFFER = 0x10_0000_0000;
export const BUFFER_SIZE = PAGE_SIZE * 16;

/** A fresh process with `buffer` mapped, and its iommufd (mock domains on generic_pt amdv1_mock). */
export function openIommufd(opts: { readBack?: ReadBackMode; kind?: MemKind } = {}): Iommufd {
  const mm = new UserMm();
  mm.memory.addRegion({ vaddr: BUFFER, size: BUFFER_SIZE, kind: opts.kind ?? "scattered", seed: 7 });
  return new Iommufd({ mm, readBack: opts.readBack ?? "legacy", mockPagetableInit: amdv1MockPagetableInit });
}

/** `test_ioctl_ioas_alloc` */
export function ioasAlloc(ictx: Iommufd): number {
  const cmd = { flags: 0, outIoasId: 0 };
  const rc = ictx.ioasAlloc(cmd);
  if (rc) throw new Error(`IOMMU_IOAS_ALLOC: ${rc}`);
  return cmd.outIoasId;
}

/** `_test_ioctl_ioas_map` with FIXED_IOVA: the return code. */
export function mapFixed(
  ictx: Iommufd,
  ioasId: number,
  uptr: number,
  length: number,
  iova: number | bigint,
  flags = RW,
): number {
  return ictx.ioasMap({ flags: flags | IOMMU_IOAS_MAP_FIXED_IOVA, ioasId, userVa: uptr, length, iova });
}

/** `_test_ioctl_ioas_map` with an allocated IOVA: the return code and the IOVA. */
export function mapAuto(
  ictx: Iommufd,
  ioasId: number,
  uptr: number,
  length: number,
  flags = RW,
): { rc: number; iova: number } {
  const cmd = { flags, ioasId, userVa: uptr, length, iova: 0 as number | bigint };
  const rc = ictx.ioasMap(cmd);
  return { rc, iova: Number(cmd.iova) };
}

/** `_test_ioctl_ioas_unmap`: the return code and bytes unmapped. */
export function unmap(
  ictx: Iommufd,
  ioasId: number,
  iova: number | bigint,
  length: number | bigint,
): { rc: number; length: number } {
  const cmd = { ioasId, iova, length };
  const rc = ictx.ioasUnmap(cmd);
  return { rc, length: Number(cmd.length) };
}

/**
 * `teardown_iommufd`: close the file (every object destroyed, accesses and devices first)
 * and check nothing stays pinned or charged and no WARN fired.
 */
export function teardown(ictx: Iommufd): {
  pinned: number;
  lockedVm: number;
  pinnedVm: number;
  warns: number;
} {
  const order = (id: number) => {
    const o = ictx.object(id)!;
    return o.kind === "access" ? 0 : o.kind === "hwpt_paging" ? 1 : 2;
  };
  for (const id of ictx.objectIds.sort((a, b) => order(a) - order(b) || b - a)) ictx.destroy(id);
  return {
    pinned: ictx.mm.memory.pinned,
    lockedVm: ictx.user.lockedVm,
    pinnedVm: ictx.pinnedVm,
    warns: ictx.warns.warns,
  };
}

/** Everything a failed operation must leave as it was (fail-nth) and two read-back modes must agree on. */
export function stateOf(ictx: Iommufd): unknown {
  const ioases = [];
  for (const id of ictx.objectIds) {
    const o = ictx.object(id)!;
    if (o.kind === "ioas") {
      const iopt = o.iopt;
      ioases.push({
        id,
        iovaAlignment: iopt.iovaAlignment,
        disableLargePages: iopt.disableLargePages,
        reserved: iopt.reservedItree.nodes.map((r) => [r.start, r.last]),
        allowed: iopt.allowedItree.nodes.map((r) => [r.start, r.last]),
        domains: iopt.domains.length,
        accesses: iopt.accessList.length,
        areas: iopt.areas.map((a) => ({
          iova: a.iova,
          last: a.lastIova,
          index: a.index,
          lastIndex: a.lastIndex,
          pageOffset: a.pageOffset,
          prot: a.iommuProt,
          storage: a.storageDomain ? iopt.domains.indexOf(a.storageDomain) : -1,
          numAccesses: a.numAccesses,
          pages: a.pages
            ? {
                npinned: a.pages.npinned,
                lastNpinned: a.pages.lastNpinned,
                xarray: [...a.pages.pinnedPfns.entries()].sort((x, y) => x[0] - y[0]),
                accesses: a.pages.accessItree.nodes.map((n) => [n.start, n.last, n.users]),
                domainsItree: a.pages.domainsItree.nodes.map((n) => [n.start, n.last]),
              }
            : null,
        })),
      });
    }
  }
  const domains = [];
  for (const id of ictx.objectIds) {
    const h = ictx.hwpt(id);
    if (h) domains.push({ id, map: translations(h.domain) });
  }
  return {
    objects: ictx.objectIds,
    ioases,
    domains,
    pinned: ictx.mm.memory.pinned,
    pins: pinCounts(ictx),
    lockedVm: ictx.user.lockedVm,
    mmLockedVm: ictx.mm.lockedVm,
    pinnedVm: ictx.pinnedVm,
  };
}

/** Pin count of every page of `buffer` and the other regions. */
function pinCounts(ictx: Iommufd): number[] {
  const out: number[] = [];
  for (const r of ictx.mm.memory.allRegions)
    for (let v = r.vaddr; v < r.end; v += PAGE_SIZE) out.push(ictx.mm.memory.pinCount(v));
  return out;
}

/**
 * The domain's translations over the probe windows: [window, offset, phys, leaf length] per leaf
 * (2 KiB steps over holes). Windows may lie anywhere below 2^64 (bigint bases above 2^53).
 */
function translations(domain: IommuDomain): number[][] {
  const out: number[][] = [];
  const r = new PhysLength();
  const ops = domain.ops!;
  probeBases.forEach((base, w) => {
    const big = typeof base === "bigint";
    for (let off = 0; off < probeSpan; ) {
      const iova = big ? base + BigInt(off) : base + off;
      ops.iovaToPhysLength!(domain, iova, r);
      if (!r.mapped) {
        off += 2048;
        continue;
      }
      out.push([w, off, r.physNumber, r.length]);
      const mod = big ? Number((iova as bigint) % BigInt(r.length)) : (iova as number) % r.length;
      off += Math.max(2048, r.length - mod);
    }
  });
  return out;
}

/** IOVA windows {@link stateOf} probes domains over (tests set them to cover their IOVAs). */
export const probeBases: Addr[] = [];
export let probeSpan = 0;
export function setProbe(bases: Addr[], span: number): void {
  probeBases.length = 0;
  probeBases.push(...bases);
  probeSpan = span;
}
