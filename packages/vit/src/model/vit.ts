import { type BackboneShape, KoraError } from "@kora/spec";
import {
  type AdaptableModel,
  AttentionSite,
  LinearSite,
  linear,
  MlpSite,
  recomputeInBackward,
  wasmHeapRoom,
} from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import type { ViTPresetName } from "../config/presets";
import { resolveViTConfig, toBackboneShape, type ViTConfig, type ViTConfigInput } from "../config/vit-config";
import type { VitErrorCode } from "../errors";
import { batchMatMul, channelMatMul, gelu, layerNorm } from "../ops";
import { ClassificationHead, makeVariable, type ViTHead } from "./heads";
import { backboneParameterSpecs } from "./layout";
import type { NamedParameter, ParameterInitializer } from "./parameters";

/** Memory layout of an image batch: `NHWC` (`[B, H, W, C]`, tfjs's) or `NCHW` (`[B, C, H, W]`, PyTorch's). */
export type ImageFormat = "NHWC" | "NCHW";

/**
 * How hidden states are returned by {@link ViT.forward} / {@link ViT.features}:
 * `"none"` the full sequence `[B, 1 + N, D]`; `"cls"` the CLS token `[B, D]`; `"mean"` the mean of the patch
 * tokens (CLS excluded, as timm's `global_pool="avg"`) `[B, D]`; `"tokens"` every token flattened `[B, (1 + N)·D]`.
 */
export type FeaturePooling = "none" | "cls" | "mean" | "tokens";

/** Options of {@link ViT.forward}. */
export interface ViTForwardOptions {
  /** Layout of `pixels`; required, so an NCHW batch is never read as NHWC by accident. */
  format: ImageFormat;
  /** Training mode, passed to the adapter hooks (e.g. LoRA dropout). Default false. */
  training?: boolean;
  /** Also return the hidden state after the embeddings and after every block. Default false. */
  hiddenStates?: boolean;
  /** Pooling of the returned hidden states. Default `"none"`. */
  pool?: FeaturePooling;
}

/** Options of {@link ViT.features}. */
export interface ViTFeatureOptions {
  /** Layout of `pixels`. */
  format: ImageFormat;
  /** Pooling of each hidden state. Default `"none"`. */
  pool?: FeaturePooling;
  /** Training mode, passed to the adapter hooks. Default false. */
  training?: boolean;
}

/** What {@link ViT.forward} returns. Every tensor is new; dispose them (or call forward inside `tf.tidy`). */
export interface ViTOutput {
  /** Classification logits `[B, K]` when the head is a classification head, else `null`. */
  logits: tf.Tensor2D | null;
  /** The depth map `[B, H, W, outChannels]` when the head is a depth head, else `null`. */
  depth: tf.Tensor4D | null;
  /** Hugging Face's `last_hidden_state`: the sequence after the final LayerNorm `[B, 1 + N, D]`. */
  lastHiddenState: tf.Tensor3D;
  /**
   * Hugging Face's `hidden_states` when requested (else empty): `[0]` = embeddings (patches + CLS + positions),
   * `[k]` = output of block k−1 (before the final LayerNorm), `depth + 1` entries, pooled per `pool`.
   */
  hiddenStates: tf.Tensor[];
}

/** Options of {@link ViT.setHead}. */
export interface SetHeadOptions {
  /** Dispose the previous head's variables. Default true. */
  dispose?: boolean;
}

/**
 * Whether a {@link ViT} recomputes each transformer block's activations in the backward pass instead of keeping
 * them (gradient checkpointing per block, see {@link ViT.recompute}): `true` always, `false` never, `"auto"` when
 * the wasm heap guard predicts that the training step would not fit otherwise.
 */
export type ActivationRecomputation = boolean | "auto";

