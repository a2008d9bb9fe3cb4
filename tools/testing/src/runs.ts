/**
 * packages/core/docs/iova-to-phys-runs.md: the range lookup's test kit, shared by every format
 * package — the runs of a range as plain bigint records, and the reference built from one
 * `iova_to_phys_length` per page (phys) and the inspector's walk (prot) — code paths that
 * share nothing with the range walk under test.
 */
import {
  type IommuDomain,
  IommuError,
  iommuIovaToPhysRuns,
  iommuMap,
  PhysLength,
  type PhysRun,
} from "@iommu/core";
import fc from "fast-check";
import { expect } from "vitest";

export interface RunRecord {
  mapped: boolean;
  iova: bigint;
  phys: bigint;
  size: bigint;
  prot: number;
  leafSize: number;
}

function record(r: PhysRun): RunRecord {
  return {
    mapped: r.mapped,
    iova: BigInt(r.iova),
    phys: BigInt(r.phys),
    size: BigInt(r.size),
    prot: r.prot,
    leafSize: r.mapped ? r.leafSize : 0,
  };
}

/** The runs of [iova, iova + size) through the core entry point. */
export function runsOf(d: IommuDomain, iova: bigint, size: bigint): RunRecord[] {
  const out: RunRecord[] = [];
  const n = iommuIovaToPhysRuns(d, iova, size, (r) => {
    out.push(record(r));
  });
  if (n !== out.length) throw new Error(`runs: returned ${n}, visited ${out.length}`);
  return out;
}

/** Where the reference reads a mapped page's `IOMMU_*` prot: the inspector's walk by default. */
export type ProtOf = (d: IommuDomain, va: bigint) => number;

function inspectorProt(d: IommuDomain): ProtOf {
  const inspector = d.ops?.inspect?.(d) ?? null;
  if (!inspector)
    throw new Error("referenceRuns: the domain has no inspector; pass protOf (how its permissions are read)");
  return (_d, va) => inspector.walk(va).steps.at(-1)?.prot ?? -2;
}

/**
 * Reference runs of [iova, iova + steps·step) (page-aligned): one lookup per `step` (the
 * smallest page size), merged where phys continues and prot is equal; leafSize is the smallest
 * translation unit seen. `protOf` reads permissions for domains without a page table to
 * inspect (an interval tree, an aperture).
 */
export function referenceRuns(
  d: IommuDomain,
  iova: bigint,
  steps: number,
  step: number,
  protOf: ProtOf = inspectorProt(d),
): RunRecord[] {
  const ops = d.ops!;
  const pl = new PhysLength();
  const out: RunRecord[] = [];
  for (let k = 0; k < steps; k++) {
    const va = iova + BigInt(k) * BigInt(step);
    ops.iovaToPhysLength!(d, va, pl);
    const mapped = pl.mapped;
    const phys = mapped ? pl.physBigInt : 0n;
    const prot = mapped ? protOf(d, va) : 0;
    const leafSize = mapped ? pl.length : 0;
    const last = out.at(-1);
    if (last && last.mapped === mapped && last.prot === prot && (!mapped || last.phys + last.size === phys)) {
      last.size += BigInt(step);
      if (leafSize < last.leafSize) last.leafSize = leafSize;
      continue;
    }
    out.push({ mapped, iova: va, phys, size: BigInt(step), prot, leafSize });
  }
  return out;
}

export interface RandomRunsOptions {
  /** Leaf sizes to map (each a page size of the domain); the first is the reference step. */
  sizes: number[];
  /** First IOVA of the window the leaves and the looked-up ranges live in. */
  base: bigint;
  /** Bytes of the window (≤ 4096 steps are looked up per case). */
  window: number;
  prots: number[];
  numRuns: number;
  /** For domains without an inspector: how the reference reads a page's prot. */
  protOf?: ProtOf;
}

/**
 * Property: on random tables (random leaves, some extending the previous one in IOVA and PA so
 * runs span leaves), the runs of a random window equal the per-page reference, in one walk.
 * Returns how many cases had a run spanning several leaves and a hole next to a mapped run.
 */
export function checkRandomRuns(
  make: () => IommuDomain,
  o: RandomRunsOptions,
): { merged: number; mixed: number } {
  const step = o.sizes[0]!;
  let merged = 0;
  let mixed = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          size: fc.constantFrom(...o.sizes),
          slot: fc.nat(),
          pa: fc.nat(255),
          prot: fc.constantFrom(...o.prots),
          follow: fc.boolean(),
        }),
        { maxLength: 30 },
      ),
      fc.nat(),
      fc.nat(),
      (maps, a, b) => {
        const d = make();
        let nextPa = 0x4000_0000;
        let nextIova = -1;
        for (const m of maps) {
          const size = m.size;
          const slot =
            m.follow && nextIova >= 0 && nextIova % size === 0 ? nextIova / size : m.slot % (o.window / size);
          const pa = m.follow ? Math.ceil(nextPa / size) * size : 0x4000_0000 + m.pa * size;
          const iova = o.base + BigInt(slot * size);
          try {
            iommuMap(d, iova <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(iova) : iova, pa, size, m.prot);
          } catch (e) {
            if (!(e instanceof IommuError)) throw e;
          }
          nextIova = (slot + 1) * size;
          nextPa = pa + size;
        }
        const steps = o.window / step;
        const from = a % steps;
        const n = 1 + (b % Math.min(steps - from, 4096));
        const start = o.base + BigInt(from * step);
        const before = d.counters.walks;
        const got = runsOf(d, start, BigInt(n * step));
        expect(d.counters.walks - before).toBe(1);
        expect(got).toEqual(referenceRuns(d, start, n, step, o.protOf ?? inspectorProt(d)));
        if (got.some((r) => r.mapped && r.size > BigInt(r.leafSize))) merged++;
        if (got.some((r) => r.mapped) && got.some((r) => !r.mapped)) mixed++;
      },
    ),
    {
      numRuns: o.numRuns,
      // One case that surely merges two leaves into a run next to a hole, whatever the seed.
      examples: [
        [
          [
            { size: step, slot: 3, pa: 0, prot: o.prots.at(-1)!, follow: false },
            { size: step, slot: 0, pa: 0, prot: o.prots.at(-1)!, follow: true },
            { size: o.sizes.at(-1)!, slot: 1, pa: 7, prot: o.prots[0]!, follow: false },
          ],
          0,
          4095,
        ],
      ],
    },
  );
  return { merged, mixed };
}
