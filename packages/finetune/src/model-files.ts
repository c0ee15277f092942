/** The files of a model folder. */
export const MODEL_FILES = {
  /** What the folder holds (JSON, see {@link ModelManifest}). */
  manifest: "model.json",
  /** The adapter in `@kora/spec`'s adapter format, with a linear classification head when there is one. */
  adapter: "adapter.json",
  adapterTensors: "adapter.safetensors",
  /** Companion: the head, when the adapter file cannot hold it (a depth head, or no adapter). */
  head: "head.safetensors",
  /** Companion: the backbone, when it was trained (full fine-tuning). */
  backbone: "backbone.safetensors",
} as const;

/** `model.json`: which files a model folder holds and which head they fit. */
export interface ModelManifest {
  format: "kora-model";
  version: 1;
  head: { kind: "classification"; classes: number } | { kind: "depth" } | null;
  /** The adapter file is present (and holds the classification head when `headInAdapter`). */
  adapter: boolean;
  headInAdapter: boolean;
  /** `head.safetensors` is present. */
  headFile: boolean;
  /** `backbone.safetensors` is present. */
  backboneFile: boolean;
  metadata: Record<string, string>;
}
