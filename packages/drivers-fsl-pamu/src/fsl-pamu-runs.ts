// drivers/iommu/fsl_pamu_domain.c, `fsl_pamu_iova_to_phys()` read as a range (issue 17, a model
// extension): the PAMU has no page table — every valid PPAACE opens the same static window
// [0, 2^36) in "no translate" mode — so the runs of any range come from the aperture bounds
// alone: one identity run inside the aperture and one hole above it (nothing lies below an
// aperture that starts at 0). No entry is read and nothing is allocated.

import { IOMMU_READ, IOMMU_WRITE, PAGE_SIZE, type PhysRunCollector } from "@iommu/core";
import { PAMU_WINDOW_BITS } from "./fsl-pamu.js";
import type { FslDmaDomain } from "./fsl-pamu-domain.js";

const APERTURE = 2 ** PAMU_WINDOW_BITS;
const APERTURE_PFNS = APERTURE / PAGE_SIZE;
const TOP = 2 ** 64;

/**
 * Model-only: what the window grants — `pamu_set_liodn()` programs every PPAACE with
 * `PAACE_AP_PERMS_QUERY | PAACE_AP_PERMS_UPDATE` (reads and writes).
 */
export const FSL_PAMU_WINDOW_PROT = IOMMU_READ | IOMMU_WRITE;

/**
 * Model-only (issue 17; the kernel's lookup is `fsl_pamu_iova_to_phys()`): the
 * `iovaToPhysRuns` op. The units are those of `fslPamuIovaToPhysLength`: the whole aperture as
 * one identity leaf of 2^36 bytes, then the holes 2^k at 2^k (k = 36 … 63) above it, which the
 * collector merges into one hole run. At most 2 runs (inside, above; nothing is below 0),
 * one `walks` (the core's), zero `pteReads`: the window is a register-level constant, not a
 * table entry (the length lookup's one `pteReads` per call is its own accounting).
 */
export function fslPamuIovaToPhysRuns(_d: FslDmaDomain, runs: PhysRunCollector): void {
  if (runs.startPfn < APERTURE_PFNS && !runs.leaf(0, APERTURE_PFNS, 0, FSL_PAMU_WINDOW_PROT, APERTURE))
    return;
  for (let len = APERTURE; len < TOP; len *= 2) {
    const pfn = len / PAGE_SIZE;
    // Blocks wholly before the range are skipped without a call.
    if (2 * pfn <= runs.startPfn) continue;
    if (!runs.hole(pfn, pfn, len)) return;
  }
}
