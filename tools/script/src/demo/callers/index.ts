/**
 * Every caller scenario of `iommu demo` (see ../caller.ts), in table order after the VFIO rows:
 * adding a caller's rows is one import and one spread below.
 */
import type { CallerScenario } from "../caller.js";
import { DRM_GPU_SCENARIOS } from "./drm-gpu.js";
import { IOMMUFD_SCENARIOS } from "./iommufd.js";
import { VIRTIO_IOMMU_SCENARIOS } from "./virtio-iommu.js";

export const CALLER_SCENARIOS: readonly CallerScenario[] = [
  ...IOMMUFD_SCENARIOS,
  ...VIRTIO_IOMMU_SCENARIOS,
  ...DRM_GPU_SCENARIOS,
];
