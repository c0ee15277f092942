import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TaskName, TrainingMethod } from "./config/schema";
import { readCheckedJson, reportDamaged, shown, type Warn } from "./damaged";
import type { CurvePoint } from "./tasks/tasks";

/** The JSON written for every run under `<out>/runs/<key>.json`. */
export interface RunResult {
  /** Format version of this file. */
  format: 1;
  key: string;
  name: string;
  status: "ok" | "failed";
  task: TaskName;
  method: TrainingMethod;
  seed: number;
  shuffleLabels: boolean;
  sourceKey: string | null;
  /** Experiment rows this run fills (`4.1/lora-r8`). */
  usedBy: string[];
  preset: { name: string; config: unknown };
  git: { commit: string | null; dirty: boolean | null };
  backend: string;
  node: string;
  startedAt: string;
  finishedAt: string;
  timings: { totalSeconds: number; trainSeconds: number; evalSeconds: number };
  metrics: Record<string, number | null>;
  curve: CurvePoint[];
  extra: Record<string, unknown>;
  error: { message: string; code: string | null; stack: string | null } | null;
}

/** Path of a run's result file. */
export function resultPath(out: string, key: string): string {
  return join(out, "runs", `${key}.json`);
}

/** Writes a result atomically. */
export function writeResult(out: string, result: RunResult): void {
  const path = resultPath(out, result.key);
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(temporary, path);
}

/**
 * Why a parsed `runs/<key>.json` is not the result of run `key` (`null` when it is one): every field the harness
 * and the report read is checked for its type, in time linear in the file's size.
 */
export function resultProblem(value: unknown, key: string): string | null {
  if (!isRecord(value)) return "it is not a JSON object";
  if (value["format"] !== 1) return `its format is ${shown(value["format"])}, expected 1`;
  if (value["key"] !== key) return `its key is ${shown(value["key"])}, expected "${key}" (its file name)`;
  const status = value["status"];
  if (status !== "ok" && status !== "failed")
    return `its status is ${shown(status)}, expected "ok" or "failed"`;
  for (const field of ["name", "task", "backend", "startedAt", "finishedAt"]) {
    if (typeof value[field] !== "string") return `its ${field} is ${shown(value[field])}, expected a string`;
  }
  if (!Number.isInteger(value["seed"])) return `its seed is ${shown(value["seed"])}, expected an integer`;
  if (!isRecord(value["method"])) return `its method is ${shown(value["method"])}, expected an object`;
  const sourceKey = value["sourceKey"];
  if (sourceKey !== null && typeof sourceKey !== "string") {
    return `its sourceKey is ${shown(sourceKey)}, expected a string or null`;
  }
  const usedBy = value["usedBy"];
  if (!Array.isArray(usedBy) || !usedBy.every((row) => typeof row === "string")) {
    return `its usedBy is ${shown(usedBy)}, expected a list of strings`;
  }
  const timings = value["timings"];
  if (
    !isRecord(timings) ||
    !["totalSeconds", "trainSeconds", "evalSeconds"].every((f) => typeof timings[f] === "number")
  ) {
    return `its timings are ${shown(timings)}, expected totalSeconds, trainSeconds and evalSeconds`;
  }
  const metrics = value["metrics"];
  if (!isRecord(metrics)) return `its metrics are ${shown(metrics)}, expected an object`;
  for (const [name, metric] of Object.entries(metrics)) {
    if (metric !== null && typeof metric !== "number") {
      return `its metric ${shown(name)} is ${shown(metric)}, expected a number or null`;
    }
  }
  const curve = value["curve"];
  if (!Array.isArray(curve)) return `its curve is ${shown(curve)}, expected a list`;
  for (const [i, point] of curve.entries()) {
    if (
      !isRecord(point) ||
      typeof point["step"] !== "number" ||
      !(point["loss"] === null || typeof point["loss"] === "number")
    ) {
      return `its curve[${i}] is ${shown(point)}, expected { step, loss }`;
    }
  }
  if (!isRecord(value["extra"])) return `its extra is ${shown(value["extra"])}, expected an object`;
  const error = value["error"];
  if (error !== null && !(isRecord(error) && typeof error["message"] === "string")) {
    return `its error is ${shown(error)}, expected null or { message, code, stack }`;
  }
  if (status === "failed" && error === null) return "it says failed but records no error";
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Reads a run's result, or null when there is none. A damaged file (torn, empty, not JSON, or not a result of this
 * run: see {@link resultProblem}) is never taken for a result nor silently dropped: it is moved to
 * `<out>/damaged/<timestamp>/runs/`, `warn` says which file, what is wrong and `then` (what happens next), and the
 * run counts as not done.
 *
 * @throws KoraError `IO_ERROR` only when a damaged file cannot be moved aside.
 */
export function readResult(
  out: string,
  key: string,
  warn: Warn,
  then = "its run counts as not done and runs again",
): RunResult | null {
  const path = resultPath(out, key);
  const found = readCheckedJson<RunResult>(path, (value) => resultProblem(value, key));
  if (found.kind === "damaged") {
    reportDamaged(out, path, found.reason, then, warn);
    return null;
  }
  return found.kind === "valid" ? found.value : null;
}

/** Every result in the folder, by key; damaged files are moved aside with a warning, as {@link readResult} does. */
export function readAllResults(out: string, warn: Warn): Map<string, RunResult> {
  const dir = join(out, "runs");
  const results = new Map<string, RunResult>();
  if (!existsSync(dir)) return results;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    const result = readResult(
      out,
      name.slice(0, -5),
      warn,
      "the report leaves its run out (run the plan again to redo it)",
    );
    if (result !== null) results.set(result.key, result);
  }
  return results;
}

let gitInfo: RunResult["git"] | null = null;

/** The repository's commit and whether the tree has changes (null outside a git checkout). */
export function gitState(): RunResult["git"] {
  if (gitInfo !== null) return gitInfo;
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    gitInfo = { commit, dirty: status.trim() !== "" };
  } catch {
    gitInfo = { commit: null, dirty: null };
  }
  return gitInfo;
}
