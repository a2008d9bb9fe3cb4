/**
 * drivers/iommu/s390-iommu.c (test helper, not published): a zPCI function set up like the
 * harness's `levels 3|4|5` machines, with one attached domain over its own table memory.
 */
import { type Addr, PhysMem, TableAllocator } from "@iommu/core";
import { type S390Domain, S390Iommu } from "../s390-iommu.js";

export interface S390Fixture {
  readonly zdev: S390Iommu;
  readonly d: S390Domain;
  readonly allocator: TableAllocator;
}

/** 3 levels: 16 GiB of memory; 4: no limit, end_dma 2^53 − 1; 5: no limit, end_dma 2^64 − 1. */
export function makeS390(
  levels: 3 | 4 | 5 = 3,
  options: { strict?: boolean; base?: number } = {},
): S390Fixture {
  const allocator = new TableAllocator(new PhysMem(), { base: options.base ?? 0x8000_0000 });
  const machine =
    levels === 3
      ? { memoryBytes: 16 * 2 ** 30, apertureFactor: 1 }
      : { memoryBytes: 0, apertureFactor: 0, endDma: levels === 4 ? (1n << 53n) - 1n : (1n << 64n) - 1n };
  const zdev = new S390Iommu({ ...machine, allocator, strict: options.strict ?? false });
  const d = zdev.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`domain_alloc_paging: ${d}`);
  if (zdev.attach(d) !== 0) throw new Error("attach failed");
  return { zdev, d, allocator };
}

/** An IOVA of frame `pfn` + `off` as the API takes it (a bigint above 2^53). */
export function iovaOf(pfn: number, off = 0): Addr {
  const v = pfn * 4096 + off;
  return v <= Number.MAX_SAFE_INTEGER ? v : (BigInt(pfn) << 12n) + BigInt(off);
}
