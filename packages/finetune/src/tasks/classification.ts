import { crossEntropy } from "@kora/tfjs";
import { ClassificationHead, type ViTHead } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { checkInteger, finetuneError } from "../errors";
import type { Task } from "./task";

/** Options of {@link classificationTask}. */
export interface ClassificationTaskOptions {
  /** Number of classes of the head (≥ 1). */
  classes: number;
}

/** The classification task: a linear head, cross-entropy on the logits, predictions by arg-max. */
export interface ClassificationTask extends Task<"classification"> {
  readonly classes: number;
}

/**
 * Classification with `classes` classes. Loss: mean cross-entropy of the logits; decoding: the arg-max class id.
 *
 * @throws KoraError `INVALID_ARGUMENT` when `classes` is not a positive integer.
 */
export function classificationTask(options: ClassificationTaskOptions): ClassificationTask {
  const { classes } = options;
  checkInteger(classes, "classes", 1);
  return {
    kind: "classification",
    classes,
    lossName: "cross-entropy",
    createHead: (config, seed) => new ClassificationHead(config.dim, classes, { seed }),
    checkHead(head: ViTHead | null, where: string) {
      if (head?.kind !== "classification") {
        throw finetuneError(
          "TASK_MISMATCH",
          `${where}: the model has a ${head?.kind ?? "missing"} head; classification needs a classification head`,
        );
      }
      const width = head.variables()[1]!.shape[0];
      if (width !== classes) {
        throw finetuneError(
          "TASK_MISMATCH",
          `${where}: the classification head has ${width} classes, the task ${classes}`,
        );
      }
    },
    rawOutput(output) {
      if (output.logits === null) {
        throw finetuneError(
          "TASK_MISMATCH",
          "the model has no classification head; its forward gave no logits",
        );
      }
      return output.logits;
    },
    loss: (raw, batch) => crossEntropy(raw, batch.labels),
    decode: (raw) => tf.tidy(() => tf.cast(tf.argMax(raw, -1), "int32")),
  };
}
