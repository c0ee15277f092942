import { type AdapterTensorInfo, adapterTensorLayout, type KoraSpec, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import { type KoraBlockWeights, koraDeltas, type Projection } from "../core/kora-math";
import { SeededDropout } from "../core/low-rank";
import { loraScaling } from "../core/scaling";
import {
  activationLayer,
  addAdapterWeight,
  type BaseLayerArgs,
  inputWidth,
  type LayerWeight,
  singleInput,
} from "./layer-support";

/** Options of {@link KoraValueDense}: the value Dense layer's plus KoRA's (flat, so tfjs can serialise them). */
export interface KoraValueDenseArgs extends BaseLayerArgs {
  /** Output width D (must equal the input width, as in a transformer's value projection). */
  units: number;
  /** Activation name, as `tf.layers.dense` (default linear). */
  activation?: string;
  /** Whether the frozen value projection has a bias (default true). */
  useBias?: boolean;
  /** Rank r of δ_q, δ_k, δ_v. Default 8. */
  rank?: number;
  /** α; deltas are scaled by α/r (α/√r with rsLoRA). Default 8. */
  alpha?: number;
  /** Dropout on the adapter input. Default 0. */
  dropout?: number;
  /** Rank-stabilised scaling. Default false. */
  rslora?: boolean;
  /** Std of the Gaussian init of every B_t (must be > 0). Default 0.02. */
  bInitStd?: number;
  /** CompositionBlock kind. Default `"mlp"`. */
  compositionKind?: "mlp" | "attention";
  /** Composition hidden width h. Default 4. */
  compositionHidden?: number;
  /** Composition activation (mlp). Default `"gelu"`. */
  compositionActivation?: KoraSpec["composition"]["activation"];
  /** Composition biases. Default true. */
  compositionBias?: boolean;
  /** Gate per `"scalar"` or `"channel"`. Default `"scalar"`. */
  gatePer?: "scalar" | "channel";
  /** Initial gate. Default 0. */
  gateInit?: number;
  /** Gate mode. Default `"learnable"`. */
  gateMode?: "learnable" | "fixed" | "none";
  /** Seed of the initialisation and of the dropout masks. Default 0. */
  seed?: number;
}

/** The complete KoRA spec of a {@link KoraValueDense}'s options (`apply: "value"`, one block). */
export function koraLayerSpec(args: Omit<KoraValueDenseArgs, "units">): KoraSpec {
  return parseAdapterSpec({
    method: "kora",
    rank: args.rank ?? 8,
    alpha: args.alpha ?? 8,
    dropout: args.dropout ?? 0,
    rslora: args.rslora ?? false,
    bInitStd: args.bInitStd ?? 0.02,
    composition: {
      kind: args.compositionKind ?? "mlp",
      hidden: args.compositionHidden ?? 4,
      activation: args.compositionActivation ?? "gelu",
      bias: args.compositionBias ?? true,
    },
    gate: { per: args.gatePer ?? "scalar", init: args.gateInit ?? 0, mode: args.gateMode ?? "learnable" },
    apply: "value",
  }) as KoraSpec;
}

const PREFIX = "layers.0.kora.";

/**
 * KoRA for a `tf.LayersModel`: replaces the value Dense layer of an attention whose query, key and value Dense
 * layers read the same input `x`. It holds the frozen value projection and all of the block's KoRA tensors
 * (named as `adapterTensorLayout`'s `layers.{i}.kora.*` without the prefix) and computes
 * `act(x·W_v + b_v + g·δ_c(x))` with `δ_c` the composition of `δ_t = s·B_t A_t x`. q and k are unchanged
 * (`apply: "value"`). Registered with `tf.serialization` as `KoraValueDense`.
 */
export class KoraValueDense extends tf.layers.Layer {
  /** The name tfjs serialisation stores. */
  static className = "KoraValueDense";
  private readonly args: KoraValueDenseArgs;
  private readonly spec: KoraSpec;
  private readonly activationFn: tf.layers.Layer | null;
  private readonly dropoutMasks: SeededDropout;
  private kernel: LayerWeight | null = null;
  private bias: LayerWeight | null = null;
  private readonly adapter = new Map<string, LayerWeight>();

  constructor(args: KoraValueDenseArgs) {
    super(args);
    this.args = args;
    this.spec = koraLayerSpec(args);
    this.activationFn = activationLayer(args.activation);
    this.dropoutMasks = new SeededDropout(this.spec.dropout, args.seed ?? 0);
  }

  /** The KoRA tensors of one block of width `dim`, as `adapterTensorLayout` lays them out. */
  static layout(spec: KoraSpec, dim: number): AdapterTensorInfo[] {
    const backbone = {
      dim,
      depth: 1,
      heads: 1,
      mlpDim: 1,
      numClasses: 0,
      patchSize: 1,
      imageSize: 1,
      channels: 1,
    };
    return adapterTensorLayout(spec, backbone, { includeHead: false });
  }

  /** Creates the frozen kernel/bias and the adapter weights (initialised as the site adapters). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const width = inputWidth(inputShape, this.name);
    const units = this.args.units;
    if (width !== units) {
      throw new Error(`${this.name}: KoRA needs a value projection D → D, got ${width} → ${units}`);
    }
    const add = (name: string, shape: number[], trainable: boolean) =>
      this.addWeight(name, shape, "float32", tf.initializers.zeros(), undefined, trainable);
    this.kernel = this.addWeight(
      "kernel",
      [width, units],
      "float32",
      tf.initializers.glorotUniform({}),
      undefined,
      false,
    );
    this.bias = (this.args.useBias ?? true) ? add("bias", [units], false) : null;
    const layout = KoraValueDense.layout(this.spec, units);
    const byName = new Map(layout.map((info) => [info.name, info]));
    const seed = this.args.seed ?? 0;
    layout.forEach((info, index) => {
      const name = info.name.slice(PREFIX.length);
      this.adapter.set(name, addAdapterWeight(add, this.spec, info, byName, name, seed * 100_003 + index));
    });
    this.built = true;
  }

  /** `[..., units]`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.args.units];
  }

  private blockWeights(): KoraBlockWeights {
    const read = (name: string) => {
      const weight = this.adapter.get(name);
      if (weight === undefined) throw new Error(`${this.name}: weight ${name} missing`);
      return weight.read();
    };
    const pair = (t: string) => ({
      a: read(`${t}.lora_A`) as tf.Tensor2D,
      b: read(`${t}.lora_B`) as tf.Tensor2D,
    });
    const names = this.spec.composition.kind === "mlp" ? ["fc1", "fc2"] : ["query", "key", "value", "output"];
    const projection = (n: string): Projection => ({
      weight: read(`composition.${n}.weight`) as tf.Tensor2D,
      bias: this.spec.composition.bias ? (read(`composition.${n}.bias`) as tf.Tensor1D) : null,
    });
    const gate = this.spec.gate;
    return {
      query: pair("query"),
      key: pair("key"),
      value: pair("value"),
      composition: Object.fromEntries(names.map((n) => [n, projection(n)])),
      gate:
        gate.mode === "learnable" ? (read("gate") as tf.Tensor1D) : gate.mode === "fixed" ? gate.init : null,
    };
  }

  /** The adapted projection; dropout is active when `kwargs.training` is true. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      const width = x.shape[x.shape.length - 1] as number;
      const flat = x.reshape([-1, width]) as tf.Tensor2D;
      const base = linear(
        flat,
        (this.kernel as LayerWeight).read() as tf.Tensor2D,
        this.bias === null ? null : (this.bias.read() as tf.Tensor1D),
      );
      const { gated } = koraDeltas(
        this.dropoutMasks.apply(flat, kwargs["training"] === true, this.name),
        this.blockWeights(),
        {
          scale: loraScaling(this.spec),
          composition: this.spec.composition,
          apply: "value",
        },
      );
      const y = tf.add(base, gated).reshape([...x.shape.slice(0, -1), this.args.units]);
      return this.activationFn === null ? y : (this.activationFn.apply(y) as tf.Tensor);
    });
  }

  /** The Dense options plus the adapter's, flat, for `tf.serialization`. */
  override getConfig(): tf.serialization.ConfigDict {
    const s = this.spec;
    return {
      ...super.getConfig(),
      units: this.args.units,
      activation: this.args.activation ?? "linear",
      useBias: this.args.useBias ?? true,
      rank: s.rank,
      alpha: s.alpha,
      dropout: s.dropout,
      rslora: s.rslora,
      bInitStd: s.bInitStd,
      compositionKind: s.composition.kind,
      compositionHidden: s.composition.hidden,
      compositionActivation: s.composition.activation,
      compositionBias: s.composition.bias,
      gatePer: s.gate.per,
      gateInit: s.gate.init,
      gateMode: s.gate.mode,
      seed: this.args.seed ?? 0,
    };
  }
}
