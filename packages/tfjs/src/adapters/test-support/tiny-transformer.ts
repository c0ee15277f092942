import type { BackboneShape } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import type { AdaptableModel } from "../../sites/adaptable-model";
import { AttentionSite, MlpSite } from "../../sites/block-sites";
import { LinearSite } from "../../sites/linear-site";
import { applyActivation } from "../core/activation";

/** Shape of the test backbone: 4 patches of 1×2×2 pixels, dim 8, 2 blocks, 2 heads, MLP 16, 3 classes. */
export const TINY_SHAPE: BackboneShape = {
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 16,
  numClasses: 3,
  patchSize: 2,
  imageSize: 4,
  channels: 1,
};

let instances = 0;

/**
 * A small pre-norm ViT built on the adapter-site interface, laid out exactly as HF `ViTModel` so its variable
 * count equals `backboneParameterCount`: patch embedding (`[C·P², D]` + bias) of pre-patchified input
 * `[batch, N, C·P²]`, CLS token and positions, `depth` blocks (LN → q/k/v → softmax attention → output → residual;
 * LN → fc1 → GELU → fc2 → feed-forward hook → residual), final LN and a linear head on the CLS token.
 * Test support for the adapters; `@kora/vit` is the real model.
 */
export class TinyTransformer implements AdaptableModel {
  readonly attentionSites: AttentionSite[] = [];
  readonly mlpSites: MlpSite[] = [];
  private readonly backbone: tf.Variable[] = [];
  private readonly head: tf.Variable[];
  private readonly norms: { gamma: tf.Variable; beta: tf.Variable }[] = [];
  private readonly patchKernel: tf.Variable;
  private readonly patchBias: tf.Variable;
  private readonly cls: tf.Variable;
  private readonly positions: tf.Variable;
  private readonly headKernel: tf.Variable;
  private readonly headBias: tf.Variable;

  constructor(
    readonly backboneShape: BackboneShape = TINY_SHAPE,
    seed = 1,
  ) {
    const { dim, depth, mlpDim, numClasses, patchSize, channels } = backboneShape;
    const id = instances++;
    let next = seed * 1000;
    const variable = (shape: number[], scale: number, name: string, mean = 0): tf.Variable => {
      const v = tf.variable(
        tf.randomNormal(shape, mean, scale, "float32", next++),
        true,
        `tiny_${id}/${name}`,
      );
      this.backbone.push(v);
      return v;
    };
    const patchDim = channels * patchSize * patchSize;
    const tokens = (backboneShape.imageSize / patchSize) ** 2 + 1;
    this.patchKernel = variable([patchDim, dim], 1 / Math.sqrt(patchDim), "patch/kernel");
    this.patchBias = variable([dim], 0.1, "patch/bias");
    this.cls = variable([1, 1, dim], 0.5, "cls");
    this.positions = variable([1, tokens, dim], 0.5, "positions");
    const site = (layer: number, target: LinearSite["target"], inDim: number, outDim: number) =>
      new LinearSite({
        layer,
        target,
        kernel: variable([inDim, outDim], 1 / Math.sqrt(inDim), `${layer}/${target}/kernel`),
        bias: variable([outDim], 0.1, `${layer}/${target}/bias`),
      });
    for (let layer = 0; layer < depth; layer++) {
      this.norms.push({
        gamma: variable([dim], 0.1, `${layer}/ln1/gamma`, 1),
        beta: variable([dim], 0.1, `${layer}/ln1/beta`),
      });
      this.attentionSites.push(
        new AttentionSite(
          layer,
          site(layer, "query", dim, dim),
          site(layer, "key", dim, dim),
          site(layer, "value", dim, dim),
          site(layer, "output", dim, dim),
        ),
      );
      this.norms.push({
        gamma: variable([dim], 0.1, `${layer}/ln2/gamma`, 1),
        beta: variable([dim], 0.1, `${layer}/ln2/beta`),
      });
      this.mlpSites.push(
        new MlpSite(layer, site(layer, "fc1", dim, mlpDim), site(layer, "fc2", mlpDim, dim)),
      );
    }
    this.norms.push({
      gamma: variable([dim], 0.1, "final/gamma", 1),
      beta: variable([dim], 0.1, "final/beta"),
    });
    this.headKernel = tf.variable(
      tf.randomNormal([dim, numClasses], 0, 0.5, "float32", next++),
      true,
      `tiny_${id}/head/kernel`,
    );
    this.headBias = tf.variable(
      tf.randomNormal([numClasses], 0, 0.1, "float32", next++),
      true,
      `tiny_${id}/head/bias`,
    );
    this.head = [this.headKernel, this.headBias];
  }

