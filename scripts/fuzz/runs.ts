// How many inputs a fuzz property tries, and with which seed. CI runs the small default with a fixed seed, so a
// failure reproduces; a release campaign raises FUZZ_RUNS (and may pick FUZZ_SEED) through the environment.

/** Inputs per property: `FUZZ_RUNS` when set (a positive integer), else `ciDefault`. */
export function fuzzRuns(ciDefault: number): number {
  const raw = process.env["FUZZ_RUNS"];
  if (raw === undefined || raw === "") return ciDefault;
  const runs = Number(raw);
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, got ${raw}`);
  return runs;
}

/** The fast-check seed: `FUZZ_SEED` when set, else `ciDefault` (fixed, so CI failures reproduce). */
export function fuzzSeed(ciDefault: number): number {
  const raw = process.env["FUZZ_SEED"];
  if (raw === undefined || raw === "") return ciDefault;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${raw}`);
  return seed;
}

/**
 * A vitest timeout for a property of `runs` inputs: `perInputMs` each plus a minute of slack. The per-input bound
 * of {@link expectTypedOrSuccess} catches hangs; this only keeps a long campaign from hitting vitest's default.
 */
export function fuzzTimeoutMs(runs: number, perInputMs: number): number {
  return 60_000 + runs * perInputMs;
}
