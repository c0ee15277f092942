/** A projection of a ViT block that an adapter can target (HF ViT naming in {@link hfModulePath}). */
export type TargetModule = "query" | "key" | "value" | "output" | "fc1" | "fc2";

/** All target modules, in block order. */
export const TARGET_MODULES: readonly TargetModule[] = ["query", "key", "value", "output", "fc1", "fc2"];

/**
 * LoRA (Hu et al. 2021), peft-compatible: `y = W x + b + s · B A dropout(x)`, `s = alpha / rank`
 * (`alpha / √rank` with rsLoRA).
 */
export interface LoraSpec {
  /** Discriminator. */
  method: "lora";
  /** Rank r of the update (positive integer). Default 8. */
  rank: number;
  /** Scaling numerator α; the update is scaled by α/r (α/√r with {@link LoraSpec.rslora}). Default 8. */
  alpha: number;
  /** Dropout probability on the adapter input, in [0, 1). Default 0. */
  dropout: number;
  /** Projections that get an adapter, without duplicates. Default `["query", "value"]` (peft's ViT default). */
  targets: TargetModule[];
  /** Block indices that get adapters (sorted, unique), or `null` for every block. Default `null`. */
  layers: number[] | null;
  /** Rank-stabilised scaling α/√r (Kalajdzievski 2023). Default `false`. */
  rslora: boolean;
  /**
   * Initialisation: `"kaiming"` (A Kaiming-uniform with a = √5 as peft, B zeros) or `"gaussian"`
   * (A ~ N(0, 1/r), B zeros). Either way the adapted model equals the base model at init. Default `"kaiming"`.
   */
  init: "kaiming" | "gaussian";
}

/** Activation functions a composition block may use. `gelu` is the exact-erf GELU. */
export type Activation = "gelu" | "relu" | "silu" | "tanh" | "identity";

/** The CompositionBlock of KoRA: how the three low-rank deltas are mixed into one. */
export interface CompositionSpec {
  /**
   * `"mlp"`: `δ_c = W₂ σ(W₁ [δ_q; δ_k; δ_v] + b₁) + b₂` with `W₁: h×3D`, `W₂: D×h`.
   * `"attention"`: the three deltas are three tokens; each is projected to an h-dim query/key/value
   * (`W_q, W_k, W_v: h×D`), a single-head softmax attention mixes them, and the output at the value token is
   * projected back (`W_o: D×h`). Default `"mlp"`.
   */
  kind: "mlp" | "attention";
  /** Hidden width h (`d_comp`). Default 4. */
  hidden: number;
  /** Activation σ of the MLP composition (ignored by `"attention"`). Default `"gelu"`. */
  activation: Activation;
  /** Whether the composition's projections carry biases. Default `true`. */
  bias: boolean;
  /**
   * What sits between `fc1` and `fc2` of the `mlp` composition. Absent or `{ kind: "fixed" }`: the fixed
   * {@link CompositionSpec.activation} (every spec written before this field existed). `"rbf"` / `"bspline"`: a
   * learnable univariate function per hidden unit (KAN-style), initialised as a least-squares fit of
   * {@link CompositionSpec.activation} on the basis range. Only the `mlp` composition accepts a learnable basis.
   * Default absent.
   */
  basis?: CompositionBasis;
}

/** Today's composition: the fixed {@link CompositionSpec.activation} between `fc1` and `fc2`, no parameters. */
export interface FixedBasis {
  /** Discriminator. */
  kind: "fixed";
}

/**
 * Per hidden unit j, `φ_j(z) = Σ_k c_{j,k}·exp(−((z − μ_k)/σ)²)` with G centres `μ_k` evenly spaced on
 * `range` (both ends included) and `σ` their spacing `(hi − lo)/(G − 1)`. `G` coefficients per unit. Far outside
 * the range every term vanishes, so φ tends to 0 there.
 */
export interface RbfBasis {
  /** Discriminator. */
  kind: "rbf";
  /** Number of centres G (integer in [2, 256]). Default 8. */
  grid: number;
  /** `[lo, hi]`, finite, `lo < hi`: where the centres lie. Default `[-2, 2]`. */
  range: [number, number];
}

/**
 * Per hidden unit j, `φ_j(z) = w_j·silu(z) + Σ_k c_{j,k}·B_k(z)` (the residual SiLU as in KAN; without it with
 * `base: "none"`), with `B_k` the B-splines of degree `order` on the uniform knots `lo + (i − order)·(hi − lo)/G`,
 * `i = 0 … G + 2·order` (the grid extended by `order` intervals on each side, so the `G + order` splines sum to 1
 * on the whole range). `G + order` coefficients per unit, plus `w_j` with the base. The grid is fixed (no grid
 * extension or refinement during training); outside the extended grid only the base term remains.
 */
