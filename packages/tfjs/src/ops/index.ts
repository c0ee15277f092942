export type { DropoutScope } from "./dropout-scope";
export { withDropoutScope } from "./dropout-scope";
export { linear } from "./linear";
