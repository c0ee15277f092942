import { brotliCompressSync, constants } from "node:zlib";
import { classificationTask, disposeModel, evaluateTask } from "@kora/finetune";
import { effectiveRank, lowRankSingularValues, singularValues } from "@kora/metrics";
import {
  type AdapterSpec,
  type AdapterTensor,
  adapterTensorLayout,
  foldKoraIntoBottleneck,
  KoraError,
} from "@kora/spec";
import { getAdapterHandle } from "@kora/tfjs";
import type { BackboneInfo } from "./backbone";
import { evaluationIndices, openClassification, type TaskContext } from "./context";
import { loadSourceModel } from "./model";
import type { RunRequest, TaskOutput } from "./types";

/** Bit widths of the uniform quantisation sweep. */
export const QUANT_BITS = [8, 6, 4, 3, 2] as const;
/** Fractions of each tensor's smallest-magnitude values set to zero (on top of 8-bit quantisation). */
export const PRUNE_FRACTIONS = [0.5, 0.8, 0.9] as const;
/** The accuracy drop (points) the "bits at a fixed drop" metric allows. */
export const ALLOWED_DROP = 1;

/** One point of a rate–accuracy curve. */
export interface RatePoint {
  /** `fp32`, `q8` … `q2`, or `q8-prune0.5` … */
  config: string;
  /** Brotli-compressed size of the adapter's tensors in this form, in bits (quantisation scales included). */
  bits: number;
  /** Accuracy (%) with the adapter in this form. */
  accuracy: number;
}

/**
 * Symmetric uniform quantisation of one tensor to `bits` bits: codes in ±(2^(bits−1) − 1), one float32 scale
 * (max |w| over the code range). Returns the codes and the values they stand for.
 */
export function quantise(values: Float32Array, bits: number): { codes: Int8Array; restored: Float32Array } {
  const levels = 2 ** (bits - 1) - 1;
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const scale = max === 0 ? 1 : max / levels;
  const codes = new Int8Array(values.length);
  const restored = new Float32Array(values.length);
  values.forEach((v, i) => {
    const code = Math.max(-levels, Math.min(levels, Math.round(v / scale)));
    codes[i] = code;
    restored[i] = code * scale;
  });
  return { codes, restored };
}

/** Zeroes the `fraction` of `values` with the smallest magnitudes (ties broken by position); a new array. */
export function prune(values: Float32Array, fraction: number): Float32Array {
  const order = Array.from(values.keys()).sort(
    (a, b) => Math.abs(values[a] as number) - Math.abs(values[b] as number) || a - b,
  );
  const out = Float32Array.from(values);
  for (const i of order.slice(0, Math.floor(fraction * values.length))) out[i] = 0;
  return out;
}

/** Bits of the brotli-compressed bytes (quality 11, the densest), plus `extraBytes` stored raw. */
export function compressedBits(bytes: Uint8Array, extraBytes = 0): number {
  const packed = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  return 8 * (packed.length + extraBytes);
}