/** Options of {@link createViT}. */
export interface CreateViTOptions {
  /** Seed of the random initialisation. Default 0. */
  seed?: number;
  /** Whether the backbone's variables start trainable. Default true (use {@link ViT.setBackboneTrainable}). */
  trainable?: boolean;
  /** Activation recomputation in training (see {@link ViT.recompute}). Default `"auto"`. */
  recompute?: ActivationRecomputation;
}

/**
 * The heap a training step is predicted to take, per byte the blocks' tapes save: tfjs holds every saved
 * activation until the whole backward pass ends, and every intermediate gradient beside them. Measured on
 * ViT-Tiny (batch 8, wasm; LoRA, KoRA and full fine-tuning alike): the step's peak of live tensor bytes is 3.0×
 * the blocks' saved bytes. The guard counts tensor bytes only; the allocator's fragmentation and XNNPACK's buffers
 * come on top, and a threaded build whose real heap runs out hangs instead of failing (seen with a plain batch-64
 * step after other work in the same process), so 4.0 is used: `"auto"` errs towards recomputing.
 */
const AUTO_PEAK_PER_SAVED_BYTE = 4;

/** One transformer block: LN → attention (q/k/v/o adapter sites) → residual → LN → MLP (fc1/fc2 sites) → residual. */
export interface ViTBlock {
  /** Block index. */
  readonly layer: number;
  /** `layernorm_before` γ `[D]`. */
  readonly normBeforeGamma: tf.Variable;
  /** `layernorm_before` β `[D]`. */
  readonly normBeforeBeta: tf.Variable;
  /** The attention's adapter sites. */
  readonly attention: AttentionSite;
  /** `layernorm_after` γ `[D]`. */
  readonly normAfterGamma: tf.Variable;
  /** `layernorm_after` β `[D]`. */
  readonly normAfterBeta: tf.Variable;
  /** The MLP's adapter sites. */
  readonly mlp: MlpSite;
}

/**
 * A pre-norm Vision Transformer computing exactly Hugging Face's `ViTForImageClassification` forward pass (patch
 * embedding as reshape + matmul, CLS by concatenation, learned positions, exact-erf GELU, LayerNorm epsilon from
 * the config), with every projection built on `@kora/tfjs`'s adapter sites so LoRA/KoRA/AdapterFusion attach
 * through {@link AdaptableModel}. Create one with {@link createViT} or {@link loadViT}.
 */
export class ViT implements AdaptableModel {
  /** Patch-embedding kernel `[P·P·C, D]` (rows ordered patch-row, patch-column, channel). */
  readonly patchKernel: tf.Variable;
  /** Patch-embedding bias `[D]`. */
  readonly patchBias: tf.Variable;
  /** CLS token `[1, 1, D]`. */
  readonly clsToken: tf.Variable;
  /** Position embeddings `[1, 1 + N, D]` (CLS first). */
  readonly positionEmbeddings: tf.Variable;
  /** The transformer blocks. */
  readonly blocks: readonly ViTBlock[];
  /** Final LayerNorm γ `[D]`. */
  readonly finalNormGamma: tf.Variable;
  /** Final LayerNorm β `[D]`. */
  readonly finalNormBeta: tf.Variable;
  /** One attention site per block (the adapter-site interface). */
  readonly attentionSites: readonly AttentionSite[];
  /** One MLP site per block (the adapter-site interface). */
  readonly mlpSites: readonly MlpSite[];

  /**
   * Activation recomputation while a gradient is recorded (`tf.variableGrads`, `train()`, `finetune()`):
   * each transformer block keeps only its input for the backward pass and runs its forward pass again when the
   * backward pass reaches it, as `torch.utils.checkpoint` per block. The step then needs the memory of one
   * block's activations instead of all of them (a batch twice as large fits the 4 GiB wasm heap) and costs one
   * more forward pass of the blocks (≈ +33 % FLOPs with full fine-tuning, ≈ +50 % with a frozen backbone, whose
   * backward pass computes no weight gradients). Gradients are those of the plain path (same kernels;
   * adapter dropout draws the same masks). Inference and feature extraction are unaffected.
   *
   * `true` recomputes always, `false` never. `"auto"` (the default) decides per forward pass: the first block
   * runs normally while its tape is measured, and when that times the depth, with room for the backward pass's
   * gradients, exceeds what the wasm heap guard says is left (`wasmHeapRoom()` of `@kora/tfjs`), every block is
   * recomputed, the first one included; on other backends (no known heap limit) `"auto"` never recomputes.
   *
   * @throws KoraError `INVALID_ARGUMENT` (path `recompute`) when set to anything but `true`, `false` or `"auto"`.
   */
  get recompute(): ActivationRecomputation {
    return this.recomputeMode;
  }

