// The project's one seeded PRNG lives in @kora/spec (shared with @kora/datasets); training re-exports it.
export { hashSeed, type RandomState, SeededRandom } from "@kora/spec";
