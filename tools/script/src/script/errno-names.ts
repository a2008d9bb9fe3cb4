/**
 * The errno names the reference harnesses print (`-<errno> (<NAME>)`): SCRIPT-FORMAT.md §2
 * plus the names the generic_pt harness adds. Any other value prints `E?`: deliberately not
 * @iommu/core's full ERRNO table, because the harness only knows these.
 */
const NAMES: ReadonlyMap<number, string> = new Map([
  [2, "ENOENT"],
  [6, "ENXIO"],
  [11, "EAGAIN"],
  [12, "ENOMEM"],
  [14, "EFAULT"],
  [17, "EEXIST"],
  [19, "ENODEV"],
  [22, "EINVAL"],
  [34, "ERANGE"],
  [75, "EOVERFLOW"],
  [91, "EPROTOTYPE"],
  [95, "EOPNOTSUPP"],
  [98, "EADDRINUSE"],
]);

/** `-17 (EEXIST)` for a negative (or positive) errno value; `extra` adds a harness's own names. */
export function formatErrno(errno: number, extra?: ReadonlyMap<number, string>): string {
  const e = Math.abs(errno);
  return `-${e} (${NAMES.get(e) ?? extra?.get(e) ?? "E?"})`;
}