  set recompute(mode: ActivationRecomputation) {
    if (mode !== true && mode !== false && mode !== "auto") {
      throw new KoraError<VitErrorCode>({
        code: "INVALID_ARGUMENT",
        path: "recompute",
        message: `recompute must be true, false or "auto", got ${JSON.stringify(mode) ?? String(mode)}`,
      });
    }
    this.recomputeMode = mode;
  }

  private recomputeMode: ActivationRecomputation = "auto";

  private readonly baseConfig: ViTConfig;
  private readonly parameters: NamedParameter[] = [];
  private currentHead: ViTHead | null;
  private disposed = false;

  /**
   * Builds the model. Prefer {@link createViT} / {@link loadViT}.
   * @param config A resolved configuration.
   * @param initializer Initial value of each backbone parameter by Hugging Face name and tfjs shape.
   * @param head The head, or `null`.
   * @param trainable Whether the backbone's variables are trainable.
   */
  constructor(config: ViTConfig, initializer: ParameterInitializer, head: ViTHead | null, trainable = true) {
    this.baseConfig = { ...config, imageMean: [...config.imageMean], imageStd: [...config.imageStd] };
    const variables = new Map<string, tf.Variable>();
    for (const spec of backboneParameterSpecs(config)) {
      const variable = makeVariable(initializer, spec.name, spec.shape, trainable, spec.layout);
      variables.set(spec.name, variable);
      this.parameters.push({ name: spec.name, variable, layout: spec.layout });
    }
    const get = (name: string): tf.Variable => variables.get(name) as tf.Variable;
    this.clsToken = get("vit.embeddings.cls_token");
    this.positionEmbeddings = get("vit.embeddings.position_embeddings");
    this.patchKernel = get("vit.embeddings.patch_embeddings.projection.weight");
    this.patchBias = get("vit.embeddings.patch_embeddings.projection.bias");
    const blocks: ViTBlock[] = [];
    for (let layer = 0; layer < config.depth; layer++) {
      const prefix = `vit.encoder.layer.${layer}.`;
      const site = (module: string, target: LinearSite["target"]) =>
        new LinearSite({
          layer,
          target,
          kernel: get(`${prefix}${module}.weight`),
          bias: get(`${prefix}${module}.bias`),
        });
      const attention = new AttentionSite(
        layer,
        site("attention.attention.query", "query"),
        site("attention.attention.key", "key"),
        site("attention.attention.value", "value"),
        site("attention.output.dense", "output"),
      );
      const mlp = new MlpSite(layer, site("intermediate.dense", "fc1"), site("output.dense", "fc2"));
      blocks.push({
        layer,
        normBeforeGamma: get(`${prefix}layernorm_before.weight`),
        normBeforeBeta: get(`${prefix}layernorm_before.bias`),
        attention,
        normAfterGamma: get(`${prefix}layernorm_after.weight`),
        normAfterBeta: get(`${prefix}layernorm_after.bias`),
        mlp,
      });
    }
    this.blocks = blocks;
    this.finalNormGamma = get("vit.layernorm.weight");
    this.finalNormBeta = get("vit.layernorm.bias");
    this.attentionSites = blocks.map((block) => block.attention);
    this.mlpSites = blocks.map((block) => block.mlp);
    this.currentHead = head;
  }

