/**
 * `@kora/vit/node`: load and save ViT checkpoint folders and files with Node's file system. The main entry,
 * `@kora/vit`, has everything else and runs in browsers (decode bytes you fetched with `decodeViT`).
 * @packageDocumentation
 */
export { loadViT, saveViT } from "./node/files";
