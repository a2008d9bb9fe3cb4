/**
 * Model-only (V8): whether two objects share one hidden class ("map"). A hot object whose
 * number field first holds a small integer and later a double (an address ≥ 2^31, a frame
 * number ≥ 2^31, a u32 PTE word with bit 31 set) changes its hidden class the first time
 * that happens; every optimised function that had checked the old class then deoptimises
 * ("wrong map") and is compiled again, which is where much of a first pass's time went
 * (issue 9 §3). Tests create two objects, work one hard and keep the other untouched: after
 * the work both must still share a class.
 */
import { setFlagsFromString } from "node:v8";

type SameMap = (a: object, b: object) => boolean;

let probe: SameMap | undefined;

/** `%HaveSameMap(a, b)`, compiled once with natives syntax enabled for that one function. */
export function sameHiddenClass(a: object, b: object): boolean {
  if (probe === undefined) {
    setFlagsFromString("--allow-natives-syntax");
    probe = new Function("a", "b", "return %HaveSameMap(a, b);") as SameMap;
    setFlagsFromString("--no-allow-natives-syntax");
  }
  return probe(a, b);
}