  /** The configuration; `numClasses` follows the current head (0 unless it is a classification head). */
  get config(): ViTConfig {
    const head = this.currentHead;
    return {
      ...this.baseConfig,
      imageMean: [...this.baseConfig.imageMean],
      imageStd: [...this.baseConfig.imageStd],
      numClasses: head instanceof ClassificationHead ? head.numClasses : 0,
    };
  }

  /** The `@kora/spec` shape (its `numClasses` follows the head), for parameter counts and adapter files. */
  get backboneShape(): BackboneShape {
    return toBackboneShape(this.config);
  }

  /** The current head, or `null`. */
  get head(): ViTHead | null {
    return this.currentHead;
  }

  /**
   * Replaces the head (e.g. a new {@link ClassificationHead} for other classes, or a {@link DepthHead}); the
   * backbone and any attached adapters are untouched. The previous head is disposed unless `dispose` is false.
   */
  setHead(head: ViTHead | null, options: SetHeadOptions = {}): void {
    if (this.currentHead !== null && this.currentHead !== head && (options.dispose ?? true)) {
      this.currentHead.dispose();
    }
    this.currentHead = head;
  }

  /** Every backbone variable (embeddings, blocks, final LayerNorm), head excluded. */
  backboneVariables(): tf.Variable[] {
    return this.parameters.map((parameter) => parameter.variable);
  }

  /** The head's variables (empty without a head). */
  headVariables(): tf.Variable[] {
    return this.currentHead?.variables() ?? [];
  }

  /** Backbone and head parameters with their Hugging Face names and layouts (what {@link encodeViT} writes). */
  namedParameters(): NamedParameter[] {
    return [...this.parameters, ...(this.currentHead?.namedParameters() ?? [])];
  }

  /**
   * Freezes (`false`) or unfreezes (`true`) the whole backbone. Frozen variables get no gradient (the projections
   * use `@kora/tfjs`'s `linear`, which skips weight gradients of frozen variables); only adapters and the head train.
   */
  setBackboneTrainable(trainable: boolean): void {
    for (const parameter of this.parameters) parameter.variable.trainable = trainable;
  }

  /** The model's own variables that are currently trainable (backbone and head; adapters are the adapter's). */
  trainableVariables(): tf.Variable[] {
    return [...this.backboneVariables(), ...this.headVariables()].filter((variable) => variable.trainable);
  }

  /**
   * The forward pass. `pixels` is a float batch already preprocessed (see {@link preprocessImages}), `[B, H, W, C]`
   * or `[B, C, H, W]` as `options.format` says.
   *
   * @throws KoraError `SHAPE_MISMATCH` when the batch's image size or channels differ from the config;
   * `INVALID_ARGUMENT` when `options.format` is missing or not `"NHWC"` / `"NCHW"`.
   */
  forward(pixels: tf.Tensor4D, options: ViTForwardOptions): ViTOutput {
    this.assertAlive();
    assertImageFormat(options, "forward");
    const training = options.training ?? false;
    return tf.tidy(() => {
      const states: tf.Tensor3D[] = [];
      const sequence = this.encode(pixels, options.format, training, options.hiddenStates ? states : null);
      const last = layerNorm(
        sequence,
        this.finalNormGamma as tf.Tensor as tf.Tensor1D,
        this.finalNormBeta as tf.Tensor as tf.Tensor1D,
        this.baseConfig.layerNormEps,
      ) as tf.Tensor3D;
      const head = this.currentHead;
      const prediction = head === null ? null : head.apply(last, training);
      const pool = options.pool ?? "none";
      const output: ViTOutput = {
        logits: head?.kind === "classification" ? (prediction as tf.Tensor2D) : null,
        depth: head?.kind === "depth" ? (prediction as tf.Tensor4D) : null,
        lastHiddenState: last,
        hiddenStates: states.map((state) => poolSequence(state, pool)),
      };
      // tf.tidy keeps every tensor inside the returned object (it skips the nulls).
      return output as unknown as tf.TensorContainer;
    }) as unknown as ViTOutput;
  }

