import fc from "fast-check";
import { beforeEach, expect } from "vitest";

/**
 * Property tests are reproducible: before each test, fast-check's global seed is derived from
 * the test's full name (FNV-1a), so a failure in CI fails the same way locally (fast-check
 * prints the seed and path). A test that passes its own `seed` keeps it. `FC_RANDOM=1` explores
 * fresh seeds instead.
 */
function seedOf(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h | 0;
}

if (!process.env.FC_RANDOM) {
  beforeEach(() => {
    fc.configureGlobal({
      ...fc.readConfigureGlobal(),
      seed: seedOf(expect.getState().currentTestName ?? ""),
    });
  });
}
