import {
  type AdapterSpec,
  type AdapterTensor,
  type BackboneShape,
  KoraError,
  shapeSize,
  validateAdapterTensors,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import type { AdaptableModel } from "../sites/adaptable-model";
import type { AttentionSite, MlpSite } from "../sites/block-sites";
import type { LinearSite } from "../sites/linear-site";
import { type AdapterSpecInput, completeSpec } from "./adapter-spec-input";
import { tfjsShape } from "./core/init";
import type { AdapterModule } from "./methods/adapter-module";
import { linearSites } from "./methods/lora-module";
import { createAdapterModule } from "./methods/method-modules";

/** Options of {@link applyAdapters} and {@link AdapterHandle.addAdapter}. */
export interface ApplyAdaptersOptions {
  /** Name of the adapter (several named adapters can live on one model). Default `"default"`. */
  name?: string;
  /** Seed of the adapter's initialisation and of its dropout masks. Default 0. */
  seed?: number;
  /** Make the new adapter the active one. Default `true`. */
  activate?: boolean;
  /**
   * Whether the model's head is trained (`trainableVariables()` includes `headVariables()`). Only read when the
   * first adapter is applied to a model. Default `true` (as `countParameters`'s `trainHead`).
   */
  trainHead?: boolean;
}

/** Options of {@link AdapterHandle.getAdapterTensors}. */
export interface AdapterTensorsOptions {
  /** Adapter name. Default: the active adapter. */
  name?: string;
  /**
   * Include the head as `head.weight` `[numClasses, D]` and `head.bias` `[numClasses]`. Default: `true` when the
   * model's head is a `[D, numClasses]` kernel and a `[numClasses]` bias (a classification head).
   */
  includeHead?: boolean;
}

/** Options of {@link AdapterHandle.setAdapterTensors}. */
export interface SetAdapterTensorsOptions {
  /** Adapter name. Default: the active adapter. */
  name?: string;
}

const handles = new WeakMap<AdaptableModel, AdapterHandle>();

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Every hookable site of a model, to install and remove the dispatching hooks in one place. */
function allSites(model: AdaptableModel): {
  linear: LinearSite[];
  attention: AttentionSite[];
  mlp: MlpSite[];
} {
  return {
    linear: [...linearSites(model).values()],
    attention: [...model.attentionSites],
    mlp: [...model.mlpSites],
  };
}

/**
 * The adapters attached to one {@link AdaptableModel}: which one is active, which variables train, merging,
 * tensors in and out. Obtained from {@link applyAdapters} (one handle per model; applying again adds a named
 * adapter to the same handle).
 */
export class AdapterHandle {
  private readonly modules = new Map<string, AdapterModule>();
  private active: string | null = null;
  private enabled = true;
  private removed = false;
  private readonly savedTrainable = new Map<tf.Variable, boolean>();

  /** @internal Use {@link applyAdapters}. */
  constructor(
    /** The adapted model (the same object; adapters attach through its sites). */
    readonly model: AdaptableModel,
    /** Whether the head is trained. */
    readonly trainHead: boolean,
  ) {
    const sites = allSites(model);
    const busy = [
      ...sites.linear.filter((s) => s.deltaHook !== null).map((s) => `layer ${s.layer} ${s.target}`),
      ...sites.attention.filter((s) => s.qkvHook !== null).map((s) => `layer ${s.layer} attention`),
      ...sites.mlp.filter((s) => s.feedForwardHook !== null).map((s) => `layer ${s.layer} mlp`),
    ];
    if (busy.length > 0) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTER_CONFLICT",
        message: `cannot apply adapters: sites already carry a hook that @kora/tfjs did not install (${busy.slice(0, 3).join(", ")}${busy.length > 3 ? ", ..." : ""})`,
      });
    }
    for (const variable of model.backboneVariables()) {
      this.savedTrainable.set(variable, variable.trainable);
      variable.trainable = false;
    }
    for (const variable of model.headVariables()) {
      this.savedTrainable.set(variable, variable.trainable);
      variable.trainable = trainHead;
    }
    for (const site of sites.linear) {
      site.deltaHook = (x, training) => this.activeModule()?.linearDelta(site, x, training) ?? null;
    }
    for (const site of sites.attention) {
      site.qkvHook = (x, qkv, training) => this.activeModule()?.qkv(site, x, qkv, training) ?? qkv;
    }
    for (const site of sites.mlp) {
      site.feedForwardHook = (hidden, output, training) =>
        this.activeModule()?.feedForward(site, hidden, output, training) ?? output;
    }
  }

  /** The module that changes the forward pass now, or `null` (no adapter, or disabled). */
  private activeModule(): AdapterModule | null {
    if (!this.enabled || this.active === null) return null;
    return this.modules.get(this.active) ?? null;
  }

  private assertLive(): void {
    if (this.removed) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTERS_REMOVED",
        message: "this adapter handle was removed with removeAdapters(); call applyAdapters again",
      });
    }
  }

  private module(name?: string): AdapterModule {
    this.assertLive();
    const key = name ?? this.active;
    if (key === null) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTER_NOT_FOUND",
        message: "no adapter is active; pass a name",
      });
    }
    const found = this.modules.get(key);
    if (found === undefined) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTER_NOT_FOUND",
        message: `no adapter named "${key}" on this model (adapters: ${this.adapterNames.map((n) => `"${n}"`).join(", ") || "none"})`,
        path: "name",
      });
    }
    return found;
  }

  private assertNotMerged(action: string): void {
    const merged = [...this.modules.values()].find((m) => m.merged);
    if (merged !== undefined) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTER_MERGED",
        message: `cannot ${action} while adapter "${merged.name}" is merged into the backbone kernels; call unmergeAdapters() first`,
      });
    }
  }

  /** Sets every adapter variable's `trainable` flag: only the active, enabled adapter's trainable tensors train. */
  private syncTrainable(): void {
    for (const module of this.modules.values()) {
      const training = this.enabled && module.name === this.active;
      for (const info of module.layout) {
        const variable = module.variables.get(info.name);
        if (variable !== undefined) variable.trainable = training && info.trainable;
      }
    }
  }

  /** Names of the attached adapters, in the order they were added. */
  get adapterNames(): string[] {
    return [...this.modules.keys()];
  }

  /** Name of the active adapter (also while disabled), or `null`. */
  get activeAdapter(): string | null {
    return this.active;
  }

  /** `false` after {@link disableAdapters}: the model computes the base model's outputs. */
  get adaptersEnabled(): boolean {
    return this.enabled;
  }

  /** The complete spec of an adapter (default: the active one). */
  spec(name?: string): AdapterSpec {
    return this.module(name).spec;
  }

  /**
   * Adds a named adapter. Its variables follow `adapterTensorLayout(spec, model.backboneShape)` one to one (same
   * names; weights transposed to tfjs `[in, out]`).
   *
   * @throws KoraError `INVALID_SPEC` for an invalid spec or layers beyond the model's depth, `ADAPTER_EXISTS` for
   * a name in use.
   */
  addAdapter(
    spec: AdapterSpecInput | AdapterSpec,
    options: Omit<ApplyAdaptersOptions, "trainHead"> = {},
  ): this {
    this.assertLive();
    const complete = completeSpec(spec);
    const name = options.name ?? "default";
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `adapter name must match [A-Za-z0-9_.-]+, got ${JSON.stringify(name)}`,
        path: "name",
      });
    }
    if (this.modules.has(name)) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTER_EXISTS",
        message: `an adapter named "${name}" is already attached; pick another name or deleteAdapter("${name}")`,
        path: "name",
      });
    }
    const seed = options.seed ?? 0;
    const module = createAdapterModule(name, complete, this.model, seed);
    this.modules.set(name, module);
    if (options.activate ?? true) this.setActiveAdapter(name);
    else this.syncTrainable();
    return this;
  }

  /** Makes `name` the adapter the forward pass uses and the one that trains (and re-enables adapters). */
  setActiveAdapter(name: string): void {
    this.module(name);
    if (name !== this.active) this.assertNotMerged(`switch to adapter "${name}"`);
    this.active = name;
    this.enabled = true;
    this.syncTrainable();
  }

  /** The model computes the base model's outputs (adapters kept; nothing but the head trains). */
  disableAdapters(): void {
    this.assertLive();
    this.assertNotMerged("disable adapters");
    this.enabled = false;
    this.syncTrainable();
  }

  /** Undoes {@link disableAdapters}. */
  enableAdapters(): void {
    this.assertLive();
    this.enabled = true;
    this.syncTrainable();
  }

  /** Removes one adapter and disposes its variables. If it was active, no adapter is active afterwards. */
  deleteAdapter(name: string): void {
    const module = this.module(name);
    if (module.merged) module.unmerge();
    module.dispose();
    this.modules.delete(name);
    if (this.active === name) this.active = null;
  }

  /**
   * The variables an optimizer should update: the active adapter's trainable tensors (all of them, except the
   * frozen bottleneck adapters of two-stage AdapterFusion) in layout order, then the head's variables when
   * `trainHead`. Their total size equals `countParameters(spec, model.backboneShape).trainable`.
   */
  trainableVariables(): tf.Variable[] {
    this.assertLive();
    const out: tf.Variable[] = [];
    const module = this.activeModule();
    if (module !== null) {
      for (const info of module.layout) {
        const variable = module.variables.get(info.name);
        if (variable !== undefined && info.trainable) out.push(variable);
      }
    }
    if (this.trainHead) out.push(...this.model.headVariables());
    return out;
  }

  /** An adapter's variables by layout name (tfjs layout: weights `[in, out]`). Default: the active adapter. */
  adapterVariables(name?: string): ReadonlyMap<string, tf.Variable> {
    return this.module(name).variables;
  }

  /**
   * Folds the active LoRA adapter into the backbone kernels (`W ← W + s·A·B`), so inference runs at the base
   * model's cost; the LoRA hooks add nothing while merged.
   *
   * @throws KoraError `NOT_MERGEABLE` for KoRA and AdapterFusion (nonlinear; the message says why).
   */
  mergeAdapters(): void {
    this.assertLive();
    const module = this.activeModule();
    if (module === null) {
      throw new KoraError<TfjsErrorCode>({
        code: "ADAPTER_NOT_FOUND",
        message: "no enabled, active adapter to merge",
      });
    }
    module.merge();
  }

  /** Undoes {@link mergeAdapters} (`W ← W − s·A·B`); a no-op when nothing is merged. */
  unmergeAdapters(): void {
    this.assertLive();
    for (const module of this.modules.values()) module.unmerge();
  }

  /** Whether an adapter is merged into the backbone kernels. */
  get merged(): boolean {
    return [...this.modules.values()].some((m) => m.merged);
  }

  /** The head as `head.weight` `[K, D]` / `head.bias` `[K]` variables, or `null` when it is not a linear head. */
  private headPair(): { weight: tf.Variable; bias: tf.Variable } | null {
    const { dim, numClasses } = this.model.backboneShape;
    if (numClasses === 0) return null;
    const head = this.model.headVariables();
    const weight = head.find((v) => v.shape.length === 2 && v.shape[0] === dim && v.shape[1] === numClasses);
    const bias = head.find((v) => v.shape.length === 1 && v.shape[0] === numClasses);
    return head.length === 2 && weight !== undefined && bias !== undefined ? { weight, bias } : null;
  }

  /**
   * An adapter's tensors named and laid out as `adapterTensorLayout` (PyTorch `[out, in]` weights, copied to
   * float32 arrays), ready for `encodeAdapter` / `writeAdapterDir` / `writePeftDir`.
   */
  getAdapterTensors(options: AdapterTensorsOptions = {}): Record<string, AdapterTensor> {
    const module = this.module(options.name);
    const out: Record<string, AdapterTensor> = {};
    for (const info of module.layout) {
      out[info.name] = readTensor(module.variables.get(info.name) as tf.Variable, info.shape);
    }
    const head = this.headPair();
    if (options.includeHead === true && head === null) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `includeHead: the model's head is not a [${this.model.backboneShape.dim}, ${this.model.backboneShape.numClasses}] kernel plus a [${this.model.backboneShape.numClasses}] bias`,
        path: "includeHead",
      });
    }
    if ((options.includeHead ?? true) && head !== null) {
      out["head.weight"] = readTensor(head.weight, [
        this.model.backboneShape.numClasses,
        this.model.backboneShape.dim,
      ]);
      out["head.bias"] = readTensor(head.bias, [this.model.backboneShape.numClasses]);
    }
    return out;
  }

  /**
   * Assigns an adapter's tensors (names and `[out, in]` shapes of `adapterTensorLayout`, optionally with
   * `head.weight`/`head.bias`). Every name and shape is validated before anything is assigned.
   *
   * @throws KoraError `SHAPE_MISMATCH` / `INVALID_ADAPTER_FILE` from `validateAdapterTensors`, `ADAPTER_MERGED`.
   */
  setAdapterTensors(tensors: Record<string, AdapterTensor>, options: SetAdapterTensorsOptions = {}): void {
    const module = this.module(options.name);
    if (module.merged) this.assertNotMerged("replace the tensors of a merged adapter");
    const includeHead = Object.hasOwn(tensors, "head.weight");
    validateAdapterTensors(module.spec, this.model.backboneShape, tensors, { includeHead });
    const head = includeHead ? this.headPair() : null;
    if (includeHead && head === null) {
      throw new KoraError<TfjsErrorCode>({
        code: "SHAPE_MISMATCH",
        message:
          "the tensors include head.weight/head.bias but the model's head is not a linear classification head",
        path: "head.weight",
      });
    }
    for (const info of module.layout) {
      writeTensor(module.variables.get(info.name) as tf.Variable, tensors[info.name] as AdapterTensor);
    }
    if (head !== null) {
      writeTensor(head.weight, tensors["head.weight"] as AdapterTensor);
      writeTensor(head.bias, tensors["head.bias"] as AdapterTensor);
    }
  }

  /**
   * Detaches every adapter: unmerges, removes all hooks, disposes the adapter variables and restores every
   * backbone and head variable's `trainable` flag. The model computes exactly what it computed before (up to
   * float32 rounding of the order of 1e-7 when a LoRA adapter was merged and unmerged).
   */
  removeAdapters(): void {
    if (this.removed) return;
    for (const name of this.adapterNames) this.deleteAdapter(name);
    const sites = allSites(this.model);
    for (const site of sites.linear) site.deltaHook = null;
    for (const site of sites.attention) site.qkvHook = null;
    for (const site of sites.mlp) site.feedForwardHook = null;
    for (const [variable, trainable] of this.savedTrainable) variable.trainable = trainable;
    this.removed = true;
    handles.delete(this.model);
  }

  /** The backbone shape of the model. */
  get backboneShape(): BackboneShape {
    return this.model.backboneShape;
  }
}

