import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";

/** One variable's gradient, as the training loop hands it to {@link Optimizer.applyGradients}. */
export interface GradientEntry {
  /** The variable's stable name (keys its optimizer state and checkpoint tensors). */
  name: string;
  /** The variable to update in place. */
  variable: tf.Variable;
  /** Its gradient (same shape); not disposed by the optimizer. */
  gradient: tf.Tensor;
}

/**
 * Per-group hyper-parameters, as PyTorch's parameter groups. Every group whose `match` selects a variable applies
 * the fields it sets, in order (a later group overrides an earlier one); fields no group sets come from the
 * optimizer's defaults. So `[{ match: /^head\//, learningRate: 1e-2 }, { match: isNoWeightDecayParameter,
 * weightDecay: 0 }]` gives the head bias the head's learning rate and no weight decay.
 */
export interface ParameterGroup {
  /**
   * Which variables the group covers: a `RegExp` tested against the variable's name, a predicate of the name and
   * variable, or the exact names.
   */
  match: RegExp | ((name: string, variable: tf.Variable) => boolean) | readonly string[];
  /** Learning rate of the group (before the schedule's factor). */
  learningRate?: number;
  /**
   * Multiplies the variable's resolved learning rate (its group's or the default), e.g. 10 for gates that should
   * move ten times as fast as the rest. Unlike the other fields, the scales of every matching group multiply, so
   * a scale applies whichever group sets the learning rate. Default 1.
   */
  learningRateScale?: number;
  /** Weight decay of the group. */
  weightDecay?: number;
}

/** The hyper-parameters resolved for one variable. */
export interface ResolvedGroup {
  /** Learning rate before the schedule's factor. */
  learningRate: number;
  /** Weight decay. */
  weightDecay: number;
}

/**
 * True for variables that conventionally get no weight decay: rank ≤ 1 (biases, LayerNorm scales and offsets,
 * gates, scalars), or a name containing `bias`, `norm`, `ln_`/`/ln`, or `gate`. Use it as a {@link ParameterGroup}
 * `match` with `weightDecay: 0`.
 */
export function isNoWeightDecayParameter(name: string, variable: tf.Variable): boolean {
  return variable.rank <= 1 || /bias|norm|(^|[/._])ln([/._]|$)|ln_|gate/i.test(name);
}

/** JSON part of an optimizer's state (the tensors travel separately, see {@link Optimizer.stateTensors}). */
export interface OptimizerStateJson {
  /** Optimizer kind that wrote the state. */
  kind: string;
  /** Number of updates each variable has received (PyTorch keeps a step per parameter). */
  steps: Record<string, number>;
}

/**
 * An optimizer with PyTorch semantics and serialisable state. State is created lazily per variable at its first
 * update; variables without a gradient at a step (frozen ones) are skipped entirely, their state untouched.
 */
export interface Optimizer {
  /** Optimizer kind (`"adamw"`, `"sgd"`). */
  readonly kind: string;
  /** Default learning rate (before the schedule's factor), reported in progress events. */
  readonly learningRate: number;
  /** Hyper-parameters that apply to `name` (its parameter groups resolved). */
  resolve(name: string, variable: tf.Variable): ResolvedGroup;
  /**
   * Updates every variable of `entries` in place with learning rate `group lr × factor` (the schedule's factor).
   * Gradients are not disposed. Creates no lasting tensors besides the optimizer's own state.
   */
  applyGradients(entries: readonly GradientEntry[], factor?: number): void;
  /** The state tensors by name `"<variable>/<slot>"` (PyTorch slot names); owned by the optimizer, do not dispose. */
  stateTensors(): Record<string, tf.Tensor>;
  /** The JSON part of the state. */
  stateJson(): OptimizerStateJson;
  /** Replaces the whole state (tensors are copied; the caller keeps ownership of `tensors`). */
  loadState(json: OptimizerStateJson, tensors: Readonly<Record<string, tf.Tensor>>): void;
  /** Disposes the state tensors. */
  dispose(): void;
}

/** Options every optimizer accepts. */
export interface OptimizerOptions {
  /** Default learning rate (before the schedule's factor). */
  learningRate: number;
  /** Default weight decay (default 0). */
  weightDecay?: number;
  /** Parameter groups overriding the defaults for some variables (see {@link ParameterGroup}). */
  groups?: readonly ParameterGroup[];
}

function invalid(field: string, message: string): KoraError {
  return new KoraError<TfjsErrorCode>({
    code: "INVALID_ARGUMENT",
    message: `${field} ${message}`,
    path: field,
  });
}

/** Throws `INVALID_ARGUMENT` naming `field` unless `value` is a finite number ≥ 0. @internal */
export function checkNonNegative(value: number, field: string): void {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
    throw invalid(field, `must be a finite number ≥ 0, got ${value}`);
  }
}