  /**
   * The feature taps alone (no final LayerNorm, no head): the hidden state after the embeddings and after every
   * block, `depth + 1` tensors pooled per `options.pool` — what CKA compares.
   *
   * @throws KoraError `INVALID_ARGUMENT` when `options.format` is missing or not `"NHWC"` / `"NCHW"`.
   */
  features(pixels: tf.Tensor4D, options: ViTFeatureOptions): tf.Tensor[] {
    this.assertAlive();
    assertImageFormat(options, "features");
    return tf.tidy(() => {
      const states: tf.Tensor3D[] = [];
      this.encode(pixels, options.format, options.training ?? false, states);
      return states.map((state) => poolSequence(state, options.pool ?? "none"));
    });
  }

  /** Disposes every variable of the backbone and the head. Adapters own and dispose their own variables. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const parameter of this.parameters) parameter.variable.dispose();
    this.currentHead?.dispose();
  }

  private assertAlive(): void {
    if (this.disposed) {
      throw new KoraError<VitErrorCode>({ code: "INVALID_ARGUMENT", message: "this ViT has been disposed" });
    }
  }

  /** Embeddings and blocks; pushes each hidden state into `states` when given. Returns the last block's output. */
  private encode(
    pixels: tf.Tensor4D,
    format: ImageFormat,
    training: boolean,
    states: tf.Tensor3D[] | null,
  ): tf.Tensor3D {
    const { imageSize, channels, patchSize: p, dim: d, heads, layerNormEps: eps } = this.baseConfig;
    if (pixels.rank !== 4) {
      throw new KoraError<VitErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `pixels must be a rank-4 ${format} batch, got shape [${pixels.shape.join(", ")}]`,
      });
    }
    const nhwc = format === "NCHW" ? tf.transpose(pixels, [0, 2, 3, 1]) : pixels;
    const [batch, height, width, inChannels] = nhwc.shape;
    if (height !== imageSize || width !== imageSize || inChannels !== channels) {
      const expected =
        format === "NCHW"
          ? `[B, ${channels}, ${imageSize}, ${imageSize}]`
          : `[B, ${imageSize}, ${imageSize}, ${channels}]`;
      throw new KoraError<VitErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `pixels (${format}) must be ${expected}, got [${pixels.shape.join(", ")}]`,
      });
    }
    const grid = imageSize / p;
    const n = grid * grid;
    const tokens = n + 1;
    // [B, H, W, C] → [B·gh, P, gw, P·C] → [B·gh, gw, P, P·C] → [B·N, P·P·C]: each row is one patch.
    const patches = tf.reshape(
      tf.transpose(tf.reshape(nhwc, [batch * grid, p, grid, p * channels]), [0, 2, 1, 3]),
      [batch * n, p * p * channels],
    ) as tf.Tensor2D;
    const embedded = tf.reshape(
      linear(
        patches,
        this.patchKernel as tf.Tensor as tf.Tensor2D,
        this.patchBias as tf.Tensor as tf.Tensor1D,
      ),
      [batch, n, d],
    );
    const cls = tf.broadcastTo(this.clsToken, [batch, 1, d]);
    let hidden = tf.add(tf.concat([cls, embedded], 1), this.positionEmbeddings) as tf.Tensor3D;
    states?.push(hidden);
    const headDim = d / heads;
    const scale = 1 / Math.sqrt(headDim);
    const splitHeads = (x: tf.Tensor2D): tf.Tensor3D =>
      tf.reshape(tf.transpose(tf.reshape(x, [batch, tokens, heads, headDim]), [0, 2, 1, 3]), [
        batch * heads,
        tokens,
        headDim,
      ]) as tf.Tensor3D;
    // null: "auto" has not decided yet (it decides on the first block's measured tape).
    let recompute: boolean | null = this.recompute === "auto" ? null : this.recompute;
    const decide = (savedBytes: number): boolean => {
      const room = wasmHeapRoom();
      recompute = room !== null && savedBytes * this.blocks.length * AUTO_PEAK_PER_SAVED_BYTE > room;
      return recompute;
    };
    for (const block of this.blocks) {
      const run = (input: tf.Tensor3D) =>
        this.block(block, input, { batch, tokens, heads, headDim, scale, eps, training, splitHeads });
      hidden =
        recompute === false
          ? run(hidden)
          : recomputeInBackward(run, hidden, recompute === null ? { when: decide } : {});
      states?.push(hidden);
    }
    return hidden;
  }

  /** One transformer block on `hidden: [B, T, D]` (see {@link ViTBlock}). */
  private block(block: ViTBlock, hidden: tf.Tensor3D, shape: BlockShape): tf.Tensor3D {
    const { batch, tokens, heads, headDim, scale, eps, training, splitHeads } = shape;
    const d = heads * headDim;
    const flat = tf.reshape(hidden, [batch * tokens, d]) as tf.Tensor2D;
    const normed = layerNorm(
      flat,
      block.normBeforeGamma as tf.Tensor as tf.Tensor1D,
      block.normBeforeBeta as tf.Tensor as tf.Tensor1D,
      eps,
    ) as tf.Tensor2D;
    const { q, k, v } = block.attention.projectQkv(normed, training);
    let merged: tf.Tensor2D;
    if (tf.getBackend() === "wasm") {
      merged = channelAttention(q, k, v, batch, tokens, heads, scale);
    } else {
      const scores = tf.mul(batchMatMul(splitHeads(q), tf.transpose(splitHeads(k), [0, 2, 1])), scale);
      const context = batchMatMul(tf.softmax(scores) as tf.Tensor3D, splitHeads(v));
      merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, heads, tokens, headDim]), [0, 2, 1, 3]), [
        batch * tokens,
        d,
      ]) as tf.Tensor2D;
    }
    const attended = tf.add(flat, block.attention.output.apply(merged, training)) as tf.Tensor2D;
    const normedAfter = layerNorm(
      attended,
      block.normAfterGamma as tf.Tensor as tf.Tensor1D,
      block.normAfterBeta as tf.Tensor as tf.Tensor1D,
      eps,
    ) as tf.Tensor2D;
    const inner = gelu(block.mlp.fc1.apply(normedAfter, training)) as tf.Tensor2D;
    const ffn = block.mlp.finish(attended, block.mlp.fc2.apply(inner, training), training);
    return tf.reshape(tf.add(attended, ffn), [batch, tokens, d]) as tf.Tensor3D;
  }
}

