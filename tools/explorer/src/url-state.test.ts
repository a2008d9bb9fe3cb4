import { describe, expect, it } from "vitest";
import { decodeUrlState, encodeUrlState } from "./url-state.js";

describe("url state", () => {
  it("round-trips the script, walk and range", () => {
    const s = {
      script: "fmt arm64-s1 granule 4k\nmap 0 0 1000 rw # a+b&c=d\n",
      walk: "40000000",
      from: "0",
      size: "1000",
    };
    expect(decodeUrlState(`#${encodeUrlState(s)}`)).toEqual(s);
  });

  it("drops values that are not hex and a range without both ends", () => {
    expect(decodeUrlState("script=x&walk=zz&from=10")).toEqual({ script: "x", walk: undefined });
  });

  it("carries the IOTLB toggle only when on", () => {
    const on = encodeUrlState({ script: "x", iotlb: true });
    expect(on).toBe("script=x&iotlb=1");
    expect(decodeUrlState(on)).toEqual({ script: "x", walk: undefined, iotlb: true });
    expect(encodeUrlState({ script: "x", iotlb: false })).toBe("script=x");
  });

  it("is undefined without a script", () => {
    expect(decodeUrlState("#walk=10")).toBeUndefined();
  });
});
