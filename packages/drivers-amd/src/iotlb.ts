/**
 * drivers/iommu/amd/iommu.c: what an AMD-Vi unit does with the commands
 * `amd_iommu_domain_flush_pages` / `amd_iommu_domain_flush_all` queue, for the core's IOTLB
 * model — INVALIDATE_IOMMU_PAGES (one page, a naturally aligned power-of-two range with S set,
 * or all pages of the domain id; PDE set: cached page-directory entries go too), completed by
 * COMPLETION_WAIT.
 *
 * The feed reads the unit's command log (nothing in the invalidation path changes).
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
} from "@iommu/core";
import {
  type AmdCmd,
  type AmdCmdBuf,
  CMD_COMPL_WAIT,
  CMD_INV_IOMMU_ALL_PAGES_ADDRESS,
  CMD_INV_IOMMU_PAGES,
} from "./cmd.js";
import type { ProtectionDomain } from "./domain.js";

/** Model-only: how {@link amdIotlbFeed} reads the command buffer. */
export interface AmdIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each command before the unit executes it. */
  rewrite?: (cmd: AmdCmd) => AmdCmd | null;
}

/** Model-only: an IOTLB model of a unit as `d`'s devices see it (tagged with the domain id). */
export function amdIotlbModel(d: ProtectionDomain, options: Omit<IotlbModelOptions, "tag"> = {}): IotlbModel {
  return new IotlbModel(d, { ...options, tag: d.id });
}

const ALL_PAGES = CMD_INV_IOMMU_ALL_PAGES_ADDRESS & ~0xfffn;

/** Model-only: one command as the unit applies it; `"sync"` for COMPLETION_WAIT. */
export function amdDecodeCmd(c: AmdCmd): IotlbInvalidation | "sync" | null {
  if (c.type === CMD_COMPL_WAIT) return "sync";
  if (c.type !== CMD_INV_IOMMU_PAGES) return null;
  const base = { tag: c.domid, leafOnly: !c.pde, leafSize: 0 };
  if (c.s && c.address === ALL_PAGES)
    return { ...base, scope: "tag", iova: 0, size: 0, command: "INVALIDATE_IOMMU_PAGES all" };
  if (!c.s)
    return {
      ...base,
      scope: "range",
      iova: Number(c.address),
      size: 0x1000,
      command: "INVALIDATE_IOMMU_PAGES",
    };
  // S set: the address bits below the first clear bit (from bit 12 up) are ones; the range
  // is 2^(ones + 1) pages, aligned to its size.
  let pages = c.address >> 12n;
  let ones = 0;
  while (pages & 1n) {
    pages >>= 1n;
    ones++;
  }
  const size = 2 ** (ones + 13);
  const iova = Number((c.address >> BigInt(ones + 13)) << BigInt(ones + 13));
  return { ...base, scope: "range", iova, size, command: "INVALIDATE_IOMMU_PAGES range" };
}

/**
 * Model-only: the commands `unit` queued since the feed was made, applied to the model at each
 * drain. Throws if the log dropped commands.
 */
export function amdIotlbFeed(
  unit: { readonly cmd: AmdCmdBuf },
  options: AmdIotlbFeedOptions = {},
): IotlbCommandFeed {
  const buf = unit.cmd;
  let mark = buf.issued;
  return {
    drain(model) {
      const log = buf.log(mark);
      if (log.length !== buf.issued - mark)
        throw new Error(`amdIotlbFeed: ${buf.issued - mark - log.length} commands fell off the log`);
      mark = buf.issued;
      for (const raw of log) {
        const c = options.rewrite ? options.rewrite(raw) : raw;
        if (!c) continue;
        const inv = amdDecodeCmd(c);
        if (inv === "sync") model.sync();
        else if (inv) model.issue(inv);
      }
    },
  };
}
