/**
 * drivers/iommu/ipmmu-vmsa.c: the per-SoC feature tables (`struct ipmmu_features`:
 * ipmmu_features_default for R-Car Gen2 / RZ/G1, _rcar_gen3, _rcar_gen4), the compatibles
 * that select them (`ipmmu_of_ids[]`), and the SoC allow/deny lists of
 * `ipmmu_device_is_allowed()`.
 */

/** `struct ipmmu_features` */
export interface IpmmuFeatures {
  readonly useNsAliasOffset: boolean;
  /** Gen3/Gen4: cache (leaf) IPMMUs in front of one main IPMMU-MM that owns the contexts. */
  readonly hasCacheLeafNodes: boolean;
  readonly numberOfContexts: number;
  readonly numUtlbs: number;
  readonly setupImbuscr: boolean;
  readonly twobitImttbcrSl0: boolean;
  /** Context 0 is kept for the firmware. */
  readonly reservedContext: boolean;
  /** IMTTBCR gets inner-shareable write-back walk attributes. */
  readonly cacheSnoop: boolean;
  readonly ctxOffsetBase: number;
  readonly ctxOffsetStride: number;
  readonly utlbOffsetBase: number;
}

/** `ipmmu_features_default` (R-Car Gen2, RZ/G1): one context ("software only tested with one"). */
export const IPMMU_FEATURES_DEFAULT: IpmmuFeatures = {
  useNsAliasOffset: true,
  hasCacheLeafNodes: false,
  numberOfContexts: 1,
  numUtlbs: 32,
  setupImbuscr: true,
  twobitImttbcrSl0: false,
  reservedContext: false,
  cacheSnoop: true,
  ctxOffsetBase: 0,
  ctxOffsetStride: 0x40,
  utlbOffsetBase: 0,
};

/** `ipmmu_features_rcar_gen3` (R-Car Gen3, RZ/G2): 8 contexts (0 reserved), 48 micro-TLBs. */
export const IPMMU_FEATURES_RCAR_GEN3: IpmmuFeatures = {
  useNsAliasOffset: false,
  hasCacheLeafNodes: true,
  numberOfContexts: 8,
  numUtlbs: 48,
  setupImbuscr: false,
  twobitImttbcrSl0: true,
  reservedContext: true,
  cacheSnoop: false,
  ctxOffsetBase: 0,
  ctxOffsetStride: 0x40,
  utlbOffsetBase: 0,
};

/** `ipmmu_features_rcar_gen4` (R-Car V3U and Gen4): 16 contexts (0 reserved), 64 micro-TLBs. */
export const IPMMU_FEATURES_RCAR_GEN4: IpmmuFeatures = {
  useNsAliasOffset: false,
  hasCacheLeafNodes: true,
  numberOfContexts: 16,
  numUtlbs: 64,
  setupImbuscr: false,
  twobitImttbcrSl0: true,
  reservedContext: true,
  cacheSnoop: false,
  ctxOffsetBase: 0x1_0000,
  ctxOffsetStride: 0x1040,
  utlbOffsetBase: 0x3000,
};

/** `ipmmu_of_ids[]`: compatible → features. */
export const IPMMU_OF_IDS: Readonly<Record<string, IpmmuFeatures>> = {
  "renesas,ipmmu-vmsa": IPMMU_FEATURES_DEFAULT,
  "renesas,ipmmu-r8a774a1": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a774b1": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a774c0": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a774e1": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a7795": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a7796": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a77961": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a77965": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a77970": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a77980": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a77990": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a77995": IPMMU_FEATURES_RCAR_GEN3,
  "renesas,ipmmu-r8a779a0": IPMMU_FEATURES_RCAR_GEN4,
  "renesas,rcar-gen4-ipmmu-vmsa": IPMMU_FEATURES_RCAR_GEN4,
};

/** A SoC the model knows, by its `soc_id` (`r8a7795` = R-Car H3, ...). */
export interface IpmmuSocInfo {
  readonly socId: string;
  /** `soc_device_attribute.family`. */
  readonly family: "R-Car Gen2" | "RZ/G1" | "RZ/G2" | "R-Car Gen3" | "R-Car Gen4";
  /** The IPMMU compatible its device tree matches. */
  readonly compatible: string;
}

const gen2 = (socId: string, family: "R-Car Gen2" | "RZ/G1"): IpmmuSocInfo => ({
  socId,
  family,
  compatible: "renesas,ipmmu-vmsa",
});
const own = (socId: string, family: IpmmuSocInfo["family"]): IpmmuSocInfo => ({
  socId,
  family,
  compatible: `renesas,ipmmu-${socId}`,
});
const gen4 = (socId: string): IpmmuSocInfo => ({
  socId,
  family: "R-Car Gen4",
  compatible: "renesas,rcar-gen4-ipmmu-vmsa",
});

/** The SoCs whose IPMMUs the driver matches. */
export const IPMMU_SOCS: Readonly<Record<string, IpmmuSocInfo>> = Object.fromEntries(
  [
    gen2("r8a7790", "R-Car Gen2"),
    gen2("r8a7791", "R-Car Gen2"),
    gen2("r8a7793", "R-Car Gen2"),
    gen2("r8a7794", "R-Car Gen2"),
    gen2("r8a7743", "RZ/G1"),
    gen2("r8a7744", "RZ/G1"),
    gen2("r8a7745", "RZ/G1"),
    gen2("r8a77470", "RZ/G1"),
    own("r8a774a1", "RZ/G2"),
    own("r8a774b1", "RZ/G2"),
    own("r8a774c0", "RZ/G2"),
    own("r8a774e1", "RZ/G2"),
    own("r8a7795", "R-Car Gen3"),
    own("r8a7796", "R-Car Gen3"),
    own("r8a77961", "R-Car Gen3"),
    own("r8a77965", "R-Car Gen3"),
    own("r8a77970", "R-Car Gen3"),
    own("r8a77980", "R-Car Gen3"),
    own("r8a77990", "R-Car Gen3"),
    own("r8a77995", "R-Car Gen3"),
    own("r8a779a0", "R-Car Gen4"),
    gen4("r8a779f0"),
    gen4("r8a779g0"),
    gen4("r8a779h0"),
  ].map((s) => [s.socId, s]),
);

/** `devices_allowlist[]`: the only platform devices Gen3/Gen4/RZ/G2 let through. */
export const IPMMU_DEVICES_ALLOWLIST: readonly string[] = [
  "ee100000.mmc",
  "ee120000.mmc",
  "ee140000.mmc",
  "ee160000.mmc",
];

/**
 * `ipmmu_device_is_allowed()`: every device on SoCs outside `soc_needs_opt_in` (Gen2, RZ/G1);
 * on Gen3/Gen4/RZ/G2 none on the denied SoCs (`soc_denylist`: r8a774a1, r8a7795 ES2.x,
 * r8a7796), else PCI devices and the allow-listed ones.
 */
export function ipmmuDeviceIsAllowed(
  soc: IpmmuSocInfo,
  revision: string,
  dev: { readonly name: string; readonly pci: boolean },
): boolean {
  if (soc.family === "R-Car Gen2" || soc.family === "RZ/G1") return true;
  if (soc.socId === "r8a774a1" || soc.socId === "r8a7796") return false;
  if (soc.socId === "r8a7795" && /^ES2\./.test(revision)) return false;
  if (dev.pci) return true;
  return IPMMU_DEVICES_ALLOWLIST.includes(dev.name);
}
