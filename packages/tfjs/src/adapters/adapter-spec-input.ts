import { type AdapterMethod, type AdapterSpec, parseAdapterSpec, type SpecOf } from "@kora/spec";

/**
 * A field two levels down (e.g. `composition.basis`): an object discriminated by `kind` keeps `kind` required
 * (it picks the variant) and may leave out the rest, which the variant's defaults fill.
 */
type NestedField<V> = V extends readonly unknown[] | null
  ? V
  : V extends { kind: infer Kind }
    ? { kind: Kind } & Partial<Omit<V, "kind">>
    : V;

/** A spec's fields as a user may give them: any may be left out, and nested objects may be partial. */
type PartialFields<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] | null
    ? T[K]
    : T[K] extends object
      ? { [P in keyof T[K]]?: NestedField<T[K][P]> }
      : T[K];
};

/**
 * An adapter spec as a user writes it: `method` plus any fields; `parseAdapterSpec` validates it and fills the
 * defaults (e.g. `{ method: "kora", composition: { hidden: 8 } }`: missing fields of nested objects take their
 * defaults too). A complete {@link AdapterSpec} is accepted as is. Derived from `@kora/spec`'s method registry,
 * so every registered method is accepted.
 */
export type AdapterSpecInput = {
  [M in AdapterMethod]: { method: M } & PartialFields<Omit<SpecOf<M>, "method">>;
}[AdapterMethod];

/** Validates and completes a spec. @internal */
export function completeSpec(input: AdapterSpecInput | AdapterSpec): AdapterSpec {
  return parseAdapterSpec(input);
}
