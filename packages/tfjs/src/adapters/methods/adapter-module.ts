import {
  type AdapterSpec,
  type AdapterTensorInfo,
  adapterTensorLayout,
  type BackboneShape,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import type { LinearSite } from "../../sites/linear-site";
import type { TensorInitialiser } from "../core/init";

/**
 * One named adapter attached to a model: its variables (named and shaped 1:1 after `adapterTensorLayout`, weights
 * transposed to tfjs `[in, out]`) and how it changes each site. Internal; users hold an `AdapterHandle`.
 * @internal
 */
export interface AdapterModule {
  /** The adapter's name. */
  readonly name: string;
  /** The complete spec. */
  readonly spec: AdapterSpec;
  /** The layout of the adapter's own tensors (head excluded), in file order. */
  readonly layout: readonly AdapterTensorInfo[];
  /** Variables by layout name. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** Whether the adapter is currently folded into the backbone kernels (LoRA only). */
  readonly merged: boolean;
  /** The delta of a linear site, or `null`. */
  linearDelta(site: LinearSite, x: tf.Tensor2D, training: boolean): tf.Tensor2D | null;
  /** The q/k/v the attention of a block uses. */
  qkv(site: AttentionSite, x: tf.Tensor2D, qkv: Qkv, training: boolean): Qkv;
  /** The FFN output of a block. */
  feedForward(site: MlpSite, hidden: tf.Tensor2D, output: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /** Folds the adapter into the backbone kernels. */
  merge(): void;
  /** Undoes {@link merge}. */
  unmerge(): void;
  /** Disposes variables and constants. */
  dispose(): void;
}

let nextId = 0;

/**
 * Creates one variable per tensor of `adapterTensorLayout(spec, backbone, { includeHead: false })`, initialised
 * by the method's `init`, seeded by `seed` and the tensor's index.
 * @internal
 */
export function createAdapterVariables<S extends AdapterSpec>(
  spec: S,
  backbone: BackboneShape,
  name: string,
  seed: number,
  init: TensorInitialiser<S>,
): { layout: AdapterTensorInfo[]; variables: Map<string, tf.Variable> } {
  const layout = adapterTensorLayout(spec, backbone, { includeHead: false });
  const byName = new Map(layout.map((info) => [info.name, info]));
  const id = nextId++;
  const variables = new Map<string, tf.Variable>();
  layout.forEach((info, index) => {
    const initial = init(spec, info, byName, seed * 100_003 + index);
    variables.set(info.name, tf.variable(initial, info.trainable, `kora_adapter_${id}/${name}/${info.name}`));
    initial.dispose();
  });
  return { layout, variables };
}

/** The variable of a layout name; throws when the layout and the code disagree (a bug, not a user error). */
export function variableOf(variables: ReadonlyMap<string, tf.Variable>, name: string): tf.Variable {
  const variable = variables.get(name);
  if (variable === undefined) throw new Error(`internal: adapter variable ${name} missing`);
  return variable;
}