export interface BSplineBasis {
  /** Discriminator. */
  kind: "bspline";
  /** Number of grid intervals G on the range (integer in [1, 256]). Default 8. */
  grid: number;
  /** Polynomial degree of the splines (integer in [1, 5]; 3 is cubic). Default 3. */
  order: number;
  /** `[lo, hi]`, finite, `lo < hi`: the grid's span. Default `[-2, 2]`. */
  range: [number, number];
  /** `"silu"`: add a learnable `w_j·silu(z)` per unit (KAN's residual base, `w_j` starts at 1). Default `"silu"`. */
  base: "silu" | "none";
}

/** The function between the two layers of the `mlp` composition, see {@link CompositionSpec.basis}. */
export type CompositionBasis = FixedBasis | RbfBasis | BSplineBasis;

/** The gate g through which the composed delta enters the value path. */
export interface GateSpec {
  /** `"scalar"`: one g per block; `"channel"`: one g per channel (D per block). Default `"scalar"`. */
  per: "scalar" | "channel";
  /** Initial value of g. Default 0, which makes the adapted model equal the base model at init. */
  init: number;
  /**
   * `"learnable"`: g is trained (default). `"fixed"`: g stays at `init` (an ablation; `init` must be non-zero).
   * `"none"`: no gate, `v' = v + δ_c` (an ablation).
   */
  mode: "learnable" | "fixed" | "none";
}

/**
 * KoRA: per attention block, LoRA deltas `δ_t = s·B_t A_t x` for q/k/v mixed by a CompositionBlock into `δ_c` and
 * added to the value path through a gate that starts at 0: `v' = v + g·δ_c`. With the `mlp` composition and
 * `apply: "value"` the first composition layer is linear, so the three pairs fold into one `h×D` down-projection
 * of rank ≤ min(h, 3r) and the adapter is a gated bottleneck adapter on the value path.
 */
export interface KoraSpec {
  /** Discriminator. */
  method: "kora";
  /** Rank r of each of the three LoRA deltas. Default 8. */
  rank: number;
  /** Scaling numerator α; deltas are scaled by α/r (α/√r with rsLoRA). Default 8. */
  alpha: number;
  /** Dropout on the adapter input, in [0, 1). Default 0. */
  dropout: number;
  /** Rank-stabilised scaling α/√r. Default `false`. */
  rslora: boolean;
  /** Block indices that get KoRA (sorted, unique), or `null` for every block. Default `null`. */
  layers: number[] | null;
  /**
   * Standard deviation of the Gaussian initialisation of every B_t. Must be positive: with g = 0 the adapter is
   * already the identity at init, and zero B_t would leave no gradient path. Default 0.02.
   */
  bInitStd: number;
  /** The CompositionBlock. */
  composition: CompositionSpec;
  /** The gate. */
  gate: GateSpec;
  /**
   * `"value"`: only `v' = v + g·δ_c` (the paper's definition). `"qkv"`: additionally `q += δ_q`, `k += δ_k`,
   * `v += δ_v`. `"composed-qkv"`: the composition emits three outputs `δ'_q, δ'_k, δ'_v` (the `mlp`
   * composition's `fc2` maps h → 3D; the `attention` composition also reads out its query and key tokens), each
   * added to its own projection through its own gate: `q' = q + g_q·δ'_q`, `k' = k + g_k·δ'_k`,
   * `v' = v + g_v·δ'_v` (three gates per block, each as {@link KoraSpec.gate} describes). Default `"value"`.
   */
  apply: "value" | "qkv" | "composed-qkv";
}

/** Fusion attention of AdapterFusion (Pfeiffer et al. 2021). */
export interface FusionSpec {
  /**
   * `"dynamic"`: query, key and value matrices (value `D×D` with bias, initialised near identity, as AdapterHub).
   * `"static"`: query and key only; the fused output is the attention-weighted sum of the adapter outputs.
   * Default `"static"`, because the dynamic value matrix alone (D² + D per block) is 6× LoRA r=8's per-block
   * parameters on ViT-Tiny and 24× on ViT-B/16.
   */
  variant: "dynamic" | "static";
  /**
   * Width a of the query/key projections (`D×a` each, with bias), or `null` for D as in AdapterHub.
   * Default 8, which puts the method's trainable share near LoRA r=8's.
   */
  attentionDim: number | null;
}

