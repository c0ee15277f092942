import { ADAPTER_METHOD_REGISTRY, type AdapterSpec, KoraError } from "@kora/spec";
import type { TfjsErrorCode } from "../../errors";

/**
 * The error `mergeAdapters` throws for a method whose update is not a linear map of the input; `why` says what
 * makes it nonlinear. @internal
 */
export function notMergeable(spec: AdapterSpec, name: string, why: string): KoraError {
  return new KoraError<TfjsErrorCode>({
    code: "NOT_MERGEABLE",
    message: `cannot merge adapter "${name}" (${spec.method}): ${why}; only ${mergeableTitles()} adapters can be merged. Keep the adapter active instead (it costs one small extra matmul chain per block).`,
  });
}

/** The mergeable methods' titles as a phrase: "LoRA", "LoRA and gated LoRA", "A, B and C". */
function mergeableTitles(): string {
  const titles = Object.values(ADAPTER_METHOD_REGISTRY)
    .filter((definition) => definition.mergeable)
    .map((definition) => definition.title);
  return titles.length <= 1 ? titles.join("") : `${titles.slice(0, -1).join(", ")} and ${titles.at(-1)}`;
}
