// Test helpers: a guest driver probed against a device whose host tables are ARM LPAE S2
// domains from @iommu/io-pgtable (a devDependency), and a plain reference of the driver's tree.
import { IommuCounters, type IommuDomain, PhysMem } from "@iommu/core";
import { createIoPgtableDomain } from "@iommu/io-pgtable";
import type { ViommuDomain } from "../viommu-domain.js";
import { type ViommuEndpoint, VirtioIommu } from "../virtio-iommu.js";
import { VirtioIommuDevice, type VirtioIommuDeviceOptions } from "../virtio-iommu-device.js";

export interface Guest {
  readonly device: VirtioIommuDevice;
  readonly viommu: VirtioIommu;
  readonly ep: ViommuEndpoint;
  readonly domain: ViommuDomain;
  readonly hosts: Map<number, IommuDomain>;
}

/** An ARM LPAE S2 host table per device domain (48-bit IPA, 4K granule). */
export function lpaeHosts(hosts: Map<number, IommuDomain>): (id: number) => IommuDomain {
  return (id) => {
    const d = createIoPgtableDomain("arm64-s2", { ias: 48, oas: 48 });
    hosts.set(id, d);
    return d;
  };
}

/**
 * Probe a driver on a fresh device (with a request log of `logCapacity` entries), probe
 * endpoint 0 and allocate one paging domain; attach it unless told not to.
 */
export function guest(
  options: Partial<VirtioIommuDeviceOptions> & {
    attach?: boolean;
    ids?: number[];
    logCapacity?: number;
  } = {},
): Guest {
  const hosts = new Map<number, IommuDomain>();
  const device = new VirtioIommuDevice({
    mem: new PhysMem(),
    createHostDomain: lpaeHosts(hosts),
    inputRange: { start: 0, end: 2 ** 48 - 1 },
    ...options,
  });
  const viommu = VirtioIommu.probe(device, {
    counters: new IommuCounters(),
    logCapacity: options.logCapacity ?? 0,
  });
  if (typeof viommu === "number") throw new Error(`probe failed: ${viommu}`);
  const ep = viommu.probeDevice(options.ids ?? [0]);
  if (typeof ep === "number") throw new Error(`probe_device failed: ${ep}`);
  const domain = viommu.domainAllocPagingFlags(0);
  if (typeof domain === "number") throw new Error(`alloc failed: ${domain}`);
  if (options.attach !== false) {
    const r = viommu.attachDev(domain, ep);
    if (r) throw new Error(`attach failed: ${r}`);
  }
  return { device, viommu, ep, domain, hosts };
}

/** The driver's intervals as [start, end, paddr, flags] tuples, in order. */
export function intervalsOf(domain: ViommuDomain): Array<[number, number, number, number]> {
  const t = domain.mappings;
  return t.nodes().map((n) => [t.startOf(n), t.endOf(n), t.paddrOf(n), t.flagsAt(n)]);
}

/** One interval of {@link RefTree}. */
export interface RefInterval {
  start: number;
  end: number;
  paddr: number;
  flags: number;
  seq: number;
}

/**
 * The reference: a plain list kept in (start, insertion) order and scanned linearly — the
 * semantics of lib/interval_tree.c as the driver uses it, written the obvious way.
 */
export class RefTree {
  list: RefInterval[] = [];
  private seq = 0;

  insert(start: number, end: number, paddr: number, flags: number): void {
    const r = { start, end, paddr, flags, seq: this.seq++ };
    let i = this.list.length;
    while (i > 0 && this.list[i - 1]!.start > start) i--;
    this.list.splice(i, 0, r);
  }

  /** First in order overlapping [lo, hi). */
  first(lo: number, hi: number): RefInterval | undefined {
    return this.list.find((r) => r.start < hi && r.end > lo);
  }

  remove(r: RefInterval): void {
    this.list.splice(this.list.indexOf(r), 1);
  }

  /** viommu_del_mappings() on the list. */
  del(lo: number, hi: number): number {
    let n = 0;
    for (;;) {
      const r = this.first(lo, hi);
      if (!r || r.start < lo) return n;
      n += r.end - r.start;
      this.remove(r);
    }
  }

  /** The translation of x: the first interval containing it. */
  at(x: number): RefInterval | undefined {
    return this.list.find((r) => r.start <= x && x < r.end);
  }
}
