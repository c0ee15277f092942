export type { NpyArray } from "./read-npy";
export { readNpy } from "./read-npy";
