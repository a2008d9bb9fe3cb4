/**
 * drivers/gpu/drm/drm_gpuvm.c: the part of drm_gpuvm panthor leans on — the VA tree of
 * mappings (`struct drm_gpuva`) and the split of a map or unmap request into steps
 * (`drm_gpuvm_sm_map()` / `drm_gpuvm_sm_unmap()`): every existing mapping the request
 * overlaps is either unmapped whole or remapped (its parts before and after the request
 * kept as `prev` and `next`), in address order, then the new mapping is mapped.
 */
import type { GpuBo } from "../gem.js";

/** `struct drm_gpuva` (+ panthor_vma's flags): [va, va + range) → bo at boOffset. */
export interface GpuVa {
  va: number;
  range: number;
  bo: GpuBo;
  boOffset: number;
  flags: number;
}

/** `struct drm_gpuva_op_map` (a remap's prev/next, or the new mapping). */
export interface GpuVaPiece {
  va: number;
  range: number;
  boOffset: number;
}

/** The driver's `sm_step_*` callbacks; a non-zero return stops the walk. */
export interface GpuvmSteps {
  map(piece: GpuVaPiece): number;
  remap(old: GpuVa, prev: GpuVaPiece | null, next: GpuVaPiece | null): number;
  unmap(old: GpuVa): number;
}

/** Index of the first VA ending after `addr` in the ascending list `vas`. */
function firstEndingAfter(vas: readonly GpuVa[], addr: number): number {
  let lo = 0;
  let hi = vas.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vas[mid]!.va + vas[mid]!.range <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Remap or unmap every VA overlapping [addr, addr + range). */
function splitOverlaps(vas: readonly GpuVa[], addr: number, range: number, steps: GpuvmSteps): number {
  const end = addr + range;
  const hit: GpuVa[] = [];
  for (let i = firstEndingAfter(vas, addr); i < vas.length && vas[i]!.va < end; i++) hit.push(vas[i]!);
  for (const old of hit) {
    const oldEnd = old.va + old.range;
    const prev = old.va < addr ? { va: old.va, range: addr - old.va, boOffset: old.boOffset } : null;
    const next =
      oldEnd > end ? { va: end, range: oldEnd - end, boOffset: old.boOffset + (end - old.va) } : null;
    const ret = prev || next ? steps.remap(old, prev, next) : steps.unmap(old);
    if (ret) return ret;
  }
  return 0;
}

/** `drm_gpuvm_sm_map()`: split what the new mapping overlaps, then map it. */
export function drmGpuvmSmMap(
  vas: readonly GpuVa[],
  addr: number,
  range: number,
  boOffset: number,
  steps: GpuvmSteps,
): number {
  const ret = splitOverlaps(vas, addr, range, steps);
  return ret || steps.map({ va: addr, range, boOffset });
}

/** `drm_gpuvm_sm_unmap()`: unmap or remap everything in [addr, addr + range). */
export function drmGpuvmSmUnmap(
  vas: readonly GpuVa[],
  addr: number,
  range: number,
  steps: GpuvmSteps,
): number {
  return splitOverlaps(vas, addr, range, steps);
}

/** Insert `va` into the ascending, disjoint list `vas` (`drm_gpuva_insert`). */
export function gpuvaInsert(vas: GpuVa[], va: GpuVa): void {
  vas.splice(firstEndingAfter(vas, va.va), 0, va);
}

/** Remove `va` from `vas` (`drm_gpuva_remove`). */
export function gpuvaRemove(vas: GpuVa[], va: GpuVa): void {
  const i = vas.indexOf(va);
  if (i >= 0) vas.splice(i, 1);
}
