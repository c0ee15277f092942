import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import { appRoot } from "../paths";
import { type Experiment, experimentSchema } from "./schema";

/** The folder of the experiment files (apps/repro/experiments; src/ and dist/ both sit one level below). */
export function defaultExperimentsDir(): string {
  return join(appRoot(), "experiments");
}

/** Parses and validates one experiment file's JSON text; the error names the file and the field. */
export function parseExperiment(text: string, file: string): Experiment {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KoraError({
      code: "INVALID_SPEC",
      message: `${file}: not valid JSON (${(error as Error).message})`,
    });
  }
  const result = experimentSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join(".") ?? "";
    throw new KoraError({
      code: "INVALID_SPEC",
      message: `${file}: ${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid experiment"}`,
      path,
    });
  }
  return result.data;
}

/** Loads every `*.json` experiment of `dir`, sorted by file name; ids must be unique. */
export function loadExperiments(dir = defaultExperimentsDir()): Experiment[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort();
  const experiments: Experiment[] = [];
  const ids = new Map<string, string>();
  for (const name of files) {
    const experiment = parseExperiment(readFileSync(join(dir, name), "utf8"), join(dir, name));
    const other = ids.get(experiment.id);
    if (other !== undefined) {
      throw new KoraError({
        code: "INVALID_SPEC",
        message: `${name}: id "${experiment.id}" is also used by ${other}`,
      });
    }
    ids.set(experiment.id, name);
    experiments.push(experiment);
  }
  return experiments;
}
