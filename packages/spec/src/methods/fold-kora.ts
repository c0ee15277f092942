import { type AdapterTensor, validateAdapterTensors } from "../adapter-file/adapter-file";
import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import type { BackboneShape } from "../params/backbone-shape";
import type { GatedBottleneckSpec, KoraSpec } from "../spec/types";
import { compositionBasis } from "./kora-basis";
import { adaptedLayers } from "./layout-helpers";

/** A gated bottleneck adapter computed from a KoRA adapter by {@link foldKoraIntoBottleneck}. */
export interface FoldedBottleneck {
  /** The complete spec: KoRA's composition width, activation, biases, dropout, layers and gate. */
  spec: GatedBottleneckSpec;
  /** The bottleneck's tensors (PyTorch `[out, in]` layout), plus KoRA's head tensors when they were given. */
  tensors: Record<string, AdapterTensor>;
}

function tensorOf(tensors: Record<string, AdapterTensor>, name: string): AdapterTensor {
  // validateAdapterTensors ran first, so a missing name is a bug here, not bad input.
  const tensor = tensors[name];
  if (tensor === undefined) throw new Error(`internal: ${name} missing after validation`);
  return tensor;
}

/**
 * Folds a KoRA adapter with the `mlp` composition on the value path into the equivalent gated bottleneck adapter.
 *
 * KoRA's first composition layer is linear, so per block
 * `W₁·[δ_q; δ_k; δ_v] = Σ_t W₁,t·(s·B_t·A_t·x) = (s·Σ_t W₁,t·B_t·A_t)·x`, with `W₁,t` the `h×D` block of
 * columns of `W₁` that reads `δ_t` and `s` KoRA's scaling (α/r, or α/√r with rsLoRA). The three specialists
 * therefore act only through the one `h×D` matrix `W₁' = s·Σ_t W₁,t B_t A_t` (rank ≤ min(h, 3r)), and KoRA equals
 * the gated bottleneck adapter `v' = v + g·(W₂ σ(W₁' x + b₁) + b₂)` with KoRA's `b₁`, `W₂`, `b₂` and gate. The
 * products are computed in float64 and stored as float32.
 *
 * @param tensors KoRA's tensors as `adapterTensorLayout` names them (e.g. from `getAdapterTensors` or
 * `readAdapterDir`), with or without `head.weight`/`head.bias` (passed through unchanged).
 * @throws KoraError `INVALID_SPEC` when the composition is `attention` (softmax mixing does not fold) or `apply`
 * is `qkv` or `composed-qkv` (q and k change too), or `composition.basis` is learnable (the bottleneck's
 * activation is fixed); `SHAPE_MISMATCH` / `INVALID_ADAPTER_FILE` when the tensors do not match the spec.
 */
export function foldKoraIntoBottleneck(
  spec: KoraSpec,
  backbone: BackboneShape,
  tensors: Record<string, AdapterTensor>,
): FoldedBottleneck {
  if (spec.composition.kind !== "mlp") {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `foldKoraIntoBottleneck: composition.kind must be "mlp" (the attention composition mixes the deltas with input-dependent softmax weights and has no linear first layer to fold), got "${spec.composition.kind}"`,
      path: "composition.kind",
    });
  }
  if (spec.apply !== "value") {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `foldKoraIntoBottleneck: apply must be "value" (with "qkv" the deltas, and with "composed-qkv" the composition's outputs, also change q and k, which a value-path adapter cannot), got "${spec.apply}"`,
      path: "apply",
    });
  }
  const basis = compositionBasis(spec.composition);
  if (basis.kind !== "fixed") {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `foldKoraIntoBottleneck: composition.basis must be "fixed" (the gated bottleneck adapter has a fixed activation, not KoRA's learnable per-unit functions), got "${basis.kind}"`,
      path: "composition.basis",
    });
  }
  const includeHead = Object.hasOwn(tensors, "head.weight");
  validateAdapterTensors(spec, backbone, tensors, { includeHead, file: "foldKoraIntoBottleneck" });
  const d = backbone.dim;
  const h = spec.composition.hidden;
  const r = spec.rank;
  const s = spec.rslora ? spec.alpha / Math.sqrt(r) : spec.alpha / r;
  const out: Record<string, AdapterTensor> = {};
  for (const layer of adaptedLayers(spec, backbone)) {
    const kora = `layers.${layer}.kora`;
    const bottleneck = `layers.${layer}.bottleneck`;
    const w1 = tensorOf(tensors, `${kora}.composition.fc1.weight`).data; // [h, 3D]
    const folded = new Float64Array(h * d); // W₁' [h, D]
    const mixed = new Float64Array(h * r); // W₁,t·B_t [h, r]
    (["query", "key", "value"] as const).forEach((target, t) => {
      const a = tensorOf(tensors, `${kora}.${target}.lora_A`).data; // [r, D]
      const b = tensorOf(tensors, `${kora}.${target}.lora_B`).data; // [D, r]
      mixed.fill(0);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < d; j++) {
          const w = w1[i * 3 * d + t * d + j] as number;
          for (let k = 0; k < r; k++)
            mixed[i * r + k] = (mixed[i * r + k] as number) + w * (b[j * r + k] as number);
        }
      }
      for (let i = 0; i < h; i++) {
        for (let k = 0; k < r; k++) {
          const m = s * (mixed[i * r + k] as number);
          for (let j = 0; j < d; j++)
            folded[i * d + j] = (folded[i * d + j] as number) + m * (a[k * d + j] as number);
        }
      }
    });
    out[`${bottleneck}.down.weight`] = { shape: [h, d], data: Float32Array.from(folded) };
    const copy = (from: string, to: string) => {
      const tensor = tensorOf(tensors, from);
      out[to] = { shape: [...tensor.shape], data: Float32Array.from(tensor.data) };
    };
    if (spec.composition.bias) copy(`${kora}.composition.fc1.bias`, `${bottleneck}.down.bias`);
    copy(`${kora}.composition.fc2.weight`, `${bottleneck}.up.weight`);
    if (spec.composition.bias) copy(`${kora}.composition.fc2.bias`, `${bottleneck}.up.bias`);
    if (spec.gate.mode === "learnable") copy(`${kora}.gate`, `${bottleneck}.gate`);
  }
  if (includeHead) {
    for (const name of ["head.weight", "head.bias"]) {
      const tensor = tensorOf(tensors, name);
      out[name] = { shape: [...tensor.shape], data: Float32Array.from(tensor.data) };
    }
  }
  return {
    spec: {
      method: "gated-bottleneck",
      hidden: h,
      activation: spec.composition.activation,
      bias: spec.composition.bias,
      dropout: spec.dropout,
      layers: spec.layers === null ? null : [...spec.layers],
      gate: { ...spec.gate },
    },
    tensors: out,
  };
}
