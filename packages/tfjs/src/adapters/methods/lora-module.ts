import type { LoraSpec } from "@kora/spec";
import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../../errors";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import type { LinearSite } from "../../sites/linear-site";
import { kaimingUniform, type TensorInitialiser, tfjsShape } from "../core/init";
import { asMatrix, lowRankDelta, SeededDropout } from "../core/low-rank";
import { loraScaling } from "../core/scaling";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";

interface LoraPair {
  site: LinearSite;
  a: tf.Variable;
  b: tf.Variable;
}

/** The sites of every linear projection of a model, keyed `"{layer}.{target}"`. */
export function linearSites(model: AdaptableModel): Map<string, LinearSite> {
  const sites = new Map<string, LinearSite>();
  for (const block of model.attentionSites) {
    for (const site of [block.query, block.key, block.value, block.output]) {
      sites.set(`${site.layer}.${site.target}`, site);
    }
  }
  for (const block of model.mlpSites) {
    for (const site of [block.fc1, block.fc2]) sites.set(`${site.layer}.${site.target}`, site);
  }
  return sites;
}

/**
 * LoRA's initialisation: `lora_A` Kaiming-uniform (`U(±1/√in)`, peft's `init_lora_weights=True`) or
 * `N(0, (1/r)²)` (peft's `"gaussian"`: std 1/r); `lora_B` zeros, so the adapted model equals the base model.
 */
export const initLoraTensor: TensorInitialiser<LoraSpec> = (spec, info, _layout, seed) => {
  if (info.group === "lora_B") return tf.zeros(tfjsShape(info.shape));
  return spec.init === "gaussian"
    ? tf.randomNormal(tfjsShape(info.shape), 0, 1 / spec.rank, "float32", seed)
    : kaimingUniform(info.shape, seed);
};

/** LoRA: `y = x·W + b + s·(dropout(x)·A)·B` on every targeted projection. @internal */
export class LoraModule implements AdapterModule {
  readonly layout;
  readonly variables;
  private readonly pairs = new Map<LinearSite, LoraPair>();
  private readonly scale: number;
  private readonly dropout: SeededDropout;
  private isMerged = false;

  constructor(
    readonly name: string,
    readonly spec: LoraSpec,
    model: AdaptableModel,
    seed: number,
  ) {
    const created = createAdapterVariables(spec, model.backboneShape, name, seed, initLoraTensor);
    this.layout = created.layout;
    this.variables = created.variables;
    this.scale = loraScaling(spec);
    this.dropout = new SeededDropout(spec.dropout, seed);
    const sites = linearSites(model);
    for (const info of this.layout) {
      if (info.group !== "lora_A") continue;
      const key = info.name.slice("layers.".length, -".lora_A".length);
      const site = sites.get(key);
      if (site === undefined) {
        throw new KoraError<TfjsErrorCode>({
          code: "INVALID_ARGUMENT",
          message: `the model has no ${key} linear site, but the LoRA spec targets it`,
        });
      }
      const prefix = info.name.slice(0, -".lora_A".length);
      this.pairs.set(site, {
        site,
        a: variableOf(this.variables, `${prefix}.lora_A`),
        b: variableOf(this.variables, `${prefix}.lora_B`),
      });
    }
  }

  get merged(): boolean {
    return this.isMerged;
  }

  linearDelta(site: LinearSite, x: tf.Tensor2D, training: boolean): tf.Tensor2D | null {
    const pair = this.pairs.get(site);
    if (pair === undefined || this.isMerged) return null;
    return tf.tidy(() =>
      lowRankDelta(
        this.dropout.apply(x, training, `${this.name}/${site.layer}.${site.target}`),
        asMatrix(pair.a),
        asMatrix(pair.b),
        this.scale,
      ),
    );
  }

  qkv(_site: AttentionSite, _x: tf.Tensor2D, qkv: Qkv): Qkv {
    return qkv;
  }

  feedForward(_site: MlpSite, _hidden: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
    return output;
  }

  /** `W ← W + s·A·B` on every adapted kernel (tfjs layout; peft's `W + s·B·A` transposed). */
  merge(): void {
    if (this.isMerged) return;
    this.foldIntoKernels(1);
    this.isMerged = true;
  }

  /** `W ← W − s·A·B` (as peft, so float32 rounding of the order of 1e-7·|W| may remain). */
  unmerge(): void {
    if (!this.isMerged) return;
    this.foldIntoKernels(-1);
    this.isMerged = false;
  }

  private foldIntoKernels(sign: 1 | -1): void {
    for (const { site, a, b } of this.pairs.values()) {
      tf.tidy(() => {
        site.kernel.assign(tf.add(site.kernel, tf.mul(tf.matMul(a, b), sign * this.scale)));
      });
    }
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
