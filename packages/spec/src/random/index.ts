export type { RandomState } from "./seeded-random";
export { hashSeed, SeededRandom } from "./seeded-random";
