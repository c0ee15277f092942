import { ADAPTER_METHODS } from "@kora/spec";
import { z } from "zod";

/**
 * How a variant trains: an adapter on the frozen backbone, the head alone, or everything (full fine-tuning); or one
 * of the controls that use no backbone: `pixel-probe` (a softmax regression on the raw pixels, the source task's
 * floor) and `constant` (depth: the training subset's median depth everywhere; segmentation: its most frequent
 * class everywhere).
 */
export const trainingMethodSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("adapter"),
    /** An adapter spec as `parseAdapterSpec` accepts it (validated again when the run starts). */
    adapter: z.looseObject({ method: z.enum(ADAPTER_METHODS) }),
    /**
     * Match a LoRA's rank to another adapter's parameter count on the preset's backbone: the spec's `rank` is
     * replaced, at plan time, by the rank whose count is nearest that adapter's (`{ "rankToMatch": {…spec} }`).
     */
    rankToMatch: z.optional(z.looseObject({ method: z.enum(ADAPTER_METHODS) })),
  }),
  z.object({ kind: z.literal("head-only") }),
  z.object({ kind: z.literal("full") }),
  z.object({ kind: z.literal("pixel-probe") }),
  z.object({ kind: z.literal("constant") }),
]);
export type TrainingMethod = z.infer<typeof trainingMethodSchema>;

/** The tasks a run can perform (see src/tasks). */
export const taskSchema = z.enum(["source", "transfer", "cka", "dense", "compress", "segment"]);
export type TaskName = z.infer<typeof taskSchema>;

/** Metrics a run reports, by task. */
export const metricSchema = z.enum([
  "paramsTunedPct",
  "ckaSim",
  "accuracy",
  "macroF1",
  "accuracyDisabled",
  "distantCka",
  "rmse",
  "absRel",
  "delta1",
  "delta2",
  "delta3",
  "kbitsAtDrop",
  "effectiveRank",
  "mIoU",
  "pixelAccuracy",
]);
export type MetricName = z.infer<typeof metricSchema>;

/** One row of an experiment's table. */
export const variantSchema = z.object({
  /** Stable id, `[a-z0-9-]+`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "variant ids are lower-case words joined by '-'"),
  /** Row label as the paper writes it. */
  label: z.string().min(1),
  /** What the run does. */
  task: taskSchema,
  /** How the model is trained (for `transfer`, `cka` and `compress`: how the source model was trained). */
  method: trainingMethodSchema,
  /** Transfer only: permute the labels of the target training subset (a leak control; must fall to chance). */
  shuffleLabels: z.boolean().default(false),
  /**
   * Transfer only. `source-adapted` (the paper's): the source run's model, a new head, adapter + head trained on the
   * target subset. `fresh`: a new adapter and head trained on the target subset alone (what the source adds).
   * `upstream`: the source run's adapter frozen, only a new head trained (what the source features carry as is).
   */
  protocol: z.enum(["source-adapted", "fresh", "upstream"]).default("source-adapted"),
  /** Training options beside the recipe: a learning-rate multiplier for the adapter's gates. */
  training: z.optional(z.object({ gateLearningRateMultiplier: z.number().positive() })),
  /** Row label in the paper's table this row is compared with (a key of the claims file's table), if any. */
  claim: z.string().optional(),
});
export type Variant = z.infer<typeof variantSchema>;

/** One experiment = one file under apps/repro/experiments/. */
export const experimentSchema = z
  .object({
    /** Short id used by `--only` (`4.1`, `ablation-dcomp`, `controls`). */
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
    /** Heading in the report. */
    title: z.string().min(1),
    /** What the experiment tests, one or two sentences (shown under the heading). */
    description: z.string().min(1),
    /** Key of the paper's table in the claims file (`4.1`, `4.2`, ...), or null when the paper has none. */
    claims: z.string().nullable().default(null),
    /** Columns of the table, in order. */
    metrics: z.array(metricSchema).min(1),
    /** The rows. */
    variants: z.array(variantSchema).min(1),
    /** Draw the CKA matrices of the variants as heatmaps (4.3). */
    heatmaps: z.boolean().default(false),
    /** Draw the training-loss curves of the variants. */
    curves: z.boolean().default(false),
    /** Run only in the `extended` preset (ablations that cost time and answer a side question). */
    extended: z.boolean().default(false),
  })
  .superRefine((experiment, ctx) => {
    const seen = new Set<string>();
    experiment.variants.forEach((variant, index) => {
      if (seen.has(variant.id)) {
        ctx.addIssue({
          code: "custom",
          message: `duplicate variant id "${variant.id}"`,
          path: ["variants", index, "id"],
        });
      }
      seen.add(variant.id);
      if (variant.shuffleLabels && variant.task !== "transfer") {
        ctx.addIssue({
          code: "custom",
          message: "shuffleLabels is only meaningful for task transfer",
          path: ["variants", index, "shuffleLabels"],
        });
      }
      if (variant.protocol !== "source-adapted" && variant.task !== "transfer") {
        ctx.addIssue({
          code: "custom",
          message: "protocol is only meaningful for task transfer",
          path: ["variants", index, "protocol"],
        });
      }
      if (variant.method.kind === "pixel-probe" && variant.task !== "source") {
        ctx.addIssue({
          code: "custom",
          message: "the pixel probe is a source-task control",
          path: ["variants", index, "method"],
        });
      }
      if (variant.method.kind === "constant" && variant.task !== "dense" && variant.task !== "segment") {
        ctx.addIssue({
          code: "custom",
          message: "the constant predictor is a depth or segmentation control",
          path: ["variants", index, "method"],
        });
      }
      if (variant.task === "cka" && variant.method.kind !== "adapter") {
        ctx.addIssue({
          code: "custom",
          message: "cka variants compare adapters",
          path: ["variants", index, "method"],
        });
      }
      if (variant.task === "compress" && variant.method.kind !== "adapter") {
        ctx.addIssue({
          code: "custom",
          message: "compress variants measure an adapter's tensors",
          path: ["variants", index, "method"],
        });
      }
    });
  });
export type Experiment = z.infer<typeof experimentSchema>;
