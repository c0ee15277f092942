import type { GatedLoraSpec } from "@kora/spec";
import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../../errors";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import type { LinearSite } from "../../sites/linear-site";
import { kaimingUniform, type TensorInitialiser, tfjsShape } from "../core/init";
import { asMatrix, asVector, lowRankDelta, SeededDropout } from "../core/low-rank";
import { loraScaling } from "../core/scaling";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";
import { linearSites } from "./lora-module";

/**
 * Gated LoRA's initialisation: `lora_A` Kaiming-uniform as LoRA; `lora_B` `N(0, bInitStd²)` as KoRA's B_t (not
 * zero: with the gate at 0 a zero B would leave every gradient zero); the gate `gate.init` (0 by default), which
 * alone makes the adapted model equal the base model.
 */
export const initGatedLoraTensor: TensorInitialiser<GatedLoraSpec> = (spec, info, _layout, seed) => {
  if (info.group === "lora_A") return kaimingUniform(info.shape, seed);
  if (info.group === "lora_B")
    return tf.randomNormal(tfjsShape(info.shape), 0, spec.bInitStd, "float32", seed);
  return tf.fill(tfjsShape(info.shape), spec.gate.init);
};

interface GatedPair {
  site: LinearSite;
  a: tf.Variable;
  b: tf.Variable;
  /** The learnable gate variable, the fixed gate's value, or `null` without a gate. */
  gate: tf.Tensor1D | number | null;
}

/** Gated LoRA: `y = x·W + b + g·s·(dropout(x)·A)·B` on every targeted projection. @internal */
export class GatedLoraModule implements AdapterModule {
  readonly layout;
  readonly variables;
  private readonly pairs = new Map<LinearSite, GatedPair>();
  private readonly scale: number;
  private readonly dropout: SeededDropout;
  private isMerged = false;

  constructor(
    readonly name: string,
    readonly spec: GatedLoraSpec,
    model: AdaptableModel,
    seed: number,
  ) {
    const created = createAdapterVariables(spec, model.backboneShape, name, seed, initGatedLoraTensor);
    this.layout = created.layout;
    this.variables = created.variables;
    this.scale = loraScaling(spec);
    this.dropout = new SeededDropout(spec.dropout, seed);
    const sites = linearSites(model);
    for (const info of this.layout) {
      if (info.group !== "lora_A") continue;
      const prefix = info.name.slice(0, -".lora_A".length);
      const key = prefix.slice("layers.".length);
      const site = sites.get(key);
      if (site === undefined) {
        throw new KoraError<TfjsErrorCode>({
          code: "INVALID_ARGUMENT",
          message: `the model has no ${key} linear site, but the gated LoRA spec targets it`,
        });
      }
      const gate = spec.gate;
      this.pairs.set(site, {
        site,
        a: variableOf(this.variables, `${prefix}.lora_A`),
        b: variableOf(this.variables, `${prefix}.lora_B`),
        gate:
          gate.mode === "learnable"
            ? asVector(variableOf(this.variables, `${prefix}.gate`))
            : gate.mode === "fixed"
              ? gate.init
              : null,
      });
    }
  }

  get merged(): boolean {
    return this.isMerged;
  }

  linearDelta(site: LinearSite, x: tf.Tensor2D, training: boolean): tf.Tensor2D | null {
    const pair = this.pairs.get(site);
    if (pair === undefined || this.isMerged) return null;
    return tf.tidy(() => {
      const input = this.dropout.apply(x, training, `${this.name}/${site.layer}.${site.target}`);
      const delta = lowRankDelta(input, asMatrix(pair.a), asMatrix(pair.b), this.scale);
      // A [1] or [out] gate broadcasts over the rows of the [n, out] delta.
      return pair.gate === null ? delta : (tf.mul(delta, pair.gate) as tf.Tensor2D);
    });
  }

  qkv(_site: AttentionSite, _x: tf.Tensor2D, qkv: Qkv): Qkv {
    return qkv;
  }

  feedForward(_site: MlpSite, _hidden: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
    return output;
  }

  /** `W ← W + s·(A·B)·diag(g)` on every adapted kernel: the delta is linear in x, the gate scales its columns. */
  merge(): void {
    if (this.isMerged) return;
    this.foldIntoKernels(1);
    this.isMerged = true;
  }

  /** `W ← W − s·(A·B)·diag(g)` with the current gate (float32 rounding of the order of 1e-7·|W| may remain). */
  unmerge(): void {
    if (!this.isMerged) return;
    this.foldIntoKernels(-1);
    this.isMerged = false;
  }

  private foldIntoKernels(sign: 1 | -1): void {
    for (const { site, a, b, gate } of this.pairs.values()) {
      tf.tidy(() => {
        const update = tf.mul(tf.matMul(a, b), sign * this.scale);
        const gated = gate === null ? update : tf.mul(update, gate);
        site.kernel.assign(tf.add(site.kernel, gated));
      });
    }
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
