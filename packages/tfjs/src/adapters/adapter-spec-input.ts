import {
  type AdapterFusionSpec,
  type AdapterSpec,
  type CompositionSpec,
  type FusionSpec,
  type GateSpec,
  type KoraSpec,
  type LoraSpec,
  parseAdapterSpec,
} from "@kora/spec";

/**
 * An adapter spec as a user writes it: `method` plus any fields; `parseAdapterSpec` validates it and fills in
 * the documented defaults (e.g. `{ method: "kora", composition: { hidden: 8 } }`). A complete
 * {@link AdapterSpec} is accepted as is.
 */
export type AdapterSpecInput =
  | ({ method: "lora" } & Partial<Omit<LoraSpec, "method">>)
  | ({ method: "kora" } & Partial<Omit<KoraSpec, "method" | "composition" | "gate">> & {
        /** The CompositionBlock; missing fields take their defaults. */
        composition?: Partial<CompositionSpec>;
        /** The gate; missing fields take their defaults. */
        gate?: Partial<GateSpec>;
      })
  | ({ method: "adapter-fusion" } & Partial<Omit<AdapterFusionSpec, "method" | "fusion">> & {
        /** The fusion attention; missing fields take their defaults. */
        fusion?: Partial<FusionSpec>;
      });

/** Validates and completes a spec. @internal */
export function completeSpec(input: AdapterSpecInput | AdapterSpec): AdapterSpec {
  return parseAdapterSpec(input);
}
