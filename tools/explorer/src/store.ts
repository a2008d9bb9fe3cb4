// tools/explorer: the one store of the app's state. Views subscribe; every change goes through
// `set`, which notifies once per call.
import type { PageTableWalk } from "@iommu/core";
import type { Block, TableLayout } from "./layout.js";
import type { View } from "./shapes.js";
import type { LoadedTable } from "./table-source.js";
import type { UnmapRun } from "./unmap-compare.js";

/** The walk panel: the inspector's walk and the core's iova_to_phys_length answer. */
export interface WalkState {
  readonly iova: bigint;
  readonly walk: PageTableWalk;
  readonly answer: { readonly mapped: boolean; readonly phys: bigint; readonly length: number };
}

export interface CompareState {
  readonly from: number;
  readonly size: number;
  readonly legacy?: UnmapRun;
  readonly length?: UnmapRun;
  /** The run being stepped through, and the event shown. */
  readonly playing?: { readonly mode: "legacy" | "length"; readonly step: number };
}

export interface AppState {
  readonly script: string;
  readonly table: LoadedTable | null;
  readonly layout: TableLayout | null;
  readonly view: View;
  readonly focus: Block | null;
  readonly walk: WalkState | null;
  readonly range: { readonly from: number; readonly size: number } | null;
  readonly compare: CompareState | null;
  /** One-line status or error (image loading, bad input). */
  readonly message: string;
  /** The IOTLB toggle: every table a `fmt` line makes gets the IOTLB model. */
  readonly iotlb: boolean;
}

export class Store<S> {
  private readonly listeners = new Set<(s: S) => void>();
  constructor(private state: S) {}

  get(): S {
    return this.state;
  }

  set(patch: Partial<S>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }

  subscribe(fn: (s: S) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
