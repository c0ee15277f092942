import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { selectBackend } from "@kora/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Preset, resolvePreset } from "./config/presets";
import { executeRun } from "./execute-run";
import { type PlannedRun, planRuns } from "./plan";
import { selectPlan } from "./plan-selection";
import type { RunResult } from "./results";
import { runRepro } from "./runner";
import { type BackboneInfo, ensureBackbone } from "./tasks/backbone";
import type { TaskContext } from "./tasks/context";
import { checkpointDir } from "./tasks/model";

const root = mkdtempSync(join(tmpdir(), "kora-repro-faults-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** What a run's record says about its training and evaluation (not when or how long it ran). */
const essence = (result: RunResult) => ({
  status: result.status,
  error: result.error,
  metrics: result.metrics,
  curve: result.curve,
  extra: result.extra,
});

describe("a run whose checkpoints are damaged", () => {
  // A KoRA source run of 20 steps: checkpoints every 5 steps, the last two kept.
  const smoke = resolvePreset("smoke");
  const preset: Preset = { ...smoke, source: { ...smoke.source, steps: 20 } };
  let run: PlannedRun;
  let backbone: BackboneInfo;
  let reference: RunResult;

  const context = (out: string, lines: string[], stopAfter?: number): TaskContext => ({
    preset,
    out,
    cacheDir: join(root, "cache"),
    // Stopping in a step's report is what a process killed then leaves: the engine reports a step before it writes
    // the step's checkpoint, so the checkpoints of the steps before it are on disk.
    onProgress: (done) => {
      if (done === stopAfter) throw new Error(`stopped after step ${done}`);
    },
    log: (line) => lines.push(line),
  });

  /** Runs `run` in `out` until step 12 (checkpoints at 5 and 10 on disk) and returns its checkpoint folder. */
  const interrupted = async (out: string): Promise<string> => {
    const stopped = await executeRun(context(out, [], 12), backbone, run, null, "wasm");
    expect(stopped.status).toBe("failed");
    return checkpointDir(out, run.key);
  };
  const checkpointFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith(".safetensors"));

  beforeAll(async () => {
    await selectBackend({ prefer: "wasm", log: () => {} });
    const { experiments, seeds } = selectPlan(preset, { only: ["4.1"], seeds: 1 });
    const found = planRuns(preset, experiments, seeds).find(
      (r) => r.task === "source" && r.method.kind === "adapter" && r.method.adapter.method === "kora",
    );
    if (found === undefined) throw new Error("the 4.1 plan has no KoRA source run");
    run = found;
    const clean = join(root, "clean");
    backbone = await ensureBackbone(context(clean, []));
    reference = await executeRun(context(clean, []), backbone, run, null, "wasm");
    expect(reference.status, reference.error?.message).toBe("ok");
    expect(reference.curve).toHaveLength(20);
  }, 120_000);

  it("all of them: moves them aside, says so, and trains from step 0 to the clean run's result", {
    timeout: 120_000,
  }, async () => {
    const out = join(root, "all-damaged");
    const dir = await interrupted(out);
    expect(checkpointFiles(dir).length).toBeGreaterThan(0);
    for (const name of checkpointFiles(dir)) truncateSync(join(dir, name), 100);
    const lines: string[] = [];
    const redone = await executeRun(context(out, lines), backbone, run, null, "wasm");
    expect(redone.status, redone.error?.message).toBe("ok");
    expect(essence(redone)).toEqual(essence(reference));
    const log = lines.join("\n");
    expect(log).toContain(
      `${run.key}: warning: no checkpoint in ${dir} can be resumed from (CHECKPOINT_CORRUPT`,
    );
    expect(log).toMatch(/training from step 0/);
    expect(log).not.toMatch(/resumed from the checkpoint/);
    // The damaged files are kept (never deleted) under <out>/damaged/<timestamp>/checkpoints/<key>/.
    const kept = filesUnder(join(out, "damaged"));
    for (const name of [
      "checkpoint-000000010.safetensors",
      "checkpoint-000000010.manifest.json",
      "curve.jsonl",
    ]) {
      expect(kept).toContainEqual(
        expect.stringMatching(new RegExp(`^[^/]+/checkpoints/${run.key}/${name}$`)),
      );
    }
    // The run completed, so its checkpoint folder is gone; what was set aside stays.
    expect(existsSync(dir)).toBe(false);
  });

  it("the newest only: resumes from the one before it, names both, and keeps the damaged one", {
    timeout: 120_000,
  }, async () => {
    const out = join(root, "newest-damaged");
    const dir = await interrupted(out);
    // The harness keeps the last two checkpoints, so a damaged newest one has one to fall back to.
    expect(checkpointFiles(dir)).toEqual([
      "checkpoint-000000005.safetensors",
      "checkpoint-000000010.safetensors",
    ]);
    const newest = join(dir, "checkpoint-000000010.safetensors");
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff;
    writeFileSync(newest, bytes);
    const lines: string[] = [];
    const resumed = await executeRun(context(out, lines), backbone, run, null, "wasm");
    expect(resumed.status, resumed.error?.message).toBe("ok");
    expect(essence(resumed)).toEqual(essence(reference));
    const log = lines.join("\n");
    expect(log).toContain(`${run.key}: warning: ${newest}: its SHA-256 differs from its manifest`);
    expect(log).toContain(`${run.key}: resumed from the checkpoint at step 5`);
    expect(filesUnder(join(out, "damaged"))).toEqual([
      expect.stringMatching(
        new RegExp(`^[^/]+/checkpoints/${run.key}/checkpoint-000000010.manifest.json.damaged$`),
      ),
      expect.stringMatching(
        new RegExp(`^[^/]+/checkpoints/${run.key}/checkpoint-000000010.safetensors.damaged$`),
      ),
    ]);
  });

  it("a loss journal with a damaged line: the folder is moved aside (not deleted) and the run starts over", {
    timeout: 120_000,
  }, async () => {
    const out = join(root, "journal-damaged");
    const dir = await interrupted(out);
    const journal = join(dir, "curve.jsonl");
    const lines = readFileSync(journal, "utf8").split("\n");
    lines[2] = '{"step":3,"lo';
    writeFileSync(journal, lines.join("\n"));
    const log: string[] = [];
    const redone = await executeRun(context(out, log), backbone, run, null, "wasm");
    expect(redone.status, redone.error?.message).toBe("ok");
    expect(essence(redone)).toEqual(essence(reference));
    expect(log.join("\n")).toContain(
      `${run.key}: warning: the checkpoint at step 10 has no loss journal up to it (${journal} lacks step 3 (1 of 10); line 3 is not an entry)`,
    );
    expect(filesUnder(join(out, "damaged"))).toContainEqual(
      expect.stringMatching(new RegExp(`^[^/]+/checkpoints/${run.key}/curve.jsonl$`)),
    );
  });

  it("a journal line torn by a kill does not swallow the next step's line", {
    timeout: 120_000,
  }, async () => {
    const out = join(root, "journal-torn");
    const dir = checkpointDir(out, run.key);
    // Killed after the checkpoint at step 5, while appending step 6's line: the journal ends with half of it.
    expect((await executeRun(context(out, [], 6), backbone, run, null, "wasm")).status).toBe("failed");
    const journal = join(dir, "curve.jsonl");
    writeFileSync(journal, `${readFileSync(journal, "utf8").split("\n").slice(0, 5).join("\n")}\n`);
    appendFileSync(journal, '{"step":6,"lo');
    // The resumed process runs step 6 again (its line must not join the torn one), checkpoints at 10, and stops.
    const again: string[] = [];
    expect((await executeRun(context(out, again, 12), backbone, run, null, "wasm")).status).toBe("failed");
    expect(again.join("\n")).not.toMatch(/no loss journal/);
    const lines: string[] = [];
    const resumed = await executeRun(context(out, lines), backbone, run, null, "wasm");
    expect(resumed.status, resumed.error?.message).toBe("ok");
    expect(lines.join("\n")).not.toMatch(/no loss journal/);
    expect(lines.join("\n")).toContain(`${run.key}: resumed from the checkpoint at step 10`);
    expect(essence(resumed)).toEqual(essence(reference));
  });
});

describe("the harness's per-run files", () => {
  it("redoes a run whose result file is torn, empty or of the wrong shape, and one whose features are damaged", {
    timeout: 180_000,
  }, async () => {
    const out = join(root, "per-run");
    const options = { preset: "smoke" as const, only: ["4.3"], seeds: 1, out, interactive: false };
    const first = await runRepro({ ...options, write: () => {} });
    expect(first.runs.failed).toBe(0);
    const runs = join(out, "runs");
    const names = readdirSync(runs).filter((name) => name.endsWith(".json"));
    const before = new Map(names.map((name) => [name, JSON.parse(readFileSync(join(runs, name), "utf8"))]));
    const cka = names.filter((name) => name.startsWith("cka-"));
    const sources = names.filter((name) => name.startsWith("source-"));
    expect(cka.length).toBeGreaterThanOrEqual(2);
    expect(sources.length).toBeGreaterThanOrEqual(2);
    const [torn, empty, wrongShape] = [sources[0], sources[1], cka[0]] as [string, string, string];
    const tornText = readFileSync(join(runs, torn), "utf8").slice(0, 200);
    writeFileSync(join(runs, torn), tornText);
    writeFileSync(join(runs, empty), "");
    writeFileSync(join(runs, wrongShape), JSON.stringify({ ...before.get(wrongShape), metrics: [1, 2] }));
    // The other CKA run keeps its record, but a feature file it names (the report reads them) is torn.
    const features = before.get(cka[1] as string).extra.features.mean as string;
    truncateSync(join(out, features), 50);

    const lines: string[] = [];
    const second = await runRepro({ ...options, write: (text) => lines.push(text) });
    const log = lines.join("");
    expect(second.runs).toMatchObject({ ran: 4, failed: 0, skipped: first.runs.total - 4 });
    expect(log).toContain(`warning: ${join(runs, torn)} is damaged (it is not valid JSON`);
    expect(log).toContain(`warning: ${join(runs, empty)} is damaged (it is empty (0 bytes))`);
    expect(log).toContain(
      `warning: ${join(runs, wrongShape)} is damaged (its metrics are [1,2], expected an object)`,
    );
    expect(log).toContain(`warning: ${join(out, features)} is damaged (`);
    expect(log).toMatch(/its run counts as not done and runs again/);
    // Each damaged file is kept, byte for byte, under damaged/<timestamp>/ at its place in the results folder.
    const kept = filesUnder(join(out, "damaged"));
    const keptAt = (path: string) => {
      const found = kept.find((k) => k.endsWith(`/${path}`));
      expect(found, `${path} kept in ${kept.join(", ")}`).toBeDefined();
      return readFileSync(join(out, "damaged", found as string));
    };
    expect(keptAt(`runs/${torn}`).toString()).toBe(tornText);
    expect(keptAt(`runs/${empty}`).length).toBe(0);
    expect(JSON.parse(keptAt(`runs/${wrongShape}`).toString()).metrics).toEqual([1, 2]);
    expect(keptAt(features).length).toBe(50);
    // Redone, every record says what the first one said, and the report has every run again.
    for (const name of names) {
      const after = JSON.parse(readFileSync(join(runs, name), "utf8"));
      expect(essence(after), name).toEqual(essence(before.get(name)));
    }
    expect(log).not.toMatch(/leaves its (run|seed) out/);
  });
});
