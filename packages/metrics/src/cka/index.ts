export { ckaMatrix } from "./cka-matrix";
export type { HsicOptions } from "./hsic";
export { hsic } from "./hsic";
export { linearCKA, rbfCKA } from "./linear-cka";
export type { LinearCKAAsyncOptions } from "./linear-cka-async";
export { linearCKAAsync } from "./linear-cka-async";
export type { MinibatchCKAOptions } from "./minibatch-cka";
export { MinibatchCKA } from "./minibatch-cka";
export type { CKAMatrixOptions, LinearCKAOptions, RbfCKAOptions } from "./options";
