import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { MODEL_FILES } from "@kora/finetune";
import { readSafetensors } from "@kora/spec";
import { selectBackend } from "@kora/tfjs";
import { createViT } from "@kora/vit";
import { saveViT } from "@kora/vit/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Preset, resolvePreset } from "./config/presets";
import { ensureBackbone } from "./tasks/backbone";
import type { TaskContext } from "./tasks/context";
import { artifactDir } from "./tasks/model";
import { runDense } from "./tasks/tasks";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "kora-same-weights-"));
const backboneDir = join(work, "backbone");
// The `kora` CLI as installed beside the harness (a devDependency, so it is built before these tests run).
const cli = join(dirname(createRequire(import.meta.url).resolve("kora/package.json")), "dist", "cli.js");

/** One depth configuration, as each app spells it. */
const CONFIG = { seed: 3, steps: 3, batchSize: 4, learningRate: 0.003, rank: 4, alpha: 8 };

beforeAll(async () => {
  await selectBackend({ prefer: "wasm" });
  const vit = createViT("vit-micro", { seed: 11 });
  await saveViT(vit, backboneDir);
  vit.dispose();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function tensors(dir: string, file: string): Record<string, { shape: number[]; data: Uint8Array }> {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, file))));
  return Object.fromEntries(
    Object.entries(tensors).map(([name, t]) => [
      name,
      { shape: [...t.shape], data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) },
    ]),
  );
}

describe("the CLI and the harness", () => {
  it("train identical weights (bit for bit) for the same depth configuration and seed", async () => {
    // kora train: every workflow step is @kora/finetune's.
    const cliRun = join(work, "cli-run");
    await run(process.execPath, [
      cli,
      "train",
      "--weights",
      backboneDir,
      "--dataset",
      "synthetic-depth",
      "--method",
      "lora",
      "--rank",
      String(CONFIG.rank),
      "--alpha",
      String(CONFIG.alpha),
      "--steps",
      String(CONFIG.steps),
      "--batch-size",
      String(CONFIG.batchSize),
      "--lr",
      String(CONFIG.learningRate),
      "--weight-decay",
      "0.01",
      "--warmup",
      "0",
      "--seed",
      String(CONFIG.seed),
      "--backend",
      "wasm",
      "--out",
      cliRun,
    ]);

    // The harness's dense task on the same backbone, data (every item of synthetic-depth's train split), steps,
    // batch size, learning rate and seed; its 10 % warm-up is 0 for a run under 10 steps, as --warmup 0.
    const smoke = resolvePreset("smoke");
    const preset: Preset = {
      ...smoke,
      backbone: { kind: "weights", path: join(backboneDir, "model.safetensors") },
      batchSize: CONFIG.batchSize,
      depth: {
        dataset: "synthetic-depth",
        fraction: 1,
        epochs: 1,
        steps: CONFIG.steps,
        evalSize: 4,
        learningRate: CONFIG.learningRate,
        range: [1e-3, 10],
      },
    };
    const out = join(work, "harness");
    const context: TaskContext = {
      preset,
      out,
      cacheDir: join(out, "cache"),
      onProgress: () => {},
      log: () => {},
    };
    const backbone = await ensureBackbone(context);
    const key = "dense-same-weights";
    const result = await runDense(context, backbone, {
      key,
      task: "dense",
      method: { kind: "adapter", adapter: { method: "lora", rank: CONFIG.rank, alpha: CONFIG.alpha } },
      seed: CONFIG.seed,
      shuffleLabels: false,
      sourceKey: null,
      protocol: "source-adapted",
    });
    expect(result.extra["steps"]).toBe(CONFIG.steps);
    const harnessRun = artifactDir(out, key);

    const cliManifest = JSON.parse(readFileSync(join(cliRun, MODEL_FILES.adapter), "utf8"));
    const harnessManifest = JSON.parse(readFileSync(join(harnessRun, MODEL_FILES.adapter), "utf8"));
    expect(cliManifest.spec).toEqual(harnessManifest.spec);
    for (const file of [MODEL_FILES.adapterTensors, MODEL_FILES.head]) {
      const fromCli = tensors(cliRun, file);
      const fromHarness = tensors(harnessRun, file);
      expect(Object.keys(fromCli).sort(), file).toEqual(Object.keys(fromHarness).sort());
      expect(Object.keys(fromCli).length, file).toBeGreaterThan(0);
      for (const [name, tensor] of Object.entries(fromCli)) {
        expect(tensor.shape, `${file}: ${name}`).toEqual(fromHarness[name]!.shape);
        expect(Buffer.compare(tensor.data, fromHarness[name]!.data), `${file}: ${name}`).toBe(0);
      }
    }
    // Trained, not initial: the LoRA B factors (zero at initialisation) have moved.
    const lora = tensors(harnessRun, MODEL_FILES.adapterTensors);
    const moved = Object.entries(lora)
      .filter(([name]) => name.includes("lora_B"))
      .some(([, t]) => new Float32Array(t.data.slice().buffer).some((v) => v !== 0));
    expect(moved).toBe(true);
  });
});