/** What {@link ViT} passes from `encode` to each block. */
interface BlockShape {
  batch: number;
  tokens: number;
  heads: number;
  headDim: number;
  scale: number;
  eps: number;
  training: boolean;
  splitHeads: (x: tf.Tensor2D) => tf.Tensor3D;
}

/**
 * Multi-head attention `softmax(q·kᵀ·scale)·v` per image and head, for `q, k, v: [B·T, D]` (rows image-major,
 * columns head-major), returning the heads merged back to `[B·T, D]`. The `B·heads` small products run as one
 * {@link channelMatMul} each (the wasm backend's batched `matMul` is a scalar loop for a batch > 1): the heads
 * become the innermost axis, `x = q as [T, d_h, B·H]`, `f = k as [d_h, B·H, T]` give the scores `[T, B·H, T]`
 * (softmax over the last axis), then `P as [T, T, B·H]` times `v as [T, B·H, d_h]` gives `[T, B, H, d_h]`.
 * Same arithmetic as the batched-matmul path; only the summation order inside each dot product may differ.
 */
function channelAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  tokens: number,
  heads: number,
  scale: number,
): tf.Tensor2D {
  const d = q.shape[1];
  const headDim = d / heads;
  const channels = batch * heads;
  const split = (t: tf.Tensor2D) => tf.reshape(t, [batch, tokens, heads, headDim]);
  const x = tf.reshape(tf.transpose(split(q), [1, 3, 0, 2]), [tokens, headDim, channels]) as tf.Tensor3D;
  const f = tf.reshape(tf.transpose(split(k), [3, 0, 2, 1]), [headDim, channels, tokens]) as tf.Tensor3D;
  const probabilities = tf.softmax(tf.mul(channelMatMul(x, f), scale)) as tf.Tensor3D;
  const values = tf.reshape(tf.transpose(split(v), [1, 0, 2, 3]), [tokens, channels, headDim]) as tf.Tensor3D;
  const context = channelMatMul(tf.transpose(probabilities, [0, 2, 1]), values);
  return tf.reshape(tf.transpose(tf.reshape(context, [tokens, batch, heads, headDim]), [1, 0, 2, 3]), [
    batch * tokens,
    d,
  ]) as tf.Tensor2D;
}

