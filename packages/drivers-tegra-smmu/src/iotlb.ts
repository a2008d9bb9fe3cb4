/**
 * drivers/iommu/tegra-smmu.c: what a Tegra SMMU does with the flushes of `tegra_smmu_set_pte()`
 * / `tegra_smmu_set_pde()` — `smmu_flush_tlb_group()` (16 KiB) and `smmu_flush_tlb_section()`
 * (4 MiB) by ASID, `smmu_flush_tlb_asid()`, and `smmu_flush_ptc()` of the page-directory line
 * holding a PDE (the PTC caches PDEs: the model's walk cache) — for the core's IOTLB model,
 * each completed by the read-back of `smmu_flush()` (SMMU_PTB_ASID).
 *
 * The feed reads the SMMU's MMIO accesses through its `mmioTap` (nothing in the flush path
 * changes). PTC flushes of page-table lines (cached PTEs) are not modelled apart: the IOTLB
 * entry stands for the translation, and every PTE write flushes both its PTC line and its TLB
 * group.
 */
import {
  type IotlbCommandFeed,
  type IotlbInvalidation,
  IotlbModel,
  type IotlbModelOptions,
  SZ_4M,
} from "@iommu/core";
import {
  SMMU_PTB_ASID,
  SMMU_PTC_FLUSH,
  SMMU_PTC_FLUSH_HI,
  SMMU_PTC_FLUSH_HI_MASK,
  SMMU_PTC_FLUSH_TYPE_ADR,
  SMMU_TLB_FLUSH,
  SMMU_TLB_FLUSH_ASID_MATCH,
  SMMU_TLB_FLUSH_VA_MATCH_ALL,
  SMMU_TLB_FLUSH_VA_MATCH_GROUP,
  SMMU_TLB_FLUSH_VA_MATCH_SECTION,
} from "./regs.js";
import type { TegraSmmuDomain } from "./tegra-smmu.js";

/** Model-only: one register access of the SMMU as the feed logged it. */
export interface TegraSmmuMmioAccess {
  readonly write: boolean;
  readonly offset: number;
  readonly value: number;
}

/** Model-only: how {@link tegraSmmuIotlbFeed} reads the accesses. */
export interface TegraSmmuIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each access before the SMMU acts on it. */
  rewrite?: (access: TegraSmmuMmioAccess) => TegraSmmuMmioAccess | null;
}

/** Model-only: decoder state carried between accesses (the PTC_FLUSH_HI half of an address). */
export interface TegraSmmuDecodeState {
  ptcHi: number;
}

/** Model-only: an IOTLB model of the SMMU as `d`'s swgroups see it (tagged with `d`'s ASID). */
export function tegraSmmuIotlbModel(
  d: TegraSmmuDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  if (d.useCount === 0) throw new Error("tegraSmmuIotlbModel: the address space has no ASID (not attached)");
  return new IotlbModel(d, { ...options, tag: d.id });
}

const PAGE = 0x1000;
const SZ_16K = 0x4000;

/**
 * Model-only: one MMIO access as the SMMU applies it to `d`'s cached translations; `"sync"`
 * for the read of SMMU_PTB_ASID that `smmu_flush()` uses to complete the flushes before it.
 */
export function tegraSmmuDecodeMmio(
  a: TegraSmmuMmioAccess,
  d: TegraSmmuDomain,
  state: TegraSmmuDecodeState,
): IotlbInvalidation | "sync" | null {
  if (!a.write) return a.offset === SMMU_PTB_ASID ? "sync" : null;
  const base = { iova: 0, size: 0, leafOnly: true, leafSize: 0 };
  if (a.offset === SMMU_PTC_FLUSH_HI) {
    state.ptcHi = a.value & SMMU_PTC_FLUSH_HI_MASK;
    return null;
  }
  if (a.offset === SMMU_PTC_FLUSH) {
    if (!(a.value & SMMU_PTC_FLUSH_TYPE_ADR))
      return { ...base, scope: "walk", tag: -1, size: 2 ** 32, command: "PTC_FLUSH_ALL" };
    const hi = d.smmu.soc.numAddressBits > 32 ? state.ptcHi : 0;
    const pa = hi * 2 ** 32 + ((a.value & ~3) >>> 0);
    // A line of this address space's page directory: the PDEs on it (atom_size bytes).
    if (pa < d.pd || pa >= d.pd + 4096) return null;
    const atom = d.smmu.soc.atomSize;
    const first = Math.floor((pa - d.pd) / atom) * (atom / 4);
    return {
      ...base,
      scope: "walk",
      tag: d.id,
      iova: first * SZ_4M,
      size: (atom / 4) * SZ_4M,
      command: "PTC_FLUSH",
    };
  }
  if (a.offset !== SMMU_TLB_FLUSH) return null;
  const v = a.value;
  const tag = !(v & SMMU_TLB_FLUSH_ASID_MATCH)
    ? -1
    : d.smmu.soc.numAsids === 4
      ? (v >>> 29) & 0x3
      : (v >>> 24) & 0x7f;
  // TLB flushes leave the PTC (the walk cache) alone.
  switch (v & 3) {
    case SMMU_TLB_FLUSH_VA_MATCH_ALL:
      return tag === -1
        ? { ...base, scope: "all", tag, command: "TLB_FLUSH_ALL" }
        : { ...base, scope: "range", tag, size: 2 ** 32, command: "TLB_FLUSH_ASID" };
    case SMMU_TLB_FLUSH_VA_MATCH_SECTION:
      return {
        ...base,
        scope: "range",
        tag,
        iova: (v & 0xffc00) * PAGE,
        size: SZ_4M,
        command: "TLB_FLUSH_SECTION",
      };
    case SMMU_TLB_FLUSH_VA_MATCH_GROUP:
      return {
        ...base,
        scope: "range",
        tag,
        iova: (v & 0xffffc) * PAGE,
        size: SZ_16K,
        command: "TLB_FLUSH_GROUP",
      };
    default:
      return null;
  }
}

/**
 * Model-only: the flushes `d`'s SMMU made since the feed was made, applied to the model at each
 * drain (queued, completed by the next `smmu_flush()` read-back). Installs the SMMU's `mmioTap`
 * (one feed per SMMU); `close()` removes it.
 */
export function tegraSmmuIotlbFeed(
  d: TegraSmmuDomain,
  options: TegraSmmuIotlbFeedOptions = {},
): IotlbCommandFeed & { close(): void } {
  const smmu = d.smmu;
  if (smmu.mmioTap) throw new Error("tegraSmmuIotlbFeed: the SMMU already has an MMIO tap");
  const log: TegraSmmuMmioAccess[] = [];
  const tap = (write: boolean, offset: number, value: number): void => {
    log.push({ write, offset, value });
  };
  smmu.mmioTap = tap;
  const state: TegraSmmuDecodeState = { ptcHi: 0 };
  return {
    drain(model) {
      for (const raw of log) {
        const a = options.rewrite ? options.rewrite(raw) : raw;
        if (!a) continue;
        const inv = tegraSmmuDecodeMmio(a, d, state);
        if (inv === "sync") model.sync();
        else if (inv) model.issue(inv);
      }
      log.length = 0;
    },
    close() {
      if (smmu.mmioTap === tap) smmu.mmioTap = null;
    },
  };
}
