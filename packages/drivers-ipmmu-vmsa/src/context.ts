/**
 * drivers/iommu/ipmmu-vmsa.c: context management — `ipmmu_domain_allocate_context` /
 * `_free_context` in the root IPMMU, `ipmmu_domain_init_context` (the io_pgtable_cfg the
 * driver builds and the ARM_32_LPAE_S1 table, at first attach), `ipmmu_domain_setup_context`
 * (TTBR0, TTBCR, MAIR0, IMBUSCR, IMSTR, IMCTR) and `ipmmu_domain_destroy_context`.
 */
import { negErrno } from "@iommu/core";
import {
  allocIoPgtableOps,
  IO_PGTABLE_QUIRK_ARM_NS,
  type IoPgtableCfg,
  IoPgtableFmt,
} from "@iommu/io-pgtable";
import type { IpmmuVmsaDomain } from "./domain.js";
import type { IpmmuVmsa } from "./ipmmu-vmsa.js";
import {
  IMBUSCR,
  IMBUSCR_BUSSEL_MASK,
  IMBUSCR_DVM,
  IMCTR,
  IMCTR_FLUSH,
  IMCTR_INTEN,
  IMCTR_MMUEN,
  IMMAIR0,
  IMSTR,
  IMTTBCR,
  IMTTBCR_EAE,
  IMTTBCR_IRGN0_WB_WA,
  IMTTBCR_ORGN0_WB_WA,
  IMTTBCR_SH0_INNER_SHAREABLE,
  IMTTBCR_SL0_LVL_1,
  IMTTBCR_SL0_TWOBIT_LVL_1,
  IMTTLBR0,
  IMTTUBR0,
} from "./regs.js";
import { ipmmuCtxWriteAll, ipmmuFlushOps, ipmmuTlbSync } from "./tlb.js";

/** `ipmmu_domain_allocate_context`: the lowest free context of the root, or -EBUSY. */
export function ipmmuDomainAllocateContext(root: IpmmuVmsa, d: IpmmuVmsaDomain): number {
  const ctx = root.contexts.indexOf(null);
  if (ctx < 0) return negErrno("EBUSY");
  root.contexts[ctx] = d;
  return ctx;
}

/** `ipmmu_domain_free_context` */
export function ipmmuDomainFreeContext(root: IpmmuVmsa, ctx: number): void {
  root.contexts[ctx] = null;
}

/**
 * `ipmmu_domain_init_context`: the cfg (ARM_NS quirk, the domain's 4K|2M|1G, ias 32, oas 40,
 * non-coherent walk, ipmmu_flush_ops) and the geometry (32-bit, forced — set before anything
 * can fail, so a failed attach leaves it set), then a context (-EBUSY), then the table
 * (-EINVAL, the context released), then the registers. 0 or -errno.
 */
export function ipmmuDomainInitContext(d: IpmmuVmsaDomain): number {
  const mmu = d.mmu!;
  const cfg: IoPgtableCfg = {
    quirks: IO_PGTABLE_QUIRK_ARM_NS,
    pgsizeBitmap: d.pgsizeBitmap,
    ias: 32,
    oas: 40,
    tlb: ipmmuFlushOps,
    coherentWalk: false,
    allocator: d.allocator,
    counters: d.counters,
  };
  d.geometry.apertureEnd = 2 ** 32 - 1;
  d.geometry.forceAperture = true;
  d.pgtblCfg = cfg;

  const ctx = ipmmuDomainAllocateContext(mmu.root, d);
  if (ctx < 0) return ctx;
  d.contextId = ctx;
  const ops = allocIoPgtableOps(IoPgtableFmt.ARM_32_LPAE_S1, cfg, d);
  if (!ops) {
    ipmmuDomainFreeContext(mmu.root, ctx);
    return negErrno("EINVAL");
  }
  d.pgtblOps = ops;
  ipmmuDomainSetupContext(d);
  return 0;
}

/** `ipmmu_domain_setup_context`: program the context in the root (IMCTR in leaf and root). */
export function ipmmuDomainSetupContext(d: IpmmuVmsaDomain): void {
  const mmu = d.mmu!;
  const root = mmu.root;
  const ctx = d.contextId;
  const f = mmu.features;
  const s1 = d.pgtblCfg!.armLpaeS1Cfg!;
  root.ctxWrite(ctx, IMTTLBR0, Number(s1.ttbr & 0xffff_ffffn));
  root.ctxWrite(ctx, IMTTUBR0, Number((s1.ttbr >> 32n) & 0xffff_ffffn));
  let tmp = f.twobitImttbcrSl0 ? IMTTBCR_SL0_TWOBIT_LVL_1 : IMTTBCR_SL0_LVL_1;
  if (f.cacheSnoop) tmp |= IMTTBCR_SH0_INNER_SHAREABLE | IMTTBCR_ORGN0_WB_WA | IMTTBCR_IRGN0_WB_WA;
  root.ctxWrite(ctx, IMTTBCR, (IMTTBCR_EAE | tmp) >>> 0);
  // The 64-bit MAIR goes through a 32-bit register write: its low word.
  root.ctxWrite(ctx, IMMAIR0, Number(s1.mair & 0xffff_ffffn));
  if (f.setupImbuscr)
    root.ctxWrite(ctx, IMBUSCR, root.ctxRead(ctx, IMBUSCR) & ~(IMBUSCR_DVM | IMBUSCR_BUSSEL_MASK));
  root.ctxWrite(ctx, IMSTR, root.ctxRead(ctx, IMSTR));
  ipmmuCtxWriteAll(d, IMCTR, IMCTR_INTEN | IMCTR_FLUSH | IMCTR_MMUEN);
}

/** `ipmmu_domain_destroy_context`: disable the context (with a flush), wait, release it. */
export function ipmmuDomainDestroyContext(d: IpmmuVmsaDomain): void {
  if (!d.mmu) return;
  ipmmuCtxWriteAll(d, IMCTR, IMCTR_FLUSH);
  ipmmuTlbSync(d);
  ipmmuDomainFreeContext(d.mmu.root, d.contextId);
}
