import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classificationTask } from "@kora/finetune";
import { saveModel } from "@kora/finetune/node";
import { KoraError } from "@kora/spec";
import { createViT } from "@kora/vit";
import { saveViT } from "@kora/vit/node";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePreset } from "../config/presets";
import { ensureBackbone } from "./backbone";
import { figureBlocks } from "./cka";
import { fixedItems, openClassification, type TaskContext, warmupSteps } from "./context";
import { denseSteps } from "./dense";
import { artifactDir, buildModel, finetuneMethod, loadSourceModel, paramsTunedPct } from "./model";
import { sourceSteps } from "./source";
import { plannedSteps } from "./tasks";
import { shuffledLabels } from "./transfer";

const preset = resolvePreset("smoke");
const context: TaskContext = {
  preset,
  out: "/unused",
  cacheDir: "/unused",
  onProgress: () => {},
  log: () => {},
};
const work = mkdtempSync(join(tmpdir(), "kora-repro-tasks-"));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("fixed subsets", () => {
  it("choose the same sorted items for a salt, others for another salt, all when asked for as many", () => {
    const a = fixedItems(100, 10, "depth-items");
    expect(a).toEqual(fixedItems(100, 10, "depth-items"));
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(new Set(a).size).toBe(10);
    expect(fixedItems(100, 10, "depth-eval")).not.toEqual(a);
    expect(fixedItems(5, null, "x")).toEqual([0, 1, 2, 3, 4]);
    expect(fixedItems(5, 9, "x")).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("the shuffled-labels control", () => {
  it("permutes the labels (same multiset) by seed", () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 7);
    const a = shuffledLabels(labels, 0);
    expect([...a].sort()).toEqual([...labels].sort());
    expect(Array.from(a)).not.toEqual(labels);
    expect(Array.from(shuffledLabels(labels, 0))).toEqual(Array.from(a));
    expect(Array.from(shuffledLabels(labels, 1))).not.toEqual(Array.from(a));
  });
});

describe("run lengths", () => {
  it("warm up over 10 % of a run of at least 10 steps, not at all under 10", () => {
    expect(warmupSteps(9)).toBe(0);
    expect(warmupSteps(10)).toBe(1);
    expect(warmupSteps(125)).toBe(13);
  });

  it("plan steps per task from the preset", () => {
    expect(sourceSteps(context, 200)).toBe(preset.source.steps!);
    const { steps: _steps, ...byEpochs } = preset.source;
    expect(sourceSteps({ ...context, preset: { ...preset, source: { ...byEpochs, epochs: 2 } } }, 33)).toBe(
      6,
    );
    expect(denseSteps(context, 16)).toBe(1);
    expect(denseSteps({ ...context, preset: { ...preset, depth: { ...preset.depth, steps: 7 } } }, 16)).toBe(
      7,
    );
    expect(plannedSteps(context, "dense")).toBe(1);
    expect(plannedSteps(context, "transfer")).toBe(2);
    expect(plannedSteps(context, "cka")).toBe(1);
  });

  it("draw Figure 2's first, middle and last blocks", () => {
    expect(figureBlocks(12)).toEqual([0, 6, 11]);
    expect(figureBlocks(2)).toEqual([0, 1]);
  });
});

describe("run models", () => {
  const path = join(work, "backbone");
  const backbone = { path, hash: "h", cached: true, seconds: 0, pretrainAccuracy: null, description: "" };

  it("parse the experiment's adapter into a full spec", () => {
    const method = finetuneMethod({ kind: "adapter", adapter: { method: "lora", rank: 4 } });
    expect(method).toMatchObject({ kind: "adapter", spec: { method: "lora", rank: 4, alpha: 8 } });
    expect(finetuneMethod({ kind: "full" })).toEqual({ kind: "full" });
  });

  it("count tuned parameters as peft does: LoRA < head-only < full = 100 %", async () => {
    const vit = createViT("vit-micro", { seed: 1 });
    await saveViT(vit, path);
    vit.dispose();
    const task = classificationTask({ classes: 10 });
    const pct = async (method: Parameters<typeof buildModel>[1]) => {
      const model = await buildModel(backbone, method, 0, task);
      const value = paramsTunedPct(method, model.vit);
      model.vit.dispose();
      return value;
    };
    const head = await pct({ kind: "head-only" });
    const lora = await pct({ kind: "adapter", adapter: { method: "lora", rank: 8 } });
    const full = await pct({ kind: "full" });
    expect(head).toBeGreaterThan(0);
    expect(lora).toBeGreaterThan(head);
    expect(full).toBeCloseTo(100, 10);
  });

  it("say which source model is missing", async () => {
    const request = { sourceKey: "source-x", method: { kind: "head-only" as const }, seed: 0 };
    await expect(
      loadSourceModel(work, backbone, request, classificationTask({ classes: 10 })),
    ).rejects.toSatisfy(
      (error: unknown) =>
        KoraError.isInstance(error) &&
        error.code === "FILE_NOT_FOUND" &&
        /source-x.*is missing/.test(error.message),
    );
  });

  it("say which files to remove when a source model cannot be loaded (every rerun would fail on it)", async () => {
    const method = { kind: "adapter" as const, adapter: { method: "lora" as const, rank: 4 } };
    const task = classificationTask({ classes: 10 });
    const model = await buildModel(backbone, method, 0, task);
    await saveModel(model.vit, artifactDir(work, "source-y"));
    model.vit.dispose();
    const adapter = join(artifactDir(work, "source-y"), "adapter.safetensors");
    writeFileSync(adapter, readFileSync(adapter).subarray(0, 40));
    const request = { sourceKey: "source-y", method, seed: 0 };
    await expect(loadSourceModel(work, backbone, request, task)).rejects.toSatisfy(
      (error: unknown) =>
        KoraError.isInstance(error) &&
        error.code === "INVALID_SAFETENSORS" &&
        error.message.includes(`the source model ${artifactDir(work, "source-y")} cannot be loaded (`) &&
        error.message.includes(`remove it and ${join(work, "runs", "source-y.json")}, then run again`),
    );
  });
});

describe("the datasets opened once per process", () => {
  it("do not keep a failed open: the next run opens the dataset again", async () => {
    const data = { ...preset.source, dataset: "fashion-mnist" as const, root: join(work, "no-such-folder") };
    const first = openClassification(data, "train");
    await expect(first).rejects.toSatisfy((error: unknown) => KoraError.isInstance(error));
    const second = openClassification(data, "train");
    expect(second).not.toBe(first);
    await expect(second).rejects.toSatisfy((error: unknown) => KoraError.isInstance(error));
  });
});

describe("the pretrained backbone", () => {
  it("pretrains with LeCun init on the 10 shape labels, saves a loadable checkpoint, and is cached after", async () => {
    const pretrain = {
      ...preset,
      model: { ...preset.model, numClasses: 10 },
      backbone: {
        kind: "pretrain" as const,
        dataset: "synthetic-pretrain" as const,
        trainSize: 40,
        steps: 2,
        batchSize: 8,
        learningRate: 1e-3,
        labels: "shape" as const,
        init: "lecun" as const,
      },
    };
    const lines: string[] = [];
    const progress: number[] = [];
    const cacheContext: TaskContext = {
      ...context,
      preset: pretrain,
      cacheDir: join(work, "cache"),
      onProgress: (done) => progress.push(done),
      log: (line) => lines.push(line),
    };
    const first = await ensureBackbone(cacheContext);
    expect(first.cached).toBe(false);
    expect(progress).toEqual([1, 2]);
    expect(first.pretrainAccuracy).toBeGreaterThanOrEqual(0);
    expect(first.pretrainAccuracy).toBeLessThanOrEqual(1);
    expect(first.description).toMatch(/10 shape labels, LeCun init/);
    const model = await buildModel(first, { kind: "head-only" }, 0, classificationTask({ classes: 3 }));
    expect(model.vit.config.numClasses).toBe(3);
    model.vit.dispose();
    const second = await ensureBackbone(cacheContext);
    expect(second).toMatchObject({
      cached: true,
      path: first.path,
      pretrainAccuracy: first.pretrainAccuracy,
    });
    expect(lines.at(-1)).toMatch(/^backbone: cached /);

    // A damaged cache entry is rebuilt with a warning, never a failure of every later run: a torn info file ...
    const info = join(work, "cache", `backbone-${first.hash}.json`);
    const torn = readFileSync(info, "utf8").slice(0, 20);
    writeFileSync(info, torn);
    const third = await ensureBackbone(cacheContext);
    expect(third.cached).toBe(false);
    expect(lines.join("\n")).toMatch(/backbone: warning: the cached .* is damaged \(.*not valid JSON/);
    // The damaged entry is kept, moved out of the way under cache/damaged/<timestamp>/, not overwritten.
    const [stamp] = readdirSync(join(work, "cache", "damaged"));
    expect(
      readFileSync(join(work, "cache", "damaged", stamp as string, `backbone-${first.hash}.json`), "utf8"),
    ).toBe(torn);
    expect(lines.join("\n")).toMatch(/the damaged entry is kept in .*cache\/damaged\//);
    expect((await ensureBackbone(cacheContext)).cached).toBe(true);
    // ... or weights whose bytes changed.
    const weights = join(first.path, "model.safetensors");
    const bytes = readFileSync(weights);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    writeFileSync(weights, bytes);
    const fourth = await ensureBackbone(cacheContext);
    expect(fourth.cached).toBe(false);
    expect(lines.at(-3)).toMatch(/model\.safetensors differs from its checksum\); pretraining it again/);
    expect((await ensureBackbone(cacheContext)).cached).toBe(true);
  });

  it("refuses shape labels without a 10-class pretraining head", async () => {
    const bad = {
      ...preset,
      backbone: {
        ...(preset.backbone as Extract<typeof preset.backbone, { kind: "pretrain" }>),
        labels: "shape" as const,
      },
    };
    await expect(
      ensureBackbone({ ...context, preset: bad, cacheDir: join(work, "cache-bad") }),
    ).rejects.toSatisfy(
      (error: unknown) =>
        KoraError.isInstance(error) &&
        error.code === "INVALID_ARGUMENT" &&
        /numClasses 100/.test(error.message),
    );
  });
});
