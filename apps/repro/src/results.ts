import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TaskName, TrainingMethod } from "./config/schema";
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

/** Reads a run's result, or null when there is none (or it cannot be read). */
export function readResult(out: string, key: string): RunResult | null {
  const path = resultPath(out, key);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as RunResult;
  } catch {
    return null;
  }
}

/** Every result in the folder, by key. */
export function readAllResults(out: string): Map<string, RunResult> {
  const dir = join(out, "runs");
  const results = new Map<string, RunResult>();
  if (!existsSync(dir)) return results;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    const result = readResult(out, name.slice(0, -5));
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