  backboneVariables(): tf.Variable[] {
    return [...this.backbone];
  }

  headVariables(): tf.Variable[] {
    return [...this.head];
  }

  private layerNorm(x: tf.Tensor2D, index: number): tf.Tensor2D {
    const { gamma, beta } = this.norms[index] as { gamma: tf.Variable; beta: tf.Variable };
    const { mean, variance } = tf.moments(x, 1, true);
    return tf.add(
      tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), gamma),
      beta,
    ) as tf.Tensor2D;
  }

  /** Logits `[batch, numClasses]` of pre-patchified input `[batch, N, C·P²]`; `features` returns the CLS state. */
  predict(patches: tf.Tensor3D, training = false): tf.Tensor2D {
    return tf.tidy(() => {
      const { dim, heads } = this.backboneShape;
      const [batch, n, patchDim] = patches.shape;
      const tokens = n + 1;
      const embedded = linear(
        patches.reshape([batch * n, patchDim]),
        this.patchKernel as tf.Tensor as tf.Tensor2D,
        this.patchBias as tf.Tensor as tf.Tensor1D,
      ).reshape([batch, n, dim]);
      const cls = tf.broadcastTo(this.cls, [batch, 1, dim]);
      let h = tf
        .add(tf.concat([cls, embedded], 1), this.positions)
        .reshape([batch * tokens, dim]) as tf.Tensor2D;
      const headDim = dim / heads;
      const split = (t: tf.Tensor2D) => t.reshape([batch, tokens, heads, headDim]).transpose([0, 2, 1, 3]);
      for (let layer = 0; layer < this.attentionSites.length; layer++) {
        const attention = this.attentionSites[layer] as AttentionSite;
        const mlp = this.mlpSites[layer] as MlpSite;
        const { q, k, v } = attention.projectQkv(this.layerNorm(h, 2 * layer), training);
        const scores = tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(headDim));
        const context = tf
          .matMul(tf.softmax(scores), split(v))
          .transpose([0, 2, 1, 3])
          .reshape([batch * tokens, dim]) as tf.Tensor2D;
        h = tf.add(h, attention.output.apply(context, training)) as tf.Tensor2D;
        const hidden = applyActivation(mlp.fc1.apply(this.layerNorm(h, 2 * layer + 1), training), "gelu");
        h = tf.add(h, mlp.finish(h, mlp.fc2.apply(hidden, training), training)) as tf.Tensor2D;
      }
      const final = this.layerNorm(h, this.norms.length - 1).reshape([batch, tokens, dim]);
      const clsState = tf.slice(final, [0, 0, 0], [batch, 1, dim]).reshape([batch, dim]) as tf.Tensor2D;
      return linear(
        clsState,
        this.headKernel as tf.Tensor as tf.Tensor2D,
        this.headBias as tf.Tensor as tf.Tensor1D,
      );
    });
  }

  /** Every backbone and head variable's value by name (`patch/kernel`, `0/query/kernel`, `head/bias`, ...). */
  snapshot(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const v of [...this.backbone, ...this.head]) {
      out[v.name.slice(v.name.indexOf("/") + 1)] = {
        shape: [...v.shape],
        data: Float32Array.from(v.dataSync()),
      };
    }
    return out;
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of [...this.backbone, ...this.head]) v.dispose();
  }
}

/** A seeded batch of pre-patchified inputs `[batch, N, C·P²]` for a shape. */
export function tinyBatch(shape: BackboneShape, batch: number, seed: number): tf.Tensor3D {
  const n = (shape.imageSize / shape.patchSize) ** 2;
  return tf.randomNormal(
    [batch, n, shape.channels * shape.patchSize ** 2],
    0,
    1,
    "float32",
    seed,
  ) as tf.Tensor3D;
}
