import { type AdapterSpec, KoraError } from "@kora/spec";
import type { TfjsErrorCode } from "../../errors";

/** The error `mergeAdapters` throws for a method whose update is not a linear map of the input. @internal */
export function notMergeable(spec: AdapterSpec, name: string): KoraError {
  const why =
    spec.method === "kora"
      ? spec.composition.kind === "mlp"
        ? `KoRA's composed delta g·(σ([δ_q; δ_k; δ_v]·W₁ + b₁)·W₂ + b₂) passes the three deltas through the ${spec.composition.activation} composition MLP, so it is not a linear function of the block input and no kernel W' gives x·W' = x·W_v + g·δ_c(x)`
        : "KoRA's attention composition mixes the three deltas with input-dependent softmax weights, so its delta is not a linear function of the block input and no kernel W' reproduces it"
      : "AdapterFusion adds nonlinear bottleneck adapters after the FFN and fuses them with a per-token softmax, so there is no linear weight to fold them into";
  return new KoraError<TfjsErrorCode>({
    code: "NOT_MERGEABLE",
    message: `cannot merge adapter "${name}" (${spec.method}): ${why}; only LoRA adapters can be merged. Keep the adapter active instead (it costs one small extra matmul chain per block).`,
  });
}
