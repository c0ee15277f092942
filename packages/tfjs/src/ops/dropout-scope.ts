import { hashSeed, KoraError } from "@kora/spec";
import type { TfjsErrorCode } from "../errors";

/** Where a training forward pass stands: everything an adapter's dropout mask is derived from. */
export interface DropoutScope {
  /** The run's seed. */
  seed: number | string;
  /** Optimizer steps completed before this forward pass. */
  step: number;
  /** Index of the micro-batch within the step (gradient accumulation), from 0. */
  microBatch: number;
}

interface ActiveScope {
  base: number;
  /** Masks drawn so far in this scope, per (owner, site): a site called twice gets two different masks. */
  calls: Map<string, number>;
}

let active: ActiveScope | null = null;

/** Seed lists being filled by {@link recordMaskSeeds}; every open recording sees every seed drawn. */
const recorders: number[][] = [];
/** The seeds {@link replayMaskSeeds} hands out instead of drawing, in the order they were drawn. */
let replay: { seeds: readonly number[]; next: number } | null = null;

/**
 * Runs the synchronous `fn` (a training forward pass) with adapter dropout masks that are a pure function of
 * (run seed, step, micro-batch, adapter, site, call index at that site within `fn`): no counter survives between
 * forward passes, so a process that resumes from a checkpoint draws exactly the masks the uninterrupted run drew,
 * however many forward passes it made before. `train()` wraps every micro-batch in one; a hand-written training
 * loop can do the same. Scopes nest (the inner one wins until it returns).
 *
 * @throws KoraError `INVALID_ARGUMENT` when `fn` returns a promise: the scope would end before the awaited work
 * ran, and masks drawn after it would silently fall back to per-instance counters.
 */
export function withDropoutScope<T>(scope: DropoutScope, fn: () => T): T {
  for (const field of ["step", "microBatch"] as const) {
    if (!(Number.isInteger(scope[field]) && scope[field] >= 0)) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `dropout scope ${field} must be a non-negative integer, got ${scope[field]}`,
        path: field,
      });
    }
  }
  const previous = active;
  active = { base: hashSeed(scope.seed, "dropout", scope.step, scope.microBatch), calls: new Map() };
  try {
    const result = fn();
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message:
          "withDropoutScope takes a synchronous function (a forward pass), got one returning a promise",
      });
    }
    return result;
  } finally {
    active = previous;
  }
}

/**
 * The seed of the next dropout mask at `site` of `owner` in the current {@link withDropoutScope}, or `null`
 * outside any scope. @internal
 */
export function scopedMaskSeed(owner: number, site: string): number | null {
  if (active === null) return null;
  const key = `${owner}\u0000${site}`;
  const call = active.calls.get(key) ?? 0;
  active.calls.set(key, call + 1);
  return hashSeed(active.base, owner, site, call);
}

/**
 * The seed of the next dropout mask: `draw()` normally, or the next recorded seed while
 * {@link replayMaskSeeds} runs (then `draw` is not called, so no counter advances). Every dropout of the
 * package (adapter dropout, `ForwardContext.dropout`) takes its seed from here, which is what lets activation
 * recomputation draw exactly the masks of the forward pass it repeats. @internal
 */
export function drawMaskSeed(draw: () => number): number {
  let seed: number;
  if (replay !== null) {
    const next = replay.seeds[replay.next];
    if (next === undefined) {
      throw new Error("internal: a recomputed forward pass drew more dropout masks than the original one");
    }
    replay.next += 1;
    seed = next;
  } else {
    seed = draw();
  }
  for (const recorder of recorders) recorder.push(seed);
  return seed;
}

/** Runs `fn` and returns what it returned with the dropout seeds drawn while it ran, in order. @internal */
export function recordMaskSeeds<T>(fn: () => T): { result: T; seeds: number[] } {
  const seeds: number[] = [];
  recorders.push(seeds);
  try {
    return { result: fn(), seeds };
  } finally {
    recorders.splice(recorders.lastIndexOf(seeds), 1);
  }
}

/**
 * Runs `fn` handing out `seeds` (from {@link recordMaskSeeds}) as its dropout seeds, so it draws the same masks
 * as the recorded run. Throws when `fn` draws a different number of masks: the recomputed pass then took another
 * path than the recorded one and its gradients would be wrong. @internal
 */
export function replayMaskSeeds<T>(seeds: readonly number[], fn: () => T): T {
  const previous = replay;
  const state = { seeds, next: 0 };
  replay = state;
  try {
    const result = fn();
    if (state.next !== seeds.length) {
      throw new Error(
        `internal: a recomputed forward pass drew ${state.next} dropout masks, the original drew ${seeds.length}`,
      );
    }
    return result;
  } finally {
    replay = previous;
  }
}
