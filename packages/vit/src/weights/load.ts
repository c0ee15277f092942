import { KoraError, readSafetensors } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { ViTConfig } from "../config/vit-config";
import type { VitErrorCode } from "../errors";
import { ClassificationHead, DepthHead, type ViTHead } from "../model/heads";
import { backboneParameterSpecs, type ParameterSpec, torchShape } from "../model/layout";
import type { ParameterInitializer, ParameterLayout } from "../model/parameters";
import { type ActivationRecomputation, ViT } from "../model/vit";
import { resamplePositionEmbeddings } from "./bicubic";
import { parseCheckpointConfig } from "./checkpoint-config";
import {
  asFloat32Tensor,
  type Float32Tensor,
  hasTimmNames,
  normaliseHfNames,
  type RenameProblem,
  timmToHfTensors,
} from "./tensor-names";

/** Options of {@link decodeViT} and {@link loadViT}. */
export interface LoadViTOptions {
  /**
   * Replace the checkpoint's head: a fresh classification head with this many classes (0 = no head). The file's
   * `classifier.*` / `depth_head.*` tensors are then ignored. Default: the head the config and weights describe.
   */
  numClasses?: number;
  /** Seed of a fresh head (see `numClasses`). Default 0. */
  seed?: number;
  /**
   * Run the model at another image size: the position embeddings are resampled bicubically from the
   * checkpoint's grid (see {@link resamplePositionEmbeddings}). Must be a multiple of the patch size.
   */
  imageSize?: number;
  /** Ignore tensors the model does not use instead of failing. Default false. */
  allowUnexpected?: boolean;
  /** Whether the backbone's variables are trainable. Default true (see {@link ViT.setBackboneTrainable}). */
  trainable?: boolean;
  /** Activation recomputation in training (see {@link ViT.recompute}). Default `"auto"`. */
  recompute?: ActivationRecomputation;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A PyTorch-layout tensor → the tfjs-layout tensor of a parameter. */
function toTfjs(tensor: Float32Tensor, layout: ParameterLayout, shape: number[]): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(tensor.data, tensor.shape, "float32");
    if (layout === "linear") return tf.transpose(t);
    // [D, C, P, P] → [P, P, C, D] → [P·P·C, D]
    if (layout === "patch") return tf.reshape(tf.transpose(t, [2, 3, 1, 0]), shape);
    return tf.reshape(t, shape);
  });
}

/**
 * Builds a {@link ViT} from safetensors bytes and a config: Hugging Face `ViTForImageClassification` names
 * (`vit.…`, `classifier.…`), bare `ViTModel` names (the `pooler.…` is ignored) or timm `vit_*` names (fused
 * `attn.qkv` split into query/key/value), PyTorch `[out, in]` / `[D, C, P, P]` layouts, F32/F16/BF16/F64 data. The
 * config is an HF or timm `config.json` object, a {@link ViTConfigInput} or a preset name (see
 * {@link parseCheckpointConfig}). A `depth_head.projection.*` pair (as {@link encodeViT} writes it) becomes a
 * {@link DepthHead}.
 *
 * @throws KoraError `WEIGHTS_MISMATCH` listing every missing tensor, unexpected tensor, wrong shape, non-float
 * dtype and config/weights disagreement at once; `INVALID_SAFETENSORS`, `INVALID_CONFIG`, `INVALID_ARGUMENT`.
 */
