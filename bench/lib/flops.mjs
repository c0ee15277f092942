// Analytic FLOPs of one ViT training step (matmuls only, one multiply-add = 2 FLOPs; LayerNorm, GELU, softmax,
// AdamW and the other elementwise work are not counted, as PyTorch's and fvcore's model-FLOP counts do not).
//
// Shapes: B batch, T = N + 1 tokens (N = (I/P)² patches), D dim, M MLP width, L blocks, K classes, r LoRA rank,
// h KoRA's d_comp. Forward per image:
//   patch 2·N·P²C·D + L·(8·T·D² [q,k,v,o] + 4·T²·D [scores, context] + 4·T·D·M [fc1, fc2]) + 2·D·K [head]
//   + adapters: LoRA 4·T·D·r per target; KoRA 12·T·D·r + 8·T·D·h per block; AdapterFusion (n adapters,
//     bottleneck b, attention dim a) n·4·T·D·b + (n + 1)·2·T·D·a per block.
// Backward: each matmul's gradient with respect to an input that needs one (same FLOPs as its forward) plus its
// weight gradient when the weight trains (same again). Frozen weights get no weight gradient, and nothing below
// the first adapter is back-propagated (block 0's frozen q/k/v projections, the patch embedding).

/** FLOPs of one step of `method` at `batch` for a resolved ViT config. */
export function stepFlops(config, method, batch, spec = {}) {
  const { imageSize: I, patchSize: P, channels: C, dim: D, mlpDim: M, depth: L, numClasses: K } = config;
  const N = (I / P) ** 2;
  const T = N + 1;
  const r = spec.rank ?? 8;
  const h = spec.composition?.hidden ?? 4;
  const n = spec.adapters?.length ?? 2;
  const b = Math.max(1, Math.floor(D / (spec.reduction ?? 64)));
  const a = spec.fusion?.attentionDim ?? 8;
  const targets = spec.targets?.length ?? 3;

  const patch = 2 * N * P * P * C * D;
  const qkv = 6 * T * D * D;
  const out = 2 * T * D * D;
  const attention = 2 * T * T * D; // one of the two (scores or context)
  const mlp = 4 * T * D * M;
  const head = 2 * D * K;
  const block = qkv + out + 2 * attention + mlp;
  const adapterForward = {
    lora: targets * 4 * T * D * r,
    kora: 12 * T * D * r + 8 * T * D * h,
    "adapter-fusion": n * 4 * T * D * b + (n + 1) * 2 * T * D * a,
  };
  const perBlockAdapter = adapterForward[method] ?? 0;
  const forward = batch * (patch + L * (block + perBlockAdapter) + head);

  let backward;
  // Input gradients through a block whose input needs a gradient: every matmul once, attention both operands.
  const blockInput = qkv + out + 4 * attention + mlp;
  switch (method) {
    case "full":
      backward = batch * (patch + L * (2 * qkv + 2 * out + 4 * attention + 2 * mlp) + 2 * head);
      break;
    case "head-only":
      backward = batch * head;
      break;
    case "lora": {
      // Block 0: no input gradient for q/k/v (their input is frozen); attention, o, fc1, fc2 input gradients.
      const first = out + 4 * attention + mlp;
      const lowRank = (firstBlock) => targets * (firstBlock ? 6 : 8) * T * D * r;
      backward = batch * (first + lowRank(true) + (L - 1) * (blockInput + lowRank(false)) + 2 * head);
      break;
    }
    case "kora": {
      // apply = "value": in block 0 only the value path needs a gradient (scores untouched, context dV only).
      const first = out + attention + mlp;
      const adapter = (firstBlock) => 3 * (firstBlock ? 6 : 8) * T * D * r + 16 * T * D * h;
      backward = batch * (first + adapter(true) + (L - 1) * (blockInput + adapter(false)) + 2 * head);
      break;
    }
    case "adapter-fusion":
      // The first adapter sits after block 0's FFN: block 0's frozen matmuls are never back-propagated.
      backward = batch * (L * 2 * perBlockAdapter + (L - 1) * blockInput + 2 * head);
      break;
    default:
      throw new Error(`unknown method ${method}`);
  }
  const formula =
    `forward = B·(2·N·P²C·D + L·(8·T·D² + 4·T²·D + 4·T·D·M + adapter) + 2·D·K), T = N + 1 = ${T}, ` +
    `D = ${D}, M = ${M}, L = ${L}, K = ${K}, P²C = ${P * P * C}; LoRA adapter = 4·T·D·r per target, ` +
    `KoRA = 12·T·D·r + 8·T·D·h; backward = input gradients of every matmul above the first adapter ` +
    `(q/k/v/o + both attention operands + fc1/fc2 = 8·T·D² + 8·T²·D + 4·T·D·M per block) + 2× each adapter matmul ` +
    `+ head dW/dX; matmuls only, multiply-add = 2 FLOPs`;
  return { forward, backward, total: forward + backward, formula };
}
