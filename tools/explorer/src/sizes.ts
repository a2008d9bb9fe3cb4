// tools/explorer: leaf colours by translation-unit size (4K, 64K, 2M, 32M, 512M, 1G, ...): fixed
// colours for the sizes the formats share, a hue from log2(size) for the rest. All keep ≥ 4.5:1
// contrast with the white labels drawn on them.
import { formatSize } from "@iommu/script";

const FIXED: ReadonlyMap<number, string> = new Map([
  [2 ** 10, "#5b3f8c"],
  [2 ** 12, "#1f5fa8"],
  [2 ** 13, "#1d6f86"],
  [2 ** 14, "#14737a"],
  [2 ** 16, "#2e7031"],
  [2 ** 20, "#66611a"],
  [2 ** 21, "#a3400c"],
  [2 ** 24, "#8c3b5e"],
  [2 ** 25, "#b0203a"],
  [2 ** 28, "#7a2d8c"],
  [2 ** 29, "#6a2fb0"],
  [2 ** 30, "#3d3a99"],
]);

/** The fill colour of a leaf of `size` bytes. */
export function leafColour(size: number): string {
  const fixed = FIXED.get(size);
  if (fixed) return fixed;
  const hue = Math.round((Math.log2(Math.max(size, 1)) * 37) % 360);
  return `hsl(${hue} 60% 25%)`;
}

/** `4K`, `2M`, `1G`, or hex. */
export function sizeLabel(bytes: number | bigint): string {
  return formatSize(bytes);
}

/** `0x...` for a double or bigint address (negative = sign-extended upper half). */
export function hexAddr(a: number | bigint): string {
  const b = typeof a === "bigint" ? a : BigInt(Math.trunc(a));
  return b < 0n ? `0x${((1n << 64n) + b).toString(16)}` : `0x${b.toString(16)}`;
}
