import type { AdapterMethod, AdapterSpec } from "../spec/types";
import { adapterFusionMethod } from "./adapter-fusion";
import { gatedBottleneckMethod } from "./gated-bottleneck";
import { gatedLoraMethod } from "./gated-lora";
import { koraMethod } from "./kora";
import { loraMethod } from "./lora";
import type { MethodDefinition, SpecOf } from "./method-definition";

/** One {@link MethodDefinition} per {@link AdapterMethod}: a method missing here is a compile error. */
export type MethodRegistry = { readonly [M in AdapterMethod]: MethodDefinition<SpecOf<M>> };

/**
 * The adapter methods KoRA-TS implements, keyed by `method`. Every switch on the method in the repository reads
 * this table (schemas and defaults, tensor layouts, counts, labels, help texts); adding a method to the
 * {@link AdapterSpec} union without an entry here does not compile.
 */
export const ADAPTER_METHOD_REGISTRY: MethodRegistry = {
  lora: loraMethod,
  kora: koraMethod,
  "adapter-fusion": adapterFusionMethod,
  "gated-bottleneck": gatedBottleneckMethod,
  "gated-lora": gatedLoraMethod,
};

/** Every adapter method, in registry order (`["lora", "kora", ...]`), e.g. for CLI choices and config enums. */
// Marked pure so that a bundler may drop the registry, and the zod it reaches through the schema getters, from a
// page that never reads it (a top-level call is otherwise kept for its possible side effects).
export const ADAPTER_METHODS = /* @__PURE__ */ Object.keys(ADAPTER_METHOD_REGISTRY) as [
  AdapterMethod,
  ...AdapterMethod[],
];

/** Whether `value` names a registered adapter method. */
export function isAdapterMethod(value: unknown): value is AdapterMethod {
  return typeof value === "string" && Object.hasOwn(ADAPTER_METHOD_REGISTRY, value);
}

/** The registry entry of a spec's method, typed for that spec. */
export function methodDefinition<S extends AdapterSpec>(spec: S): MethodDefinition<S>;
/** The registry entry of a method. */
export function methodDefinition<M extends AdapterMethod>(method: M): MethodDefinition<SpecOf<M>>;
export function methodDefinition(specOrMethod: AdapterSpec | AdapterMethod): MethodDefinition {
  const method = typeof specOrMethod === "string" ? specOrMethod : specOrMethod.method;
  // The mapped registry type guarantees the entry matches its key; TypeScript cannot correlate the two here.
  return ADAPTER_METHOD_REGISTRY[method] as unknown as MethodDefinition;
}
