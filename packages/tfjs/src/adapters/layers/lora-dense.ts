import { type AdapterTensorInfo, type LoraSpec, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import { lowRankDelta, SeededDropout } from "../core/low-rank";
import { loraScaling } from "../core/scaling";
import {
  activationLayer,
  addAdapterWeight,
  type BaseLayerArgs,
  inputWidth,
  type LayerWeight,
  singleInput,
} from "./layer-support";

/** Options of {@link LoraDense}: a Dense layer's plus LoRA's. */
export interface LoraDenseArgs extends BaseLayerArgs {
  /** Output width, as `tf.layers.dense`. */
  units: number;
  /** Activation name, as `tf.layers.dense` (default linear). */
  activation?: string;
  /** Whether the frozen projection has a bias (default true). */
  useBias?: boolean;
  /** LoRA rank r. Default 8. */
  rank?: number;
  /** LoRA α (scaling α/r, or α/√r with rsLoRA). Default 8. */
  alpha?: number;
  /** Dropout on the LoRA input during training. Default 0. */
  dropout?: number;
  /** Rank-stabilised scaling α/√r. Default false. */
  rslora?: boolean;
  /** `lora_A` initialisation, as peft: `"kaiming"` (default) or `"gaussian"`; `lora_B` starts at zero. */
  init?: "kaiming" | "gaussian";
  /** Seed of the initialisation and of the dropout masks. Default 0. */
  seed?: number;
}

/**
 * A Dense layer with a LoRA update: `y = act(x·W + b + s·(dropout(x)·A)·B)`. `kernel` and `bias` are frozen
 * (non-trainable weights); `lora_A` `[in, r]` and `lora_B` `[r, units]` train. Registered with
 * `tf.serialization` as `KoraLoraDense`, so `model.save` / `tf.loadLayersModel` round-trip it.
 */
export class LoraDense extends tf.layers.Layer {
  /** The name tfjs serialisation stores. */
  static className = "KoraLoraDense";
  private readonly args: LoraDenseArgs;
  private readonly spec: LoraSpec;
  private readonly activationFn: tf.layers.Layer | null;
  private readonly dropoutMasks: SeededDropout;
  private kernel: LayerWeight | null = null;
  private bias: LayerWeight | null = null;
  private loraA: LayerWeight | null = null;
  private loraB: LayerWeight | null = null;

  constructor(args: LoraDenseArgs) {
    super(args);
    this.args = args;
    this.spec = parseAdapterSpec({
      method: "lora",
      rank: args.rank ?? 8,
      alpha: args.alpha ?? 8,
      dropout: args.dropout ?? 0,
      rslora: args.rslora ?? false,
      init: args.init ?? "kaiming",
    }) as LoraSpec;
    this.activationFn = activationLayer(args.activation);
    this.dropoutMasks = new SeededDropout(this.spec.dropout, args.seed ?? 0);
  }

  /** Creates the frozen kernel/bias and the adapter weights (initialised as the site adapters). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const width = inputWidth(inputShape, this.name);
    const units = this.args.units;
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
    const rank = this.spec.rank;
    const infoA: AdapterTensorInfo = {
      name: "lora_A",
      shape: [rank, width],
      layer: 0,
      group: "lora_A",
      trainable: true,
    };
    const infoB: AdapterTensorInfo = {
      name: "lora_B",
      shape: [units, rank],
      layer: 0,
      group: "lora_B",
      trainable: true,
    };
    const layout = new Map([
      ["lora_A", infoA],
      ["lora_B", infoB],
    ]);
    const seed = this.args.seed ?? 0;
    this.loraA = addAdapterWeight(add, this.spec, infoA, layout, "lora_A", seed);
    this.loraB = addAdapterWeight(add, this.spec, infoB, layout, "lora_B", seed + 1);
    this.built = true;
  }

  /** `[..., units]`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.args.units];
  }

  /** The adapted projection; dropout is active when `kwargs.training` is true. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      const width = x.shape[x.shape.length - 1] as number;
      const flat = x.reshape([-1, width]) as tf.Tensor2D;
      const kernel = (this.kernel as LayerWeight).read() as tf.Tensor2D;
      const bias = this.bias === null ? null : (this.bias.read() as tf.Tensor1D);
      const delta = lowRankDelta(
        this.dropoutMasks.apply(flat, kwargs["training"] === true, this.name),
        (this.loraA as LayerWeight).read() as tf.Tensor2D,
        (this.loraB as LayerWeight).read() as tf.Tensor2D,
        loraScaling(this.spec),
      );
      const y = tf.add(linear(flat, kernel, bias), delta).reshape([...x.shape.slice(0, -1), this.args.units]);
      return this.activationFn === null ? y : (this.activationFn.apply(y) as tf.Tensor);
    });
  }

  /** The Dense options plus the adapter's, flat, for `tf.serialization`. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.args.units,
      activation: this.args.activation ?? "linear",
      useBias: this.args.useBias ?? true,
      rank: this.spec.rank,
      alpha: this.spec.alpha,
      dropout: this.spec.dropout,
      rslora: this.spec.rslora,
      init: this.spec.init,
      seed: this.args.seed ?? 0,
    };
  }
}
