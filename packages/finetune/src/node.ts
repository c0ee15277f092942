/**
 * `@kora/finetune/node`: the workflow steps that read or write files with Node's file system — backbones from a
 * preset or a checkpoint on disk, and model folders. The main entry, `@kora/finetune`, has everything else and runs
 * wherever tfjs does.
 * @packageDocumentation
 */
export type { BackboneSource } from "./node/backbone";
export { openBackbone } from "./node/backbone";
export type { SaveModelOptions } from "./node/model-folder";
export { loadModel, readModelManifest, saveModel } from "./node/model-folder";
