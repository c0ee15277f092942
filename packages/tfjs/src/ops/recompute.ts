// Activation recomputation (gradient checkpointing), as torch.utils.checkpoint does it: a segment of the forward
// pass keeps only its input for the backward pass and runs its forward pass again, on the tape, when the backward
// pass reaches it.
//
// How it sits on tfjs's tape (engine internals of @tensorflow/tfjs-core 4.x, the version @kora/tfjs depends on):
// while a gradient is being recorded, the segment runs once on a tape of its own. That run is the forward pass the
// caller gets (no second forward), and its tape says which trainable variables the segment reads (tfjs's
// `customGrad` needs every tensor that gets a gradient as an explicit input) and how many bytes its backward pass
// would keep. Then either the private tape is appended to the outer one (as if nothing happened), or it is dropped
// — freeing every saved intermediate — and one custom-gradient node stands for the segment on the outer tape,
// keeping only the segment's input. Its gradient recomputes the segment under a nested `engine.gradients` with the
// dropout seeds the first run drew, so masks (and hence gradients) are those of the first run.
import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { recordMaskSeeds, replayMaskSeeds } from "./dropout-scope";

/** The part of a tfjs tape node read here. */
interface TapeNodeLike {
  inputs: Record<string, tf.Tensor | undefined>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
}

/** The engine internals used here: its recording tape and its gradient driver. */
interface EngineLike {
  state: { activeTape: TapeNodeLike[] | null };
  isTapeOn(): boolean;
  gradients<T extends tf.Tensor>(
    f: () => T,
    xs: tf.Tensor[],
    dy?: T,
    allowNoGradients?: boolean,
  ): { value: T; grads: (tf.Tensor | undefined)[] };
}

type Save = (tensors: tf.Tensor[]) => void;

/** Options of {@link recomputeInBackward}. */
export interface RecomputeOptions {
  /**
   * Decides, after the segment's forward pass, whether to recompute it: called with the bytes its backward pass
   * would otherwise keep alive (distinct buffers the tape saved); `true` recomputes, `false` keeps them as a plain
   * forward pass would. Default: always recompute.
   */
  when?: (savedBytes: number) => boolean;
}

/**
 * Runs `fn(x)` so that, while a gradient is being recorded (`tf.grad`, `tf.variableGrads`, `train()`), the
 * backward pass keeps only `x` instead of every intermediate of `fn`, and runs `fn` once more when the gradient
 * reaches it: activation recomputation (gradient checkpointing), trading about one extra forward pass of the
 * segment for its activations' memory. Outside a gradient it is just `fn(x)`.
 *
 * The gradients equal the plain path's: the recomputation runs the same kernels on the same inputs, and adapter
 * dropout (and `ForwardContext.dropout`) draws the same masks (their seeds are recorded and replayed). `fn` must
 * be a pure function of `x` and of variables: it may read any variable (trainable ones get their gradients
 * through the segment), and constants that outlive the backward pass, but no other tensor computed outside it, and
 * no random op outside the package's dropout (its draw would differ in the recomputation).
 *
 * @throws KoraError `INVALID_ARGUMENT` when `fn` reads a tensor computed outside it on the gradient's tape (its
 * gradient would be lost); pass it through `x`, or compute it inside `fn`.
 */
export function recomputeInBackward<T extends tf.Tensor>(
  fn: (x: T) => T,
  x: T,
  options: RecomputeOptions = {},
): T {
  const engine = tf.engine() as unknown as EngineLike;
  if (!engine.isTapeOn()) return fn(x);
  const outerTape = engine.state.activeTape as TapeNodeLike[];
  const tape: TapeNodeLike[] = [];
  engine.state.activeTape = tape;
  let recorded: { result: T; seeds: number[] };
  try {
    recorded = recordMaskSeeds(() => tf.tidy(() => fn(x)));
  } catch (error) {
    disposeSaved(tape);
    throw error;
  } finally {
    engine.state.activeTape = outerTape;
  }
  const { result: y, seeds } = recorded;
  const savedBytes = distinctBytes(tape.flatMap((node) => node.saved ?? []));
  if (!(options.when?.(savedBytes) ?? true)) {
    for (const node of tape) outerTape.push(node);
    return y;
  }
  const variables = trainableInputs(tape, x, outerTape);
  disposeSaved(tape);
  const inputs: tf.Tensor[] = [x, ...variables];
  const segment = tf.customGrad(((...args: [...tf.Tensor[], Save]) => {
    const save = args.at(-1) as Save;
    save([x]);
    return {
      // The value computed above, so the forward pass runs once; the node only records the segment.
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const input = saved[0] as T;
        const xs = [input, ...variables];
        // A nested `engine.gradients` starts a fresh tape and clears it when done; the outer backward pass still
        // reads its own afterwards, so it is put back.
        const backward = engine.state.activeTape;
        try {
          return tf.tidy(() => {
            const { grads } = engine.gradients(
              () => replayMaskSeeds(seeds, () => fn(input)),
              xs,
              dy as T,
              true,
            );
            return xs.map((t, i) => grads[i] ?? tf.zerosLike(t));
          });
        } finally {
          engine.state.activeTape = backward;
        }
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return segment(...inputs) as T;
}

/**
 * The trainable variables the segment's tape reads from outside the segment (they need gradients through the
 * node that stands for it). Any other outside tensor that the outer tape produced would need a gradient too;
 * that is refused rather than silently dropped.
 */
function trainableInputs(tape: TapeNodeLike[], x: tf.Tensor, outerTape: TapeNodeLike[]): tf.Variable[] {
  const inside = new Set<number>();
  for (const node of tape) for (const output of node.outputs) inside.add(output.id);
  const variables = new Map<number, tf.Variable>();
  let fromOuterTape: Set<number> | null = null;
  for (const node of tape) {
    for (const input of Object.values(node.inputs)) {
      if (input === undefined || input.id === x.id || inside.has(input.id)) continue;
      if (input instanceof tf.Variable) {
        if (input.trainable) variables.set(input.id, input);
        continue;
      }
      fromOuterTape ??= new Set(outerTape.flatMap((n) => n.outputs.map((output) => output.id)));
      if (fromOuterTape.has(input.id)) {
        throw new KoraError<TfjsErrorCode>({
          code: "INVALID_ARGUMENT",
          path: "fn",
          message:
            `recomputeInBackward: the segment reads a tensor [${input.shape.join(", ")}] computed outside it ` +
            "while the gradient was recorded; its gradient would be lost. Pass it as the segment's input or " +
            "compute it inside the segment",
        });
      }
    }
  }
  return [...variables.values()];
}

/** Bytes of the distinct buffers among `tensors` (a saved tensor shares its buffer with what it saves). */
function distinctBytes(tensors: tf.Tensor[]): number {
  const seen = new Set<object>();
  let bytes = 0;
  for (const tensor of tensors) {
    if (seen.has(tensor.dataId) || tensor.dtype === "string") continue;
    seen.add(tensor.dataId);
    bytes += tensor.size * tf.util.bytesPerElement(tensor.dtype);
  }
  return bytes;
}

function disposeSaved(tape: TapeNodeLike[]): void {
  for (const node of tape) for (const tensor of node.saved ?? []) tensor.dispose();
}
