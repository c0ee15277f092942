// The project's one seeded PRNG lives in @kora/spec (shared with @kora/datasets); training re-exports the
// generator for its callers. `hashSeed` is imported from @kora/spec directly: one export, one place.
export { type RandomState, SeededRandom } from "@kora/spec";
