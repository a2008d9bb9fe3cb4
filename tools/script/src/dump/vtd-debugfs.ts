/**
 * drivers/iommu/intel/debugfs.c (`domain_translation_struct`): rebuild VT-d page tables from
 * the text a live system prints under /sys/kernel/debug/iommu/intel/. The walker prints one
 * row per present leaf with the raw value of every entry on its path (PML5E … PTE), and each
 * device block names its root table's physical address, so the tables are determined: each
 * referenced table is 512 zero entries plus the printed entries at their indices. What the
 * dump cannot give — non-present entries, tables without a present entry, the contents of
 * pages a race freed mid-walk — is simply absent from the rebuilt image.
 *
 * Both row formats are read: the current one (a 4 KiB leaf has five value columns, a 2 MiB
 * leaf four, a 1 GiB leaf three) and the old one (always five, zeros below the leaf).
 */
import { hex, PhysMem } from "@iommu/core";

/** One device block: its header and the tables rebuilt from its rows. */
export interface VtdDebugfsDomain {
  /** `0000:00:02.0` (new header) or the device name (old header). */
  readonly device: string;
  /** PASID when the header names one. */
  readonly pasid?: number;
  /** Physical address of the top-level table. */
  readonly root: number;
  /** Levels of the table (3, 4 or 5: 39-, 48- or 57-bit IOVAs). */
  readonly levels: number;
  /** The rebuilt table memory (only the tables the rows reach). */
  readonly mem: PhysMem;
  /** Present leaves read. */
  readonly leaves: number;
}

export type VtdDebugfsResult = { ok: true; domains: VtdDebugfsDomain[] } | { ok: false; error: string };

const NEW_HEADER =
  /^Device ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (?:with pasid ([0-9a-f]+) )?@0x([0-9a-f]+)$/i;
const OLD_HEADER = /^Device (\S+) with pasid (-?\d+) @0x([0-9a-f]+)$/i;
const ROW = /^0x([0-9a-f]+) \|((?:\t0x[0-9a-f]{16}){3,5})\s*$/i;

/** Bits 51:12 of an entry: the next table (or the output page). */
function addrOf(v: bigint): number {
  return Number(v & 0x000f_ffff_ffff_f000n);
}

interface Block {
  device: string;
  pasid?: number;
  root: number;
  rows: Array<{ line: number; pfn: bigint; cols: bigint[] }>;
}

/** Parse the text of one or more `domain_translation_struct` files. */
export function parseVtdDebugfs(text: string): VtdDebugfsResult {
  const blocks: Block[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trimEnd();
    const nh = NEW_HEADER.exec(l);
    const oh = nh ? null : OLD_HEADER.exec(l);
    if (nh || oh) {
      const m = (nh ?? oh)!;
      const root = Number.parseInt(m[3]!, 16);
      if (root % 4096 !== 0)
        return { ok: false, error: `line ${i + 1}: root ${hex(root)} is not 4 KiB aligned` };
      const pasid = m[2] === undefined ? undefined : nh ? Number.parseInt(m[2], 16) : Number(m[2]);
      blocks.push({ device: m[1]!, ...(pasid === undefined ? {} : { pasid }), root, rows: [] });
      continue;
    }
    if (l === "" || /^IOVA_PFN\b/.test(l) || /^DMA Remapping is not enabled/.test(l)) continue;
    const r = ROW.exec(l);
    if (!r)
      return { ok: false, error: `line ${i + 1}: not a domain_translation_struct line: ${l.slice(0, 60)}` };
    const block = blocks.at(-1);
    if (!block) return { ok: false, error: `line ${i + 1}: a row before any "Device …" header` };
    const cols = r[2]!
      .split("\t")
      .filter((c) => c !== "")
      .map((c) => BigInt(c));
    block.rows.push({ line: i + 1, pfn: BigInt(`0x${r[1]}`), cols });
  }
  if (blocks.length === 0)
    return { ok: false, error: 'no "Device … @0x…" header: not a VT-d domain_translation_struct dump' };
  const domains: VtdDebugfsDomain[] = [];
  for (const b of blocks) {
    const d = rebuild(b);
    if (typeof d === "string") return { ok: false, error: d };
    domains.push(d);
  }
  return { ok: true, domains };
}

function rebuild(b: Block): VtdDebugfsDomain | string {
  // Columns are levels 5..1; the table's top level is the highest non-zero column anywhere.
  let top = 0;
  for (const row of b.rows)
    row.cols.forEach((v, k) => {
      if (v !== 0n) top = Math.max(top, 5 - k);
    });
  if (b.rows.length > 0 && (top < 3 || top > 5))
    return `${b.device}: top level ${top} (a VT-d table has 3, 4 or 5 levels)`;
  const levels = b.rows.length === 0 ? 4 : top;
  const mem = new PhysMem();
  const written = new Map<number, bigint>();
  const pages = new Set<number>();
  const put = (pa: number, v: bigint, line: number): string | undefined => {
    const old = written.get(pa);
    if (old !== undefined && old !== v)
      return `line ${line}: the entry at ${hex(pa)} is ${hex(old)} on an earlier row, ${hex(v)} here`;
    written.set(pa, v);
    const page = pa - (pa % 4096);
    if (!pages.has(page)) {
      pages.add(page);
      mem.importRange(page, new Uint8Array(4096));
    }
    mem.write64(pa, v);
    return undefined;
  };
  // The root table is in the image even when no row reaches it (an empty domain).
  pages.add(b.root);
  mem.importRange(b.root, new Uint8Array(4096));
  for (const row of b.rows) {
    // The leaf is the last printed column (new format) or the lowest non-zero one (old).
    let leaf = 0;
    row.cols.forEach((v, k) => {
      if (v !== 0n) leaf = 5 - k;
    });
    if (leaf === 0) return `line ${row.line}: a row without a present entry`;
    const iova = row.pfn << 12n;
    let table = b.root;
    for (let level = levels; level >= leaf; level--) {
      const v = row.cols[5 - level]!;
      if ((v & 3n) === 0n)
        return `line ${row.line}: the level-${level} entry ${hex(v)} is not present (R|W clear)`;
      const index = Number((iova >> BigInt(12 + 9 * (level - 1))) & 511n);
      const err = put(table + 8 * index, v, row.line);
      if (err) return err;
      if (level > leaf) {
        if (v & 0x80n)
          return `line ${row.line}: the level-${level} entry ${hex(v)} is a large page, yet the row goes deeper`;
        table = addrOf(v);
      }
    }
  }
  return {
    device: b.device,
    ...(b.pasid === undefined ? {} : { pasid: b.pasid }),
    root: b.root,
    levels,
    mem,
    leaves: b.rows.length,
  };
}