/** A variable's value in the `[out, in]` layout of an adapter file (transposed when rank 2), as a fresh array. */
function readTensor(variable: tf.Variable, layoutShape: number[]): AdapterTensor {
  const data = tf.tidy(() =>
    (layoutShape.length === 2 ? tf.transpose(variable) : variable.clone()).dataSync(),
  );
  return { shape: [...layoutShape], data: Float32Array.from(data as Float32Array) };
}

/** Assigns an `[out, in]` tensor to a tfjs-layout variable. */
function writeTensor(variable: tf.Variable, tensor: AdapterTensor): void {
  const expected = tfjsShape(tensor.shape);
  if (variable.shape.some((d, i) => d !== expected[i]) || shapeSize(tensor.shape) !== tensor.data.length) {
    throw new KoraError<TfjsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `tensor of shape ${formatShape(tensor.shape)} does not fit variable ${variable.name} of tfjs shape ${formatShape(variable.shape)}`,
    });
  }
  tf.tidy(() => {
    const value = tf.tensor(tensor.data, tensor.shape, "float32");
    variable.assign(tensor.shape.length === 2 ? tf.transpose(value) : value);
  });
}

/**
 * Attaches an adapter to a model that implements the adapter-site interface (e.g. `@kora/vit`'s ViT): freezes
 * every backbone variable, installs the hooks and creates the adapter's variables. Calling it again on the same
 * model adds another named adapter to the same handle.
 *
 * @example
 * ```ts
 * const handle = applyAdapters(vit, { method: "kora", composition: { hidden: 8 } }, { name: "cifar" });
 * const loss = () => crossEntropy(vit.forward(x, { format: "NHWC", training: true }).logits!, labels);
 * optimizer.minimize(loss, false, handle.trainableVariables());
 * ```
 * @throws KoraError `INVALID_SPEC`, `ADAPTER_EXISTS`, `ADAPTER_CONFLICT` (sites already hooked by something else).
 */
