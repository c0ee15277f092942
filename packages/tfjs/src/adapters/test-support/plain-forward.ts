/**
 * The tiny transformer's forward pass in plain JavaScript arithmetic (float64 over the float32 weights), no tfjs:
 * an independent reference for re-applying exported adapter tensors. Weights use the tfjs `[in, out]` layout of
 * `TinyTransformer.snapshot()`; LoRA tensors the PyTorch/peft layout (`A: [r, in]`, `B: [out, r]`).
 */
import type { BackboneShape } from "@kora/spec";

type Named = Record<string, { shape: number[]; data: Float32Array }>;
type Matrix = number[][];

/** A LoRA update of one projection in peft layout. */
export interface PlainLora {
  /** `lora_A.weight`, `[r, in]`. */
  a: { shape: number[]; data: Float32Array };
  /** `lora_B.weight`, `[out, r]`. */
  b: { shape: number[]; data: Float32Array };
  /** `s = α/r` (or `α/√r`). */
  scale: number;
}

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), enough for a 1e-5 comparison. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly =
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign * (1 - poly * Math.exp(-ax * ax));
}

function get(weights: Named, name: string): { shape: number[]; data: Float32Array } {
  const w = weights[name];
  if (w === undefined) throw new Error(`missing weight ${name}`);
  return w;
}

/** `x·W + b` with `W` in `[in, out]` layout. */
function dense(x: Matrix, w: { shape: number[]; data: Float32Array }, b?: { data: Float32Array }): Matrix {
  const [inDim, outDim] = w.shape as [number, number];
  return x.map((row) => {
    const out = new Array<number>(outDim).fill(0);
    for (let i = 0; i < inDim; i++) {
      const xi = row[i] as number;
      for (let o = 0; o < outDim; o++) out[o] = (out[o] as number) + xi * (w.data[i * outDim + o] as number);
    }
    return b === undefined ? out : out.map((v, o) => v + (b.data[o] as number));
  });
}

/** `s·B·A·x` per row with peft layouts. */
function loraDelta(x: Matrix, lora: PlainLora): Matrix {
  const [r, inDim] = lora.a.shape as [number, number];
  const outDim = lora.b.shape[0] as number;
  return x.map((row) => {
    const ax = new Array<number>(r).fill(0);
    for (let j = 0; j < r; j++)
      for (let i = 0; i < inDim; i++)
        ax[j] = (ax[j] as number) + (lora.a.data[j * inDim + i] as number) * (row[i] as number);
    const out = new Array<number>(outDim).fill(0);
    for (let o = 0; o < outDim; o++)
      for (let j = 0; j < r; j++)
        out[o] = (out[o] as number) + (lora.b.data[o * r + j] as number) * (ax[j] as number);
    return out.map((v) => v * lora.scale);
  });
}

function add(a: Matrix, b: Matrix): Matrix {
  return a.map((row, i) => row.map((v, j) => v + (b[i]?.[j] as number)));
}

function layerNorm(x: Matrix, gamma: { data: Float32Array }, beta: { data: Float32Array }): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map(
      (v, j) =>
        ((v - mean) / Math.sqrt(variance + 1e-6)) * (gamma.data[j] as number) + (beta.data[j] as number),
    );
  });
}

/**
 * Logits `[batch][numClasses]` of `patches` (`[batch][N][C·P²]`), with `lora["{layer}.{target}"]` added to the
 * targeted projections and, when given, `head` (`weight [K, D]`, `bias [K]`, PyTorch layout) replacing the
 * model's head.
 */
export function plainForward(
  shape: BackboneShape,
  weights: Named,
  patches: number[][][],
  lora: Record<string, PlainLora> = {},
  head?: { weight: { shape: number[]; data: Float32Array }; bias: { data: Float32Array } },
): number[][] {
  const { dim, heads } = shape;
  const headDim = dim / heads;
  const project = (x: Matrix, layer: number, target: string): Matrix => {
    const out = dense(x, get(weights, `${layer}/${target}/kernel`), get(weights, `${layer}/${target}/bias`));
    const update = lora[`${layer}.${target}`];
    return update === undefined ? out : add(out, loraDelta(x, update));
  };
  return patches.map((image) => {
    const cls = get(weights, "cls").data;
    const positions = get(weights, "positions").data;
    const embedded = dense(image, get(weights, "patch/kernel"), get(weights, "patch/bias"));
    let h: Matrix = [Array.from(cls.subarray(0, dim)), ...embedded].map((row, t) =>
      row.map((v, j) => v + (positions[t * dim + j] as number)),
    );
    for (let layer = 0; layer < shape.depth; layer++) {
      const x = layerNorm(h, get(weights, `${layer}/ln1/gamma`), get(weights, `${layer}/ln1/beta`));
      const q = project(x, layer, "query");
      const k = project(x, layer, "key");
      const v = project(x, layer, "value");
      const context: Matrix = h.map(() => new Array<number>(dim).fill(0));
      for (let head = 0; head < heads; head++) {
        const lo = head * headDim;
        for (let t = 0; t < h.length; t++) {
          const scores = k.map((kr) => {
            let dot = 0;
            for (let j = 0; j < headDim; j++) dot += (q[t]?.[lo + j] as number) * (kr[lo + j] as number);
            return dot / Math.sqrt(headDim);
          });
          const max = Math.max(...scores);
          const exps = scores.map((s) => Math.exp(s - max));
          const total = exps.reduce((s, e) => s + e, 0);
          for (let u = 0; u < h.length; u++) {
            const p = (exps[u] as number) / total;
            for (let j = 0; j < headDim; j++) {
              (context[t] as number[])[lo + j] =
                (context[t]?.[lo + j] as number) + p * (v[u]?.[lo + j] as number);
            }
          }
        }
      }
      h = add(h, project(context, layer, "output"));
      const x2 = layerNorm(h, get(weights, `${layer}/ln2/gamma`), get(weights, `${layer}/ln2/beta`));
      const hidden = project(x2, layer, "fc1").map((row) =>
        row.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2))),
      );
      h = add(h, project(hidden, layer, "fc2"));
    }
    const final = layerNorm([h[0] as number[]], get(weights, "final/gamma"), get(weights, "final/beta"));
    if (head === undefined)
      return dense(final, get(weights, "head/kernel"), get(weights, "head/bias"))[0] as number[];
    const [classes] = head.weight.shape as [number, number];
    const row = final[0] as number[];
    return Array.from({ length: classes }, (_, c) => {
      let sum = head.bias.data[c] as number;
      for (let j = 0; j < dim; j++) sum += (head.weight.data[c * dim + j] as number) * (row[j] as number);
      return sum;
    });
  });
}
