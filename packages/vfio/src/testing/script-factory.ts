import type { ScriptDomainFactory } from "../script/interpreter.js";
import { createLpaeLikeDomain } from "./lpae-like-domain.js";

/** Domains for the script interpreter in this package's tests: LPAE-like, 4K|2M|1G. */
export const lpaeLikeFactory: ScriptDomainFactory = (spec) => {
  const bitmap = spec.pgsizes === undefined ? 0x40201000 : spec.pgsizes % 2 ** 31;
  const restricted = bitmap & 0x40201000;
  if (!(restricted & 0x1000)) return -12;
  return createLpaeLikeDomain(spec.driver, {
    ias: spec.ias,
    pgsizeBitmap: restricted,
    counters: spec.counters,
  });
};
