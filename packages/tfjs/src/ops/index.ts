export type { DropoutScope } from "./dropout-scope";
export { withDropoutScope } from "./dropout-scope";
export { linear } from "./linear";
export type { RecomputeOptions } from "./recompute";
export { recomputeInBackward } from "./recompute";