function matches(group: ParameterGroup, name: string, variable: tf.Variable): boolean {
  const { match } = group;
  if (match instanceof RegExp) {
    match.lastIndex = 0;
    return match.test(name);
  }
  if (typeof match === "function") return match(name, variable);
  return match.includes(name);
}

/**
 * Shared machinery of `adamW` and `sgd`: group resolution, per-variable slots and step counts, state
 * import/export. Subclasses implement one variable's update.
 * @internal
 */
export abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: string;
  protected readonly defaults: ResolvedGroup;
  protected readonly groups: readonly ParameterGroup[];
  protected readonly slots = new Map<string, Map<string, tf.Tensor>>();
  protected readonly steps = new Map<string, number>();
  private readonly resolved = new Map<string, ResolvedGroup>();

  protected constructor(options: OptimizerOptions) {
    checkNonNegative(options.learningRate, "learningRate");
    checkNonNegative(options.weightDecay ?? 0, "weightDecay");
    this.defaults = { learningRate: options.learningRate, weightDecay: options.weightDecay ?? 0 };
    this.groups = options.groups ?? [];
    this.groups.forEach((group, i) => {
      if (group.learningRate !== undefined) checkNonNegative(group.learningRate, `groups[${i}].learningRate`);
      if (group.learningRateScale !== undefined) {
        checkNonNegative(group.learningRateScale, `groups[${i}].learningRateScale`);
      }
      if (group.weightDecay !== undefined) checkNonNegative(group.weightDecay, `groups[${i}].weightDecay`);
    });
  }

  get learningRate(): number {
    return this.defaults.learningRate;
  }

  resolve(name: string, variable: tf.Variable): ResolvedGroup {
    const cached = this.resolved.get(name);
    if (cached !== undefined) return cached;
    const out = { ...this.defaults };
    let scale = 1;
    for (const group of this.groups) {
      if (!matches(group, name, variable)) continue;
      if (group.learningRate !== undefined) out.learningRate = group.learningRate;
      if (group.learningRateScale !== undefined) scale *= group.learningRateScale;
      if (group.weightDecay !== undefined) out.weightDecay = group.weightDecay;
    }
    out.learningRate *= scale;
    this.resolved.set(name, out);
    return out;
  }

  applyGradients(entries: readonly GradientEntry[], factor = 1): void {
    for (const entry of entries) {
      if (entry.gradient === null || entry.gradient === undefined) continue;
      if (entry.gradient.size !== entry.variable.size) {
        throw new KoraError<TfjsErrorCode>({
          code: "SHAPE_MISMATCH",
          message: `gradient of "${entry.name}" has shape [${entry.gradient.shape}], the variable [${entry.variable.shape}]`,
        });
      }
      const group = this.resolve(entry.name, entry.variable);
      const step = (this.steps.get(entry.name) ?? 0) + 1;
      let slots = this.slots.get(entry.name);
      if (slots === undefined) {
        slots = new Map();
        this.slots.set(entry.name, slots);
      }
      const lr = group.learningRate * factor;
      const updated = tf.tidy(() => this.update(entry, slots, step, lr, group.weightDecay));
      for (const [slot, tensor] of Object.entries(updated.slots)) {
        slots.get(slot)?.dispose();
        slots.set(slot, tensor);
      }
      entry.variable.assign(updated.value);
      updated.value.dispose();
      this.steps.set(entry.name, step);
    }
  }

  /**
   * One variable's update, run inside `tf.tidy`; returns the new value and the new slot tensors (kept by tidy
   * because they are returned).
   */
  protected abstract update(
    entry: GradientEntry,
    slots: ReadonlyMap<string, tf.Tensor>,
    step: number,
    learningRate: number,
    weightDecay: number,
  ): { value: tf.Tensor; slots: Record<string, tf.Tensor> };

  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, slots] of this.slots) for (const [slot, t] of slots) out[`${name}/${slot}`] = t;
    return out;
  }

  stateJson(): OptimizerStateJson {
    return { kind: this.kind, steps: Object.fromEntries(this.steps) };
  }

  loadState(json: OptimizerStateJson, tensors: Readonly<Record<string, tf.Tensor>>): void {
    if (json.kind !== this.kind) {
      throw new KoraError<TfjsErrorCode>({
        code: "CHECKPOINT_MISMATCH",
        message: `the checkpoint holds ${json.kind} optimizer state, this optimizer is ${this.kind}`,
      });
    }
    this.dispose();
    for (const [name, step] of Object.entries(json.steps)) this.steps.set(name, step);
    for (const [key, tensor] of Object.entries(tensors)) {
      const cut = key.lastIndexOf("/");
      const name = key.slice(0, cut);
      let slots = this.slots.get(name);
      if (slots === undefined) {
        slots = new Map();
        this.slots.set(name, slots);
      }
      slots.set(key.slice(cut + 1), tf.keep(tensor.clone()));
    }
  }

  dispose(): void {
    for (const slots of this.slots.values()) for (const t of slots.values()) t.dispose();
    this.slots.clear();
    this.steps.clear();
  }
}
