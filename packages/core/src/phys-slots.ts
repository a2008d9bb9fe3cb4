// Model-only: the fake physical RAM behind user pages (shared by the VFIO and iommufd models).
import { PAGE_SIZE } from "./addr.js";
import { SZ_1G, SZ_2M } from "./sizes.js";

/** The fake physical memory that backs user pages: [4 GiB, 64 GiB). */
export const USER_PHYS_BASE = 4 * SZ_1G;
export const USER_PHYS_END = 64 * SZ_1G;

const PAGES_PER_2M = SZ_2M / PAGE_SIZE;
const PAGES_PER_1G = SZ_1G / PAGE_SIZE;

/**
 * Which naturally aligned chunks (4 KiB, 2 MiB, 1 GiB) of user physical memory are taken.
 * A chunk is free only when nothing of any size overlaps it, so each size keeps a set of
 * its own chunks plus use counts of the smaller ones inside each larger chunk: every query
 * and update is O(1) whatever the mix of sizes.
 */
export class PhysSlots {
  private readonly used4k = new Set<number>();
  private readonly used2m = new Set<number>();
  private readonly used1g = new Set<number>();
  /** 4 KiB chunks in use inside each 2 MiB / 1 GiB block, and 2 MiB chunks inside each 1 GiB block. */
  private readonly small2m = new Map<number, number>();
  private readonly small1g = new Map<number, number>();

  /** Whether the chunk of `size` bytes starting at frame `pfn` (aligned) is wholly unused. */
  isFree(pfn: number, size: number): boolean {
    const b2 = Math.floor(pfn / PAGES_PER_2M);
    const b1 = Math.floor(pfn / PAGES_PER_1G);
    if (this.used1g.has(b1)) return false;
    if (size === SZ_1G) return !this.small1g.has(b1);
    if (this.used2m.has(b2)) return false;
    if (size === SZ_2M) return !this.small2m.has(b2);
    return !this.used4k.has(pfn);
  }

  /** Take a free chunk. */
  take(pfn: number, size: number): void {
    this.adjust(pfn, size, 1);
  }

  /** Give a chunk back. */
  release(pfn: number, size: number): void {
    this.adjust(pfn, size, -1);
  }

  private adjust(pfn: number, size: number, delta: 1 | -1): void {
    const b2 = Math.floor(pfn / PAGES_PER_2M);
    const b1 = Math.floor(pfn / PAGES_PER_1G);
    if (size === SZ_1G) {
      toggle(this.used1g, b1, delta);
      return;
    }
    bump(this.small1g, b1, delta);
    if (size === SZ_2M) {
      toggle(this.used2m, b2, delta);
      return;
    }
    bump(this.small2m, b2, delta);
    toggle(this.used4k, pfn, delta);
  }
}

function toggle(set: Set<number>, key: number, delta: 1 | -1): void {
  if (delta > 0) set.add(key);
  else set.delete(key);
}

function bump(map: Map<number, number>, key: number, delta: 1 | -1): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}