export function applyAdapters(
  model: AdaptableModel,
  spec: AdapterSpecInput | AdapterSpec,
  options: ApplyAdaptersOptions = {},
): AdapterHandle {
  let handle = handles.get(model);
  if (handle === undefined) {
    handle = new AdapterHandle(model, options.trainHead ?? true);
    handles.set(model, handle);
  }
  const { trainHead: _ignored, ...rest } = options;
  return handle.addAdapter(spec, rest);
}

/** The handle of a model's adapters, or `undefined` when none were applied. */
export function getAdapterHandle(model: AdaptableModel): AdapterHandle | undefined {
  return handles.get(model);
}

/** The handle of a model's adapters. @throws KoraError `ADAPTER_NOT_FOUND` when none were applied. */
export function requireAdapterHandle(model: AdaptableModel): AdapterHandle {
  const handle = handles.get(model);
  if (handle === undefined) {
    throw new KoraError<TfjsErrorCode>({
      code: "ADAPTER_NOT_FOUND",
      message: "the model has no adapters; call applyAdapters(model, spec) first",
    });
  }
  return handle;
}

/** {@link AdapterHandle.trainableVariables} of a model: adapter + head variables, backbone excluded. */
export function trainableVariables(model: AdaptableModel): tf.Variable[] {
  return requireAdapterHandle(model).trainableVariables();
}

/** {@link AdapterHandle.removeAdapters}: restores the original model. A no-op when it has no adapters. */
export function removeAdapters(model: AdaptableModel): void {
  handles.get(model)?.removeAdapters();
}

/** {@link AdapterHandle.mergeAdapters}. @throws KoraError `NOT_MERGEABLE` for KoRA and AdapterFusion. */
export function mergeAdapters(model: AdaptableModel): void {
  requireAdapterHandle(model).mergeAdapters();
}

/** {@link AdapterHandle.unmergeAdapters}. */
export function unmergeAdapters(model: AdaptableModel): void {
  requireAdapterHandle(model).unmergeAdapters();
}

/** {@link AdapterHandle.setActiveAdapter}. */
export function setActiveAdapter(model: AdaptableModel, name: string): void {
  requireAdapterHandle(model).setActiveAdapter(name);
}
