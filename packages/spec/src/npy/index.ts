export type { NpyArray } from "./read-npy";
export { MAX_NPY_DIMENSIONS, MAX_NPY_HEADER_BYTES, readNpy } from "./read-npy";
