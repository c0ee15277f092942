import { parseArgs } from "node:util";
import { closestName, KoraError } from "@kora/spec";
import { PRESET_NAMES, type PresetName } from "./config/presets";
import { dryRun } from "./dry-run";
import { QUEUE_COMMANDS, queueMain } from "./queue/commands";
import { runRepro } from "./runner";

const USAGE = `Usage: kora-repro [--preset smoke|default|extended|paper] [--only 4.1,4.3] [--seeds N] [--out DIR]
                  [--data-root DIR] [--weights PATH]

Runs the KoRA reproduction (experiments 4.1-4.5, ablations, controls) and writes report.md / report.html.
  --preset     smoke (CI, seconds), default (shipped backbone + Fashion-MNIST, at most 10 minutes on 2 cores),
               extended (default + the d_comp/rank/apply/composition ablations and 4.5), paper (real data)
  --only       comma-separated experiment ids: 4.1 4.2 4.3 4.4 4.5 ablation (all ablations) ablation-dcomp
               ablation-gate ablation-apply ablation-composition ablation-rank controls
  --seeds      number of seeds (default: the preset's)
  --out        results folder (default: repro-results/<preset>); re-running skips completed runs
  --data-root  paper preset: folder with cifar-100-binary/, tiny-imagenet-200/, nyu/
  --weights    paper preset: ViT-B/16 safetensors (file or checkpoint folder)
  --jobs       worker processes sharing the plan, one wasm thread each (default: the preset's; default uses 2)
  --dry-run    print the plan and its estimated wall time from step rates measured here; train nothing
The last two lines printed are the paths of report.md and report.html.
On several machines through a Redis queue: kora-repro enqueue|worker|status|report --help.`;

const OPTIONS = {
  preset: { type: "string" },
  only: { type: "string" },
  seeds: { type: "string" },
  out: { type: "string" },
  "data-root": { type: "string" },
  weights: { type: "string" },
  jobs: { type: "string" },
  shard: { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** parseArgs' message, with the option meant when an unknown one is a typo (`--seed` → `--seeds`). */
function usageMessage(error: Error & { code?: string }): string {
  const unknown = /^Unknown option '(--[^']+)'/.exec(error.message);
  if (error.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION" || unknown === null) return error.message;
  const meant = closestName(
    unknown[1]!,
    Object.keys(OPTIONS).map((name) => `--${name}`),
  );
  return meant === undefined ? error.message : `Unknown option '${unknown[1]}' (did you mean ${meant}?)`;
}

/** Streams the program writes to (tests pass their own). */
export interface MainStreams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The command line; returns the exit code (0 ok, 1 a failure, 2 bad usage). */
export async function main(
  argv: readonly string[],
  streams: MainStreams = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
): Promise<number> {
  const command = QUEUE_COMMANDS.find((name) => name === argv[0]);
  if (command !== undefined) return queueMain(command, argv.slice(1), streams);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    streams.stderr(`kora-repro: ${usageMessage(error as Error & { code?: string })}\n\n${USAGE}\n`);
    return 2;
  }
  if (values["help"]) {
    streams.stdout(`${USAGE}\n`);
    return 0;
  }
  const preset = (values["preset"] as string | undefined) ?? "default";
  if (!(PRESET_NAMES as readonly string[]).includes(preset)) {
    streams.stderr(`kora-repro: --preset must be one of ${PRESET_NAMES.join(", ")}, got "${preset}"\n`);
    return 2;
  }
  let seeds: number | undefined;
  if (values["seeds"] !== undefined) {
    seeds = Number(values["seeds"]);
    if (!(Number.isInteger(seeds) && seeds >= 1)) {
      streams.stderr(`kora-repro: --seeds must be a positive integer, got "${String(values["seeds"])}"\n`);
      return 2;
    }
  }
  let jobs: number | undefined;
  if (values["jobs"] !== undefined) {
    jobs = Number(values["jobs"]);
    if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64)) {
      streams.stderr(`kora-repro: --jobs must be an integer from 1 to 64, got "${String(values["jobs"])}"\n`);
      return 2;
    }
  }
  let shard: { index: number; count: number } | undefined;
  if (values["shard"] !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(String(values["shard"]));
    const index = Number(match?.[1]);
    const count = Number(match?.[2]);
    if (match === null || !(index < count)) {
      streams.stderr(`kora-repro: --shard must be I/N with 0 ≤ I < N, got "${String(values["shard"])}"\n`);
      return 2;
    }
    shard = { index, count };
  }
  const only =
    values["only"] === undefined
      ? null
      : String(values["only"])
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  try {
    if (values["dry-run"]) {
      await dryRun({
        preset: preset as PresetName,
        only,
        ...(seeds === undefined ? {} : { seeds }),
        ...(values["data-root"] === undefined ? {} : { dataRoot: String(values["data-root"]) }),
        ...(values["weights"] === undefined ? {} : { weights: String(values["weights"]) }),
        ...(jobs === undefined ? {} : { jobs }),
        write: streams.stdout,
      });
      return 0;
    }
    const result = await runRepro({
      preset: preset as PresetName,
      only,
      ...(seeds === undefined ? {} : { seeds }),
      ...(values["out"] === undefined ? {} : { out: String(values["out"]) }),
      ...(values["data-root"] === undefined ? {} : { dataRoot: String(values["data-root"]) }),
      ...(values["weights"] === undefined ? {} : { weights: String(values["weights"]) }),
      write: streams.stderr,
      ...(jobs === undefined ? {} : { jobs }),
      ...(shard === undefined ? {} : { shard }),
    });
    if (shard !== undefined) return result.runs.failed > 0 ? 1 : 0;
    streams.stderr(
      `kora-repro: ${result.runs.ran} run(s) done, ${result.runs.skipped} already complete, ${result.runs.failed} failed; ` +
        `wall time ${result.wallSeconds.toFixed(1)} s\n`,
    );
    streams.stdout(`${result.reportMarkdown}\n${result.reportHtml}\n`);
    return result.runs.failed > 0 ? 1 : 0;
  } catch (error) {
    const code = KoraError.isInstance(error) ? (error as KoraError).code : null;
    streams.stderr(`kora-repro: ${(error as Error).message}\n`);
    return code === "INVALID_ARGUMENT" ? 2 : 1;
  }
}
