import { describe, expect, it } from "vitest";
import { ERRNO, errnoName, IommuError, negErrno } from "./errno.js";

describe("errno", () => {
  it("uses the kernel's numbers", () => {
    expect([ERRNO.ENOENT, ERRNO.ENOMEM, ERRNO.EEXIST, ERRNO.EINVAL, ERRNO.ERANGE]).toEqual([
      2, 12, 17, 22, 34,
    ]);
    expect([ERRNO.ENXIO, ERRNO.EOVERFLOW, ERRNO.EOPNOTSUPP, ERRNO.EADDRINUSE]).toEqual([6, 75, 95, 98]);
    expect(errnoName(-98)).toBe("EADDRINUSE");
    expect(negErrno("EINVAL")).toBe(-22);
  });

  it("carries name, number, op and arguments", () => {
    const e = IommuError.fromReturn(-17, "iommu_map", { iova: 0x1000 });
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.errno, e.op, e.args.iova]).toEqual(["EEXIST", 17, "iommu_map", 0x1000]);
    // The message names the failed call's IOVA and sizes (hex), so a log line says where.
    expect(e.message).toBe("iommu_map: EEXIST iova=0x1000");
    const range = IommuError.fromReturn(-34, "iommu_map", { iova: 2n ** 60n, size: 0x2000, prot: 3 });
    expect(range.message).toBe("iommu_map: ERANGE iova=0x1000000000000000 size=0x2000 prot=0x3");
    const odd = IommuError.fromReturn(-200, "x");
    expect(odd.errno).toBe(200);
  });
});
