/**
 * The table-image file: page-table memory with what it takes to read it back — the format
 * and its `fmt` arguments, the root table's physical address and the physical address of the
 * first byte. `iommu script --save-image` (and the script's `save-image` command) writes it;
 * `iommu dump FILE` and the explorer read it; a raw memory image (no header) still works with
 * `--format`/`--root`/`--image-base` given by hand.
 *
 * Layout (all integers little-endian):
 *
 * | offset | bytes | content |
 * |---|---|---|
 * | 0 | 8 | magic `IOMMUIMG` |
 * | 8 | 4 | version (1) |
 * | 12 | 4 | header length H |
 * | 16 | H | UTF-8 JSON: `{ "format", "fmtArgs", "root", "base", "bytes" }`, addresses as `0x…` strings |
 * | 16 + H | bytes | memory from `base` |
 */
import { hex, type PhysMem } from "@iommu/core";

export const TABLE_IMAGE_MAGIC = "IOMMUIMG";
export const TABLE_IMAGE_VERSION = 1;

/** A table image in memory. */
export interface TableImageFile {
  /** Script format name (`arm64-s1`, `amdv1`, ...). */
  readonly format: string;
  /** The `fmt` arguments after the name, as the script gave them. */
  readonly fmtArgs: readonly string[];
  /** Physical address of the top-level table. */
  readonly root: number;
  /** Physical address of `bytes[0]`. */
  readonly base: number;
  readonly bytes: Uint8Array;
}

/** The smallest range covering every page of `mem` (tables only): base and bytes. */
export function snapshotTableMemory(mem: PhysMem): { base: number; bytes: Uint8Array } {
  const ranges = mem.ranges();
  if (ranges.length === 0) return { base: 0, bytes: new Uint8Array(0) };
  const base = ranges[0]!.pa;
  const last = ranges[ranges.length - 1]!;
  return { base, bytes: mem.exportRange(base, last.pa + last.bytes - base) };
}

/** The file bytes of an image. */
export function encodeTableImage(img: TableImageFile): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      format: img.format,
      fmtArgs: img.fmtArgs,
      root: hex(img.root),
      base: hex(img.base),
      bytes: hex(img.bytes.length),
    }),
  );
  const out = new Uint8Array(16 + header.length + img.bytes.length);
  out.set(new TextEncoder().encode(TABLE_IMAGE_MAGIC), 0);
  const v = new DataView(out.buffer);
  v.setUint32(8, TABLE_IMAGE_VERSION, true);
  v.setUint32(12, header.length, true);
  out.set(header, 16);
  out.set(img.bytes, 16 + header.length);
  return out;
}

/** Whether `bytes` starts with the image magic (otherwise: a raw memory image). */
export function isTableImage(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === TABLE_IMAGE_MAGIC;
}

function hexField(h: Record<string, unknown>, key: string): number {
  const v = h[key];
  if (typeof v !== "string" || !/^0x[0-9a-f]+$/i.test(v))
    throw new Error(`header field ${key} is not a hex string`);
  const n = Number.parseInt(v.slice(2), 16);
  if (!Number.isSafeInteger(n)) throw new Error(`header field ${key} exceeds 2^53`);
  return n;
}

/** Parse an image file; a one-line reason when it is not a valid version-1 image. */
export function decodeTableImage(
  bytes: Uint8Array,
): { ok: true; image: TableImageFile } | { ok: false; error: string } {
  try {
    if (!isTableImage(bytes)) throw new Error(`no ${TABLE_IMAGE_MAGIC} header`);
    if (bytes.length < 16) throw new Error("truncated header");
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = v.getUint32(8, true);
    if (version !== TABLE_IMAGE_VERSION)
      throw new Error(`version ${version} (this tool reads ${TABLE_IMAGE_VERSION})`);
    const len = v.getUint32(12, true);
    if (16 + len > bytes.length) throw new Error("truncated header");
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len))) as Record<string, unknown>;
    if (typeof h.format !== "string") throw new Error("header field format is missing");
    const fmtArgs = h.fmtArgs;
    if (!Array.isArray(fmtArgs) || !fmtArgs.every((a) => typeof a === "string"))
      throw new Error("header field fmtArgs is not a list of strings");
    const size = hexField(h, "bytes");
    const body = bytes.subarray(16 + len);
    if (body.length !== size)
      throw new Error(
        `the header says 0x${size.toString(16)} bytes of memory, the file holds 0x${body.length.toString(16)}`,
      );
    return {
      ok: true,
      image: { format: h.format, fmtArgs, root: hexField(h, "root"), base: hexField(h, "base"), bytes: body },
    };
  } catch (e) {
    return { ok: false, error: `not a table image: ${(e as Error).message}` };
  }
}
