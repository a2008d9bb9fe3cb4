/**
 * `include/linux/sizes.h`: the `SZ_*` byte sizes, defined once for every package. Sizes above
 * 2^31 are exact doubles (every power of two up to 2^1023 is).
 */

/** `SZ_1K` */
export const SZ_1K = 0x400;
/** `SZ_2K` */
export const SZ_2K = 0x800;
/** `SZ_4K` */
export const SZ_4K = 0x1000;
/** `SZ_8K` */
export const SZ_8K = 0x2000;
/** `SZ_16K` */
export const SZ_16K = 0x4000;
/** `SZ_32K` */
export const SZ_32K = 0x8000;
/** `SZ_64K` */
export const SZ_64K = 0x1_0000;
/** `SZ_128K` */
export const SZ_128K = 0x2_0000;
/** `SZ_256K` */
export const SZ_256K = 0x4_0000;
/** `SZ_512K` */
export const SZ_512K = 0x8_0000;
/** `SZ_1M` */
export const SZ_1M = 0x10_0000;
/** `SZ_2M` */
export const SZ_2M = 0x20_0000;
/** `SZ_4M` */
export const SZ_4M = 0x40_0000;
/** `SZ_8M` */
export const SZ_8M = 0x80_0000;
/** `SZ_16M` */
export const SZ_16M = 0x100_0000;
/** `SZ_32M` */
export const SZ_32M = 0x200_0000;
/** `SZ_64M` */
export const SZ_64M = 0x400_0000;
/** `SZ_128M` */
export const SZ_128M = 0x800_0000;
/** `SZ_256M` */
export const SZ_256M = 0x1000_0000;
/** `SZ_512M` */
export const SZ_512M = 0x2000_0000;
/** `SZ_1G` */
export const SZ_1G = 0x4000_0000;
/** `SZ_2G` */
export const SZ_2G = 0x8000_0000;
/** `SZ_4G` */
export const SZ_4G = 0x1_0000_0000;
/** `SZ_8G` */
export const SZ_8G = 0x2_0000_0000;
/** `SZ_16G` */
export const SZ_16G = 0x4_0000_0000;
/** `SZ_32G` */
export const SZ_32G = 0x8_0000_0000;
/** `SZ_64G` */
export const SZ_64G = 0x10_0000_0000;
/** `SZ_128G` */
export const SZ_128G = 0x20_0000_0000;
/** `SZ_256G` */
export const SZ_256G = 0x40_0000_0000;
/** `SZ_512G` */
export const SZ_512G = 0x80_0000_0000;
/** `SZ_1T` */
export const SZ_1T = 0x100_0000_0000;
/** 4 TiB: not in sizes.h; io-pgtable-arm writes the 52-bit 64K-granule level-1 block as `1ULL << 42`. */
export const SZ_4T = 0x400_0000_0000;
/** `SZ_64T` */
export const SZ_64T = 0x4000_0000_0000;
