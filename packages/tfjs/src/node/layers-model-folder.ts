import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KoraError, type KoraErrorOptions } from "@kora/spec";
import { writeFileAtomic } from "@kora/spec/node";
import type * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";

/** The file names tfjs-node's `file://` handler uses; kept so either side reads the other's folders. */
export const MODEL_JSON_FILE = "model.json";
/** See {@link MODEL_JSON_FILE}. */
export const WEIGHTS_BIN_FILE = "weights.bin";

/** Bytes per element of each dtype a `weights.bin` stores unquantised (tfjs's `DTYPE_VALUE_SIZE_MAP`). */
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function modelFileError(options: KoraErrorOptions<TfjsErrorCode>): KoraError<TfjsErrorCode> {
  return new KoraError<TfjsErrorCode>(options);
}

/** `WeightData` is one buffer or, since tfjs 4.10, a list of them; the file holds them back to back. */
function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return concatenate((Array.isArray(data) ? data : [data]).map((part) => new Uint8Array(part)));
}

function concatenate(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * `model.json` as tfjs-core's `getModelJSONForModelArtifacts` builds it (not exported from `tf.io`): the same keys
 * in the same order, so `JSON.stringify` gives the bytes tfjs-node writes.
 */
function modelJson(artifacts: tf.io.ModelArtifacts, manifest: tf.io.WeightsManifestConfig): tf.io.ModelJSON {
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: manifest,
  } as tf.io.ModelJSON;
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) json.initializerSignature = artifacts.initializerSignature;
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  return json;
}

/** The byte size a manifest entry occupies, or `null` when it cannot be known without decoding (quantised, strings). */
function entryBytes(entry: tf.io.WeightsManifestEntry): number | null {
  if (entry.quantization !== undefined) return null;
  const size = BYTES_PER_ELEMENT[entry.dtype];
  if (size === undefined) return null;
  return entry.shape.reduce((product, d) => product * d, 1) * size;
}

async function readModelFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw modelFileError({ code: "FILE_NOT_FOUND", message: `${what} not found: ${path}`, cause: error });
    throw modelFileError({
      code: "IO_ERROR",
      message: `cannot read ${what} ${path}: ${(error as Error).message}`,
      cause: error,
    });
  }
}

async function loadArtifacts(jsonPath: string): Promise<tf.io.ModelArtifacts> {
  const text = (await readModelFile(jsonPath, "model.json")).toString("utf8");
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (error) {
    throw modelFileError({
      code: "INVALID_MODEL_FILE",
      message: `${jsonPath}: not valid JSON (${(error as Error).message})`,
      cause: error,
    });
  }
  if (typeof json !== "object" || json === null || typeof json.modelTopology !== "object") {
    throw modelFileError({
      code: "INVALID_MODEL_FILE",
      message: `${jsonPath}: expected an object with a "modelTopology" object`,
    });
  }
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) {
    throw modelFileError({
      code: "INVALID_MODEL_FILE",
      message: `${jsonPath}: "weightsManifest" must be an array of weight groups`,
    });
  }
  const folder = dirname(jsonPath);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const [index, group] of manifest.entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) {
      throw modelFileError({
        code: "INVALID_MODEL_FILE",
        message: `${jsonPath}: weightsManifest[${index}] must have "paths" and "weights" arrays`,
      });
    }
    const groupBuffers = [];
    for (const file of group.paths)
      groupBuffers.push(await readModelFile(join(folder, file), "weights file"));
    const actual = groupBuffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
    const sizes = group.weights.map(entryBytes);
    if (sizes.every((size): size is number => size !== null)) {
      const expected = sizes.reduce((sum, size) => sum + size, 0);
      if (expected !== actual) {
        throw modelFileError({
          code: "INVALID_MODEL_FILE",
          message:
            `${group.paths.map((file) => join(folder, file)).join(" + ")}: weightsManifest[${index}] describes ` +
            `${expected} bytes of weights, the file${group.paths.length === 1 ? " holds" : "s hold"} ${actual}`,
        });
      }
    }
    specs.push(...group.weights);
    buffers.push(...groupBuffers);
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: concatenate(buffers).buffer as ArrayBuffer,
  };
  if (json.format !== undefined) artifacts.format = json.format;
  if (json.generatedBy !== undefined) artifacts.generatedBy = json.generatedBy;
  if (json.convertedBy !== undefined) artifacts.convertedBy = json.convertedBy;
  if (json.trainingConfig != null) artifacts.trainingConfig = json.trainingConfig;
  if (json.signature != null) artifacts.signature = json.signature;
  if (json.userDefinedMetadata != null) artifacts.userDefinedMetadata = json.userDefinedMetadata;
  if (json.modelInitializer != null) artifacts.modelInitializer = json.modelInitializer;
  if (json.initializerSignature != null) artifacts.initializerSignature = json.initializerSignature;
  return artifacts;
}

