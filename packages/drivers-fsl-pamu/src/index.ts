/**
 * drivers/iommu/fsl_pamu_domain.c (+ the PAACT of fsl_pamu.c): @iommu/drivers-fsl-pamu's public
 * surface — the PAMU (an IommuDriver), its aperture-only domains and their ops, the PAACT.
 */

export { PAACE_NUMBER_ENTRIES, PAMU_WINDOW_BITS, Paact, type Ppaace } from "./fsl-pamu.js";
export {
  FSL_PAMU_APERTURE_END,
  FslDmaDomain,
  FslPamu,
  type FslPamuDevice,
  type FslPamuOptions,
  fslPamuDomainFree,
  fslPamuIovaToPhysLength,
} from "./fsl-pamu-domain.js";
export { FSL_PAMU_WINDOW_PROT, fslPamuIovaToPhysRuns } from "./fsl-pamu-runs.js";
