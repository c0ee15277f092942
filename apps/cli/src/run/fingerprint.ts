import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { KoraError } from "@kora/spec";
import type { BackboneReference, RunFile } from "./run-file";

/** What `--resume` may change (see `kora train --help`): left out of the fingerprint. */
const RESUMABLE_SETTINGS = new Set(["epochs", "steps", "checkpointEvery"]);

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new KoraError({
      code: "IO_ERROR",
      message: `${path}: cannot read the backbone to fingerprint the run (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      cause: error,
    });
  }
  return hash.digest("hex");
}

async function backboneIdentity(backbone: BackboneReference): Promise<Record<string, unknown>> {
  if ("preset" in backbone) return { preset: backbone.preset, seed: backbone.seed };
  // The files' contents, not their paths: a moved checkpoint is the same backbone, an edited one is not.
  return { weights: await sha256File(backbone.weights), config: await sha256File(backbone.config) };
}

/**
 * The description of a run that every checkpoint records (`checkpoint.fingerprint` of `@kora/tfjs`'s `train`):
 * the command, task, backbone identity (preset and seed, or the SHA-256 of its weights and config files) and its
 * checksum, head, training data (dataset, split, examples, classes, subset fraction, source run), adapter spec and
 * the optimisation settings except what `--resume` may change (steps, epochs, checkpoint interval; the backend
 * and threads are not settings). A checkpoint of any other run is refused on resume with `CHECKPOINT_MISMATCH`.
 */
export async function runFingerprint(run: RunFile): Promise<Record<string, unknown>> {
  const { root: _root, ...dataset } = run.dataset; // the data may move; its identity is the rest
  return {
    command: run.command,
    task: run.task,
    backbone: await backboneIdentity(run.backbone),
    backboneChecksum: run.backboneChecksum ?? null,
    head: run.head,
    dataset,
    from: run.from ?? null,
    spec: run.spec,
    training: Object.fromEntries(
      Object.entries(run.training).filter(([key]) => !RESUMABLE_SETTINGS.has(key)),
    ),
  };
}