function concat(parts: readonly ArrayBufferView[]): Uint8Array {
  const total = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Per block, the singular values of the matrix through which the adapter reads its input: LoRA's and gated
 * LoRA's `ΔW = s·B·A` (each adapted projection), the gated bottleneck's down-projection, and KoRA's folded
 * `W₁' = s·Σ_t W₁,t B_t A_t` (the mlp composition on the value path; other KoRA forms do not fold and give none).
 */
export function readSpectra(
  spec: AdapterSpec,
  backbone: Parameters<typeof adapterTensorLayout>[1],
  tensors: Record<string, AdapterTensor>,
): { block: number; name: string; values: number[] }[] {
  const toRows = (t: AdapterTensor) => ({
    rows: t.shape[0] as number,
    cols: t.shape[1] as number,
    data: t.data,
  });
  const out: { block: number; name: string; values: number[] }[] = [];
  const layout = adapterTensorLayout(spec, backbone, { includeHead: false });
  if (spec.method === "lora" || spec.method === "gated-lora") {
    const s = spec.rslora ? spec.alpha / Math.sqrt(spec.rank) : spec.alpha / spec.rank;
    for (const info of layout) {
      if (info.group !== "lora_A" || info.layer === null) continue;
      const prefix = info.name.slice(0, -".lora_A".length);
      const a = tensors[info.name];
      const b = tensors[`${prefix}.lora_B`];
      if (a === undefined || b === undefined) continue;
      const values = Array.from(lowRankSingularValues(toRows(b), toRows(a)), (v) => v * s);
      out.push({ block: info.layer, name: prefix, values });
    }
  } else if (spec.method === "gated-bottleneck") {
    for (const info of layout) {
      if (!info.name.endsWith(".down.weight") || info.layer === null) continue;
      const w = tensors[info.name];
      if (w !== undefined)
        out.push({ block: info.layer, name: info.name, values: Array.from(singularValues(toRows(w))) });
    }
  } else if (spec.method === "kora" && spec.composition.kind === "mlp" && spec.apply === "value") {
    const folded = foldKoraIntoBottleneck(spec, backbone, tensors);
    return readSpectra(folded.spec, backbone, folded.tensors);
  }
  return out;
}

/**
 * Compressibility of a 4.1 adapter (the test of "Kolmogorov-inspired"): the rate–accuracy curve of its
 * tensors under uniform quantisation to 8 … 2 bits and magnitude pruning (brotli-compressed sizes), the fewest bits
 * that keep accuracy within {@link ALLOWED_DROP} point of the trained adapter's, and the effective rank of what each
 * block's adapter reads (`readSpectra`). The head stays float32: it is the task's, not the adapter's.
 */
export async function runCompress(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset } = context;
  if (request.method.kind !== "adapter") {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `the compress task measures an adapter; ${request.key} trains "${request.method.kind}"`,
    });
  }
  const evalSet = await openClassification(preset.source, preset.source.evalSplit);
  const evaluation = {
    batchSize: preset.batchSize,
    indices: evaluationIndices(evalSet, preset.source.evalSize),
  };
  const task = classificationTask({ classes: evalSet.classes.length });
  const model = await loadSourceModel(context.out, backbone, request, task);
  try {
    const started = performance.now();
    const handle = getAdapterHandle(model.vit);
    if (handle === undefined)
      throw new KoraError({ code: "INVALID_ARGUMENT", message: `${request.key}: no adapter` });
    // The adapter's tensors in the file layout (PyTorch [out, in]), without the head: the task's, kept float32.
    const original = handle.getAdapterTensors({ includeHead: false });
    const names = Object.keys(original);
    const transformed = (f: (values: Float32Array) => Float32Array) =>
      Object.fromEntries(
        names.map((name) => [
          name,
          { ...(original[name] as AdapterTensor), data: f((original[name] as AdapterTensor).data) },
        ]),
      );
    const accuracyWith = async (tensors: Record<string, AdapterTensor>) => {
      handle.setAdapterTensors(tensors);
      return (await evaluateTask(model.vit, task, evalSet, evaluation)).accuracy * 100;
    };
    const dataOf = (tensors: Record<string, AdapterTensor>) =>
      names.map((name) => (tensors[name] as AdapterTensor).data);
    const codesOf = (f: (values: Float32Array) => Float32Array, bits: number) =>
      concat(names.map((name) => quantise(f((original[name] as AdapterTensor).data), bits).codes));
    const points: RatePoint[] = [];
    const baseline = await accuracyWith(original);
    points.push({ config: "fp32", bits: compressedBits(concat(dataOf(original))), accuracy: baseline });
    const scales = 4 * names.length; // one float32 scale per tensor
    for (const bits of QUANT_BITS) {
      points.push({
        config: `q${bits}`,
        bits: compressedBits(
          codesOf((v) => v, bits),
          scales,
        ),
        accuracy: await accuracyWith(transformed((v) => quantise(v, bits).restored)),
      });
    }
    for (const fraction of PRUNE_FRACTIONS) {
      points.push({
        config: `q8-prune${fraction}`,
        bits: compressedBits(
          codesOf((v) => prune(v, fraction), 8),
          scales,
        ),
        accuracy: await accuracyWith(transformed((v) => quantise(prune(v, fraction), 8).restored)),
      });
    }
    await accuracyWith(original);
    const kept = points.filter((p) => p.accuracy >= baseline - ALLOWED_DROP);
    const fewest = Math.min(...kept.map((p) => p.bits));
    const spec = handle.spec();
    const tensors = original;
    const spectra = readSpectra(spec, model.vit.backboneShape, tensors);
    const ranks = spectra.map((s) => effectiveRank(s.values));
    return {
      metrics: {
        kbitsAtDrop: fewest / 1000,
        effectiveRank: ranks.length === 0 ? null : ranks.reduce((a, b) => a + b, 0) / ranks.length,
      },
      curve: [],
      extra: {
        points,
        baselineAccuracy: baseline,
        allowedDrop: ALLOWED_DROP,
        parameters: dataOf(original).reduce((sum, values) => sum + values.length, 0),
        spectra,
        evalExamples: evaluation.indices.length,
      },
      trainSeconds: 0,
      evalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}
