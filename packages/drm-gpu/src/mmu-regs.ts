/**
 * drivers/gpu/drm/panfrost/panfrost_regs.h, drivers/gpu/drm/panthor/panthor_regs.h: the
 * address-space (AS) register values both GPU drivers program, the lock-region encoding
 * (`lock_region()` / `pack_region_range()`) and the MAIR → AS_MEMATTR translation
 * (`mair_to_memattr()`).
 */

/** `GPU_MMU_FEATURES_VA_BITS(x)`: bits 7:0 of the MMU features register. */
export function gpuMmuFeaturesVaBits(features: number): number {
  return features & 0xff;
}
/** `GPU_MMU_FEATURES_PA_BITS(x)`: bits 15:8 of the MMU features register. */
export function gpuMmuFeaturesPaBits(features: number): number {
  return (features >>> 8) & 0xff;
}

/** `AS_COMMAND_NOP` … `AS_COMMAND_FLUSH_MEM`: the AS_COMMAND register's commands. */
export const AS_COMMAND_NOP = 0x00;
/** `AS_COMMAND_UPDATE`: broadcast AS_TRANSTAB/MEMATTR/TRANSCFG to the MMUs. */
export const AS_COMMAND_UPDATE = 0x01;
/** `AS_COMMAND_LOCK`: lock the region programmed in AS_LOCKADDR. */
export const AS_COMMAND_LOCK = 0x02;
/** `AS_COMMAND_UNLOCK`: unlock it. */
export const AS_COMMAND_UNLOCK = 0x03;
/** `AS_COMMAND_FLUSH_PT`: flush the L2 caches, then the locked region's TLB entries (and unlock). */
export const AS_COMMAND_FLUSH_PT = 0x04;
/** `AS_COMMAND_FLUSH_MEM`: wait for accesses, flush L1 and L2, then the region (and unlock). */
export const AS_COMMAND_FLUSH_MEM = 0x05;

/** `AS_TRANSCFG_ADRMODE_LEGACY`: the Mali LPAE walker. */
export const AS_TRANSCFG_ADRMODE_LEGACY = 0;
/** `AS_TRANSCFG_ADRMODE_UNMAPPED`: translation off (what a disabled AS is left with). */
export const AS_TRANSCFG_ADRMODE_UNMAPPED = 1;
/** `AS_TRANSCFG_ADRMODE_AARCH64_4K`: the AArch64 4 KiB-granule walker. */
export const AS_TRANSCFG_ADRMODE_AARCH64_4K = 6;
/** `AS_TRANSCFG_INA_BITS(x)`: bits 10:6 (55 − ias). */
export function asTranscfgInaBits(x: number): number {
  return x << 6;
}
/** `AS_TRANSCFG_PTW_MEMATTR_WB` */
export const AS_TRANSCFG_PTW_MEMATTR_WB = 2 << 24;
/** `AS_TRANSCFG_PTW_SH_OS` */
export const AS_TRANSCFG_PTW_SH_OS = 2 << 28;
/** `AS_TRANSCFG_PTW_RA` */
export const AS_TRANSCFG_PTW_RA = 1 << 30;

/** `AS_TRANSTAB_AARCH64_4K_ADDR_MASK`: TTBR bits the AArch64 walker takes (low 4 bits must be 0). */
export const AS_TRANSTAB_AARCH64_4K_ADDR_MASK = 0xffff_ffff_ffff_fff0n;

/** `AS_MEMATTR_AARCH64_*` fields of one attribute byte. */
export const AS_MEMATTR_AARCH64_SH_MIDGARD_INNER = 0 << 4;
/** `AS_MEMATTR_AARCH64_SH_CPU_INNER` */
export const AS_MEMATTR_AARCH64_SH_CPU_INNER = 1 << 4;
/** `AS_MEMATTR_AARCH64_INNER_OUTER_NC` */
export const AS_MEMATTR_AARCH64_INNER_OUTER_NC = 1 << 6;
/** `AS_MEMATTR_AARCH64_INNER_OUTER_WB` */
export const AS_MEMATTR_AARCH64_INNER_OUTER_WB = 2 << 6;
/** `AS_MEMATTR_AARCH64_INNER_ALLOC_EXPL(w, r)` */
export function asMemattrAarch64InnerAllocExpl(w: boolean, r: boolean): number {
  return (3 << 2) | (w ? 1 : 0) | (r ? 2 : 0);
}

/** `AS_LOCK_REGION_MIN_SIZE`: 32 KiB (log2 = 15). */
export const AS_LOCK_REGION_MIN_SIZE = 1n << 15n;

const U64 = (1n << 64n) - 1n;

function fls64(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** A packed AS_LOCKADDR value and the naturally aligned region it really locks. */
export interface LockRegion {
  /** `region_width | region_start`: what is written to AS_LOCKADDR. */
  lockaddr: bigint;
  /** The region the hardware locks: `[start, start + size)`. */
  start: bigint;
  size: bigint;
}

/**
 * `lock_region()` (panfrost) / `pack_region_range()` (panthor): the smallest naturally
 * aligned power-of-two block holding `[start, start + size)`, at least 32 KiB, encoded as
 * `log2(size) − 1` in the low bits with the block's start above them. u64 arithmetic
 * (`start + size` wraps, as for the `~0ULL` whole-space flush). null for size 0.
 */
export function lockRegion(start: bigint, size: bigint): LockRegion | null {
  if (size === 0n) return null;
  const end = (start + size) & U64;
  const width = Math.max(fls64(start ^ ((end - 1n) & U64)), 15) - 1;
  const mask = (U64 >> BigInt(width)) << BigInt(width);
  const regionStart = start & mask;
  return { lockaddr: BigInt(width) | regionStart, start: regionStart, size: 1n << BigInt(width + 1) };
}

/**
 * `mair_to_memattr()`: each MAIR attribute byte becomes a Mali AS_MEMATTR byte — write-back
 * (allocation hints kept) only when inner and outer are both write-back, else non-cacheable;
 * shareability "Midgard inner" unless the GPU is IO-coherent.
 */
export function mairToMemattr(mair: bigint, coherent: boolean): bigint {
  let memattr = 0n;
  for (let i = 0; i < 8; i++) {
    const inAttr = Number((mair >> BigInt(8 * i)) & 0xffn);
    const outer = inAttr >> 4;
    const inner = inAttr & 0xf;
    let out: number;
    if (!(outer & 3) || !(outer & 4) || !(inner & 4)) {
      out =
        AS_MEMATTR_AARCH64_INNER_OUTER_NC |
        AS_MEMATTR_AARCH64_SH_MIDGARD_INNER |
        asMemattrAarch64InnerAllocExpl(false, false);
    } else {
      out =
        AS_MEMATTR_AARCH64_INNER_OUTER_WB |
        asMemattrAarch64InnerAllocExpl((inner & 1) !== 0, (inner & 2) !== 0) |
        (coherent ? AS_MEMATTR_AARCH64_SH_CPU_INNER : AS_MEMATTR_AARCH64_SH_MIDGARD_INNER);
    }
    memattr |= BigInt(out) << BigInt(8 * i);
  }
  return memattr;
}