/**
 * A `tf.io.IOHandler` that saves a model to a folder and loads it back, in Node, without `@tensorflow/tfjs-node`:
 * `model.save(nodeFileSystem("my-model"))`, `tf.loadLayersModel(nodeFileSystem("my-model"))`.
 *
 * The folder is tfjs's own layout, byte for byte what tfjs-node's `file://` handler writes: `model.json`
 * (`modelTopology`, `format`, `generatedBy`, `convertedBy`, `weightsManifest` with `paths: ["weights.bin"]`, then
 * `trainingConfig` when compiled) and `weights.bin` (every weight's bytes in manifest order). So a folder written
 * here loads with `tf.loadLayersModel("file://…/model.json")` under tfjs-node, with tfjs-converter's
 * `tensorflowjs_converter` output, or over HTTP in a browser, and the other way round. Loading also reads folders
 * with several weight shards (`group1-shard1of2.bin`, ... as tensorflowjs_converter writes them).
 *
 * Both files are written atomically (weights first, `model.json` last), so an interrupted save leaves the previous
 * model loadable. Node only (`@kora/tfjs/node`).
 *
 * @param path - the folder to save into or load from; for loading, a path ending in `.json` names the model file
 *   itself (as tfjs-node's `file://…/model.json`).
 * @throws KoraError when loading: `FILE_NOT_FOUND` (model.json or a weights file missing, path named), `IO_ERROR`,
 *   `INVALID_MODEL_FILE` (bad JSON, no `modelTopology`, weights whose size differs from the manifest's);
 *   when saving: `INVALID_ARGUMENT` for a binary (graph-model) topology, `IO_ERROR` when a file cannot be written.
 */
export function nodeFileSystem(path: string): tf.io.IOHandler {
  const jsonPath = path.endsWith(".json") ? path : join(path, MODEL_JSON_FILE);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (path.endsWith(".json")) {
        throw new KoraError<TfjsErrorCode>({
          code: "INVALID_ARGUMENT",
          path: "path",
          message: `nodeFileSystem: save into a folder, not a file (got ${path}; the folder gets ${MODEL_JSON_FILE} and ${WEIGHTS_BIN_FILE})`,
        });
      }
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new KoraError<TfjsErrorCode>({
          code: "INVALID_ARGUMENT",
          message:
            "nodeFileSystem: a binary model topology (a graph model's protobuf) cannot be saved as model.json",
        });
      }
      const weights = weightBytes(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [
        { paths: [WEIGHTS_BIN_FILE], weights: artifacts.weightSpecs ?? [] },
      ];
      const jsonText = JSON.stringify(modelJson(artifacts, manifest));
      const weightsPath = join(path, WEIGHTS_BIN_FILE);
      try {
        await writeFileAtomic(weightsPath, weights);
        await writeFileAtomic(jsonPath, jsonText);
      } catch (error) {
        throw modelFileError({
          code: "IO_ERROR",
          message: `cannot save the model into ${path}: ${(error as Error).message}`,
          cause: error,
        });
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology), "utf8"),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? []), "utf8"),
          weightDataBytes: weights.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      return loadArtifacts(jsonPath);
    },
  };
}
