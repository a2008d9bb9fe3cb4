// tools/explorer: the shareable part of the state in the URL's fragment, so a link reproduces
// the view: the script (its `fmt` line holds the format and cfg), the walked IOVA and the
// selected range. Plain `URLSearchParams` text: readable, and the fragment never reaches a server.

export interface UrlState {
  readonly script: string;
  /** Walked IOVA, hex without 0x. */
  readonly walk?: string;
  /** Selected range for the comparison: start and size, hex without 0x. */
  readonly from?: string;
  readonly size?: string;
  /** The IOTLB panel's toggle (`iotlb=1`). */
  readonly iotlb?: boolean;
}

const HEX = /^[0-9a-f]{1,16}$/i;

/** The fragment (without `#`) for `s`. */
export function encodeUrlState(s: UrlState): string {
  const p = new URLSearchParams();
  p.set("script", s.script);
  if (s.walk) p.set("walk", s.walk);
  if (s.from && s.size) {
    p.set("from", s.from);
    p.set("size", s.size);
  }
  if (s.iotlb) p.set("iotlb", "1");
  return p.toString();
}

/** Parse a fragment (with or without `#`); undefined when it holds no script. */
export function decodeUrlState(hash: string): UrlState | undefined {
  const p = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  const script = p.get("script");
  if (script === null) return undefined;
  const hexOf = (k: string) => {
    const v = p.get(k)?.replace(/^0x/i, "");
    return v !== undefined && HEX.test(v) ? v.toLowerCase() : undefined;
  };
  const from = hexOf("from");
  const size = hexOf("size");
  return {
    script,
    walk: hexOf("walk"),
    ...(from && size ? { from, size } : {}),
    ...(p.get("iotlb") === "1" ? { iotlb: true } : {}),
  };
}