/** Pools a sequence `[B, 1 + N, D]` per {@link FeaturePooling}. */
export function poolSequence(sequence: tf.Tensor3D, pool: FeaturePooling): tf.Tensor {
  const [batch, tokens, dim] = sequence.shape;
  switch (pool) {
    case "none":
      return sequence;
    case "cls":
      return tf.reshape(tf.slice(sequence, [0, 0, 0], [batch, 1, dim]), [batch, dim]);
    case "mean":
      return tf.mean(tf.slice(sequence, [0, 1, 0], [batch, tokens - 1, dim]), 1);
    case "tokens":
      return tf.reshape(sequence, [batch, tokens * dim]);
    default:
      throw new KoraError<VitErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `pool must be "none", "cls", "mean" or "tokens", got ${String(pool)}`,
        path: "pool",
      });
  }
}

/**
 * Creates a randomly initialised ViT (Hugging Face's scheme: weights N(0, 0.02) truncated at 2σ, biases 0,
 * LayerNorm γ = 1, β = 0) from a preset name or a config, with a classification head when `numClasses > 0`.
 *
 * @example
 * ```ts
 * const vit = createViT({ preset: "vit-tiny-32", numClasses: 100 }, { seed: 1 });
 * ```
 */
export function createViT(config: ViTConfigInput | ViTPresetName, options: CreateViTOptions = {}): ViT {
  const resolved = resolveViTConfig(config);
  const seed = options.seed ?? 0;
  let counter = 0;
  const initializer: ParameterInitializer = (name, shape) => {
    if (
      name.endsWith("layernorm_before.weight") ||
      name.endsWith("layernorm_after.weight") ||
      name === "vit.layernorm.weight"
    ) {
      return tf.ones(shape);
    }
    if (name.endsWith(".bias")) return tf.zeros(shape);
    // +1: tfjs treats a seed of 0 as "no seed" and draws from Math.random.
    return tf.truncatedNormal(shape, 0, 0.02, "float32", seed * 7919 + 1 + counter++);
  };
  const head =
    resolved.numClasses > 0
      ? new ClassificationHead(resolved.dim, resolved.numClasses, { seed: seed * 7919 + 104729 })
      : null;
  const vit = new ViT(resolved, initializer, head, options.trainable ?? true);
  if (options.recompute !== undefined) vit.recompute = options.recompute;
  return vit;
}

/**
 * The typings require `format`, but a JavaScript caller (or a cast) can leave it out; reading such a batch as NHWC
 * would silently give wrong outputs for an NCHW batch whose sizes happen to fit, so a missing format is an error.
 */
function assertImageFormat(options: { format?: unknown } | undefined, method: "forward" | "features"): void {
  const format = options?.format;
  if (format === "NHWC" || format === "NCHW") return;
  throw new KoraError<VitErrorCode>({
    code: "INVALID_ARGUMENT",
    path: "format",
    message: `ViT.${method}: options.format must be "NHWC" ([B, H, W, C]) or "NCHW" ([B, C, H, W]), got ${
      format === undefined ? "no format" : JSON.stringify(format)
    }`,
  });
}
