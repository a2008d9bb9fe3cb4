/**
 * Kernel errno values (include/uapi/asm-generic/errno-base.h, errno.h) and the one error
 * class every @iommu package throws.
 *
 * Ops tables follow the kernel calling convention and *return* `-errno` (cheap on hot paths);
 * the public core functions turn a negative return into an {@link IommuError}.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  EOVERFLOW: 75,
  EPROTOTYPE: 91,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const BY_NUMBER = new Map<number, ErrnoName>(
  Object.entries(ERRNO).map(([name, n]) => [n, name as ErrnoName]),
);

/** Name of a (positive or negative) errno value, or `undefined` when it is not in {@link ERRNO}. */
export function errnoName(errno: number): ErrnoName | undefined {
  return BY_NUMBER.get(Math.abs(errno));
}

/** Negative errno for a name: `negErrno("EINVAL") === -22`, the kernel's return convention. */
export function negErrno(name: ErrnoName): number {
  return -ERRNO[name];
}

/**
 * A failed IOMMU operation. `code` is the kernel errno name (`"EEXIST"`), `errno` its
 * positive value, `op` the kernel function it models and `args` the arguments it was given.
 * For map failures `mapped` is what the page table reported before the failure and
 * `unrolled` what the rollback unmap removed again.
 */
/** ` iova=0x1000 size=0x2000`: the numeric arguments of a failed call, in hex, for the message. */
function describeArgs(args: Record<string, unknown>): string {
  let out = "";
  for (const [k, v] of Object.entries(args))
    if ((typeof v === "number" && Number.isInteger(v) && v >= 0) || typeof v === "bigint")
      out += ` ${k}=0x${v.toString(16)}`;
  return out;
}

export class IommuError extends Error {
  override readonly name = "IommuError";
  readonly code: ErrnoName;
  readonly errno: number;
  readonly op: string;
  readonly args: Readonly<Record<string, unknown>>;
  mapped = 0;
  unrolled = 0;
  /** The kernel would have hit BUG_ON() here (see iommuPgsize); the model stops instead. */
  bug = false;

  constructor(code: ErrnoName, op: string, args: Record<string, unknown> = {}, detail?: string) {
    super(`${op}: ${code}${describeArgs(args)}${detail ? ` (${detail})` : ""}`);
    this.code = code;
    this.errno = ERRNO[code];
    this.op = op;
    this.args = args;
  }

  /** Build from a kernel-style negative return value. Unknown values map to EINVAL's class but keep their number. */
  static fromReturn(ret: number, op: string, args: Record<string, unknown> = {}): IommuError {
    const name = errnoName(ret);
    const err = new IommuError(name ?? "EINVAL", op, args, name ? undefined : `errno ${ret}`);
    if (!name) (err as { errno: number }).errno = Math.abs(ret);
    return err;
  }
}