export function decodeViT(weights: Uint8Array, config: unknown, options: LoadViTOptions = {}): ViT {
  const contents = readSafetensors(weights, { asFloat32: true });
  const problems: string[] = [];
  const raw: Record<string, Float32Tensor> = Object.create(null);
  for (const [name, tensor] of Object.entries(contents.tensors)) {
    const float = asFloat32Tensor(tensor);
    if (float === null) problems.push(`${name}: dtype ${tensor.dtype} is not a floating-point type`);
    else raw[name] = float;
  }
  const renameProblems: RenameProblem[] = [];
  const tensors = hasTimmNames(Object.keys(raw))
    ? timmToHfTensors(raw, renameProblems)
    : normaliseHfNames(raw);
  for (const problem of renameProblems) problems.push(`${problem.name}: ${problem.message}`);

  const parsed = parseCheckpointConfig(config);
  let resolved: ViTConfig = parsed.config;
  // Head: an explicit replacement, the stated number of classes, or (config silent) the file's classifier.
  const replaceHead = options.numClasses !== undefined;
  if (replaceHead) {
    const k = options.numClasses as number;
    if (!Number.isSafeInteger(k) || k < 0) {
      throw new KoraError<VitErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `numClasses must be an integer ≥ 0, got ${k}`,
        path: "numClasses",
      });
    }
    for (const name of Object.keys(tensors))
      if (name.startsWith("classifier.") || name.startsWith("depth_head.")) delete tensors[name];
  } else if (!parsed.numClassesStated && tensors["classifier.weight"] !== undefined) {
    resolved = { ...resolved, numClasses: tensors["classifier.weight"].shape[0] ?? 0 };
  }
  const expected: ParameterSpec[] = backboneParameterSpecs(resolved);
  let depthChannels = 0;
  if (!replaceHead && resolved.numClasses > 0) {
    expected.push({
      name: "classifier.weight",
      shape: [resolved.dim, resolved.numClasses],
      layout: "linear",
    });
    expected.push({ name: "classifier.bias", shape: [resolved.numClasses], layout: "plain" });
  } else if (!replaceHead && tensors["depth_head.projection.weight"] !== undefined) {
    const rows = tensors["depth_head.projection.weight"].shape[0] ?? 0;
    const perPixel = resolved.patchSize * resolved.patchSize;
    depthChannels = rows % perPixel === 0 && rows > 0 ? rows / perPixel : 1;
    expected.push({
      name: "depth_head.projection.weight",
      shape: [resolved.dim, perPixel * depthChannels],
      layout: "linear",
    });
    expected.push({ name: "depth_head.projection.bias", shape: [perPixel * depthChannels], layout: "plain" });
  }

  const expectedNames = new Set(expected.map((spec) => spec.name));
  const missing = expected.filter((spec) => tensors[spec.name] === undefined).map((spec) => spec.name);
  const unexpected = Object.keys(tensors).filter((name) => !expectedNames.has(name));
  const wrongShape: string[] = [];
  for (const spec of expected) {
    const tensor = tensors[spec.name];
    if (tensor === undefined) continue;
    const want = torchShape(spec.shape, spec.layout, resolved);
    if (!sameShape(tensor.shape, want)) {
      wrongShape.push(
        `${spec.name} is ${shapeText(tensor.shape)} in the weights, the config implies ${shapeText(want)}`,
      );
    }
  }
  if (missing.length > 0) problems.push(`missing (${missing.length}): ${missing.join(", ")}`);
  if (unexpected.length > 0 && !(options.allowUnexpected ?? false)) {
    problems.push(
      `unexpected (${unexpected.length}; pass allowUnexpected to ignore): ${unexpected.join(", ")}`,
    );
  }
  if (wrongShape.length > 0) problems.push(`wrong shape (${wrongShape.length}): ${wrongShape.join("; ")}`);
  if (problems.length > 0) {
    throw new KoraError<VitErrorCode>({
      code: "WEIGHTS_MISMATCH",
      message: `the weights do not fit a ViT with dim ${resolved.dim}, depth ${resolved.depth}, patch ${resolved.patchSize}, image ${resolved.imageSize}, ${resolved.numClasses} classes:\n  ${problems.join("\n  ")}`,
    });
  }

  // Another image size: resample the position embeddings' grid.
  const targetSize = options.imageSize ?? resolved.imageSize;
  if (targetSize !== resolved.imageSize) {
    if (!Number.isSafeInteger(targetSize) || targetSize < 1 || targetSize % resolved.patchSize !== 0) {
      throw new KoraError<VitErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `imageSize must be a positive multiple of the patch size ${resolved.patchSize}, got ${targetSize}`,
        path: "imageSize",
      });
    }
    const name = "vit.embeddings.position_embeddings";
    const source = tensors[name] as Float32Tensor;
    const toGrid = targetSize / resolved.patchSize;
    tensors[name] = {
      shape: [1, toGrid * toGrid + 1, resolved.dim],
      data: resamplePositionEmbeddings(source.data, {
        dim: resolved.dim,
        fromGrid: resolved.imageSize / resolved.patchSize,
        toGrid,
      }),
    };
    resolved = { ...resolved, imageSize: targetSize };
  }

  const initializer: ParameterInitializer = (name, shape, layout) =>
    toTfjs(tensors[name] as Float32Tensor, layout, shape);
  const trainable = options.trainable ?? true;
  let head: ViTHead | null = null;
  if (replaceHead) {
    const k = options.numClasses as number;
    head = k > 0 ? new ClassificationHead(resolved.dim, k, { seed: options.seed ?? 0 }) : null;
    resolved = { ...resolved, numClasses: k };
  } else if (resolved.numClasses > 0) {
    head = new ClassificationHead(resolved.dim, resolved.numClasses, { initializer });
  } else if (depthChannels > 0) {
    head = new DepthHead(
      {
        dim: resolved.dim,
        patchSize: resolved.patchSize,
        imageSize: resolved.imageSize,
        outChannels: depthChannels,
      },
      { initializer },
    );
  }
  try {
    const vit = new ViT(resolved, initializer, head, trainable);
    if (options.recompute !== undefined) vit.recompute = options.recompute;
    return vit;
  } catch (error) {
    head?.dispose();
    throw error;
  }
}