/**
 * AdapterFusion: N bottleneck adapters after each block's FFN (`h ← W_up relu(W_down h) + h`), fused per token
 * by attention over the adapters' outputs.
 */
export interface AdapterFusionSpec {
  /** Discriminator. */
  method: "adapter-fusion";
  /** Names of the N bottleneck adapters (unique, `[A-Za-z0-9_-]+`). Default `["adapter_0", "adapter_1"]`. */
  adapters: string[];
  /** Bottleneck = floor(D / reduction), at least 1. Default 64. Ignored when {@link bottleneck} is set. */
  reduction: number;
  /** Explicit bottleneck width, or `null` to derive it from {@link reduction}. Default `null`. */
  bottleneck: number | null;
  /** Adapter non-linearity. Default `"relu"`. */
  activation: Activation;
  /** The fusion attention. */
  fusion: FusionSpec;
  /**
   * `"single-stage"`: adapters and fusion trained together. `"two-stage"`: adapters are loaded and frozen, only
   * the fusion is trained. Default `"single-stage"`.
   */
  training: "single-stage" | "two-stage";
  /** Block indices that get adapters (sorted, unique), or `null` for every block. Default `null`. */
  layers: number[] | null;
}

/**
 * The gated bottleneck adapter on V: per attention block, `v' = v + g·(W₂ σ(W₁ x + b₁) + b₂)` with `x` the
 * block's attention input (what the q/k/v projections read), `W₁: h×D`, `W₂: D×h` and a gate g that starts at 0.
 * It is KoRA's functional twin: KoRA with the mlp composition on the value path equals this adapter with
 * `W₁ = s·Σ_t W₁,t B_t A_t` (see `foldKoraIntoBottleneck`).
 */
export interface GatedBottleneckSpec {
  /** Discriminator. */
  method: "gated-bottleneck";
  /** Hidden width h of the bottleneck (KoRA's `d_comp`). Default 4. */
  hidden: number;
  /** Activation σ between the two projections. Default `"gelu"`. */
  activation: Activation;
  /** Whether both projections carry biases. Default `true`. */
  bias: boolean;
  /** Dropout on the adapter input, in [0, 1). Default 0. */
  dropout: number;
  /** Block indices that get the adapter (sorted, unique), or `null` for every block. Default `null`. */
  layers: number[] | null;
  /**
   * The gate (as KoRA's). With the default `init: 0` the adapter is the identity at init; both projections start
   * as PyTorch's `nn.Linear` (non-zero), so the gate's gradient is non-zero from the first step.
   */
  gate: GateSpec;
}

/**
 * Gated LoRA, KoRA's gate on a plain LoRA: `y = W x + b + g · s · B A dropout(x)` on each targeted projection, with
 * one gate per adapted projection. B starts non-zero (as KoRA's B_t) and the gate at 0, so the adapted model equals
 * the base model because of the gate alone. It isolates the gate: compared with LoRA it adds only the gate and the
 * non-zero B, compared with KoRA it drops the composition.
 */
export interface GatedLoraSpec {
  /** Discriminator. */
  method: "gated-lora";
  /** Rank r of each update (positive integer). Default 8. */
  rank: number;
  /** Scaling numerator α; the update is scaled by α/r (α/√r with {@link GatedLoraSpec.rslora}). Default 8. */
  alpha: number;
  /** Dropout probability on the adapter input, in [0, 1). Default 0. */
  dropout: number;
  /** Projections that get an adapter, without duplicates. Default `["query", "value"]` (as LoRA). */
  targets: TargetModule[];
  /** Block indices that get adapters (sorted, unique), or `null` for every block. Default `null`. */
  layers: number[] | null;
  /** Rank-stabilised scaling α/√r. Default `false`. */
  rslora: boolean;
  /**
   * Standard deviation of the Gaussian initialisation of every B (A is Kaiming-uniform as LoRA's). Must be
   * positive: with g = 0 a zero B would leave no gradient path. Default 0.02, KoRA's `bInitStd`.
   */
  bInitStd: number;
  /**
   * The gate of each adapted projection: `per: "scalar"` is one g per projection, `"channel"` one per output
   * channel. With the default `init: 0` the adapter is the identity at init.
   */
  gate: GateSpec;
}

/** Any adapter spec, discriminated by `method`. */
export type AdapterSpec = LoraSpec | KoraSpec | AdapterFusionSpec | GatedBottleneckSpec | GatedLoraSpec;

/** The adapter methods KoRA-TS implements. */
export type AdapterMethod = AdapterSpec["method"];
