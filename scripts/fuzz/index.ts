// Fuzzing helpers shared by the packages' fuzz suites: mutations of valid files (fast-check arbitraries), hand-made
// bombs, the "returns or throws a declared KoraError code, quickly" property, and the run/seed knobs that let CI
// run a few hundred inputs with fixed seeds and a release campaign run many more (FUZZ_RUNS, FUZZ_SEED).
export { deepJson, leBytes } from "./bombs";
export {
  applyJsonMutation,
  INTERESTING_JSON_NUMBERS,
  INTERESTING_JSON_VALUES,
  INTERESTING_KEYS,
  type Json,
  type JsonMutation,
  jsonMutation,
  mutatedJsonText,
} from "./json-mutations";
export {
  applyMutation,
  applyMutations,
  type ByteMutation,
  byteMutation,
  hostileBytes,
  INTERESTING_BYTES,
  INTERESTING_INTEGERS,
  INTERESTING_NUMBERS,
  INTERESTING_STRINGS,
  mutatedBytes,
} from "./mutations";
export { fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "./runs";
export {
  describeBytes,
  expectTypedOrSuccess,
  expectTypedOrSuccessAsync,
  type Outcome,
  type TypedOrSuccessOptions,
} from "./typed-or-success";
