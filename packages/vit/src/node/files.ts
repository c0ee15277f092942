import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KoraError } from "@kora/spec";
import { writeFileAtomic } from "@kora/spec/node";
import type { VitErrorCode } from "../errors";
import type { ViT } from "../model/vit";
import { decodeViT, type LoadViTOptions } from "../weights/load";
import { type EncodeViTOptions, encodeViT } from "../weights/save";
import { VIT_FILES } from "../weights/vit-files";

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new KoraError<VitErrorCode>({
      code: code === "ENOENT" ? "FILE_NOT_FOUND" : "IO_ERROR",
      message: `${path}: cannot read the ${what} (${code ?? (error as Error).message})`,
      cause: error,
    });
  }
}

async function readJson(path: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readBytes(path, "config"));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KoraError<VitErrorCode>({
      code: "INVALID_CONFIG",
      message: `${path}: not valid JSON`,
      cause: error,
    });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Loads a ViT from safetensors bytes or a path (see {@link decodeViT} for names, layouts and errors).
 *
 * - `weights`: bytes, a `.safetensors` file, or a checkpoint folder (`model.safetensors` + `config.json`, as
 *   Hugging Face's `save_pretrained` and {@link saveViT} write it).
 * - `config`: an HF/timm `config.json` object, a {@link ViTConfigInput}, a preset name, or a path to a JSON file.
 *   Defaults to the `config.json` beside the weights when `weights` is a path; required with bytes.
 *
 * Node only (`@kora/vit/node`); in a browser, fetch the bytes yourself and call {@link decodeViT}.
 *
 * @example
 * ```ts
 * const vit = await loadViT("./vit-base-patch16-224"); // HF folder: model.safetensors + config.json
 * ```
 * @throws KoraError `FILE_NOT_FOUND`, `IO_ERROR`, `INVALID_CONFIG`, `WEIGHTS_MISMATCH`, `INVALID_SAFETENSORS`.
 */
export async function loadViT(
  weights: Uint8Array | string,
  config?: unknown,
  options: LoadViTOptions = {},
): Promise<ViT> {
  let bytes: Uint8Array;
  let configValue = config;
  if (typeof weights === "string") {
    const folder = await isDirectory(weights);
    const file = folder ? join(weights, VIT_FILES.weights) : weights;
    bytes = await readBytes(file, "weights");
    if (configValue === undefined) configValue = join(folder ? weights : dirname(weights), VIT_FILES.config);
  } else {
    bytes = weights;
    if (configValue === undefined) {
      throw new KoraError<VitErrorCode>({
        code: "INVALID_ARGUMENT",
        message: "loadViT(bytes, config): a config is required when the weights are given as bytes",
        path: "config",
      });
    }
  }
  if (typeof configValue === "string" && (configValue.endsWith(".json") || /[\\/]/.test(configValue))) {
    configValue = await readJson(configValue);
  }
  return decodeViT(bytes, configValue, options);
}

/**
 * Writes a ViT as a Hugging Face checkpoint folder: `model.safetensors` (see {@link encodeViT}) and
 * `config.json`, each replaced atomically. `loadViT(dir)` reads it back bit-identically.
 */
export async function saveViT(vit: ViT, dir: string, options: EncodeViTOptions = {}): Promise<void> {
  const encoded = encodeViT(vit, options);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, VIT_FILES.weights), encoded.safetensors);
  await writeFileAtomic(
    join(dir, VIT_FILES.config),
    new TextEncoder().encode(`${JSON.stringify(encoded.config, null, 2)}\n`),
  );
}
