import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@kora/spec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-pretrain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 3-block 32×32 model on the procedural 100-class suite: a few steps take about a second. */
const micro = ["--backbone", "vit-micro", "--dataset", "synthetic-pretrain", "--batch-size", "4"];
const DONE = join(dir, "done");

function metricSteps(folder: string): number[] {
  return readFileSync(join(folder, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { step: number }).step);
}

beforeAll(async () => {
  const args = [...micro, "--steps", "3", "--items", "0:40", "--eval-items", "20", "--seed", "2"];
  const { code, stdout, stderr } = await runKora(["pretrain", ...args, "--out", DONE, "--json"]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(stdout)).toMatchObject({ command: "pretrain", backbone: "vit-micro" });
}, 60_000);

describe("kora pretrain", () => {
  it("writes model.safetensors, config.json, metrics.jsonl and pretrain.json whose sha256 matches the file", () => {
    const weights = readFileSync(join(DONE, "model.safetensors"));
    const record = JSON.parse(readFileSync(join(DONE, "pretrain.json"), "utf8")) as Record<string, unknown>;
    expect(record).toMatchObject({
      command: "pretrain",
      backbone: "vit-micro",
      dataset: { name: "synthetic-pretrain", root: null, items: [0, 40] },
      training: { steps: 3, batchSize: 4, lr: 1e-3, weightDecay: 0.05, warmup: 1, init: "lecun", seed: 2 },
      dtype: "f32",
      heldOut: { split: "test", items: 20 },
      bytes: weights.byteLength,
    });
    expect(record["sha256"]).toBe(createHash("sha256").update(weights).digest("hex"));
    const accuracy = (record["heldOut"] as { accuracy: number }).accuracy;
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
    expect(Number.isFinite(record["finalLoss"])).toBe(true);
    // The head has one output per class of the dataset; the checkpoints are gone once the weights are written.
    const config = JSON.parse(readFileSync(join(DONE, "config.json"), "utf8")) as { id2label: object };
    expect(Object.keys(config.id2label)).toHaveLength(100);
    const tensors = readSafetensors(new Uint8Array(weights)).tensors;
    expect(tensors["classifier.weight"]?.shape).toEqual([100, 48]);
    expect(Object.values(tensors).every((t) => t.dtype === "F32")).toBe(true);
    expect(existsSync(join(DONE, "checkpoints"))).toBe(false);
    expect(metricSteps(DONE)).toEqual([1, 2, 3]);
  });

  it("is a backbone 'kora train --weights <folder>' accepts", async () => {
    const { code, stdout, stderr } = await runKora([
      "train",
      "--weights",
      DONE,
      "--dataset",
      "synthetic-source",
      "--method",
      "lora",
      "--batch-size",
      "4",
      "--steps",
      "1",
      "--out",
      join(dir, "lora-on-pretrained"),
      "--json",
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toMatchObject({ step: 1 });
  }, 60_000);

  it("--dtype f16 writes F16 weights in about half the bytes, with the sha256 of that file", async () => {
    const out = join(dir, "f16");
    const args = [...micro, "--steps", "3", "--items", "0:40", "--eval-items", "0", "--seed", "2"];
    const { code, stdout, stderr } = await runKora([
      "pretrain",
      ...args,
      "--dtype",
      "f16",
      "--out",
      out,
      "--json",
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const record = JSON.parse(stdout) as { dtype: string; sha256: string; bytes: number; heldOut: unknown };
    const weights = readFileSync(join(out, "model.safetensors"));
    expect(record).toMatchObject({ dtype: "f16", heldOut: null, bytes: weights.byteLength });
    expect(record.sha256).toBe(createHash("sha256").update(weights).digest("hex"));
    const f32 = readFileSync(join(DONE, "model.safetensors")).byteLength;
    expect(weights.byteLength / f32).toBeGreaterThan(0.49);
    expect(weights.byteLength / f32).toBeLessThan(0.52);
  }, 60_000);

  it("refuses to write into a folder that holds a pretraining (OUTPUT_EXISTS), and --resume of a finished one", async () => {
    const before = readFileSync(join(DONE, "model.safetensors"));
    const again = await runKora(["pretrain", ...micro, "--steps", "3", "--out", DONE]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^kora: error: --out: .* already holds model\.safetensors, config\.json, pretrain\.json, metrics\.jsonl; .*--resume/m,
    );
    const resumed = await runKora(["pretrain", ...micro, "--steps", "3", "--out", DONE, "--resume"]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain("holds a finished pretraining (pretrain.json)");
    expect(readFileSync(join(DONE, "model.safetensors")).equals(before)).toBe(true);
    const nothing = await runKora([
      "pretrain",
      ...micro,
      "--steps",
      "3",
      "--out",
      join(dir, "none"),
      "--resume",
    ]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("holds no pretraining to continue");
    expect(existsSync(join(dir, "none"))).toBe(false);
  });

  it("reports missing and bad flags as usage errors (exit 2) and leaves no folder behind", async () => {
    const out = join(dir, "usage", "deep");
    const cases: [string[], RegExp][] = [
      [["--dataset", "synthetic-pretrain", "--steps", "1"], /give --backbone PRESET/],
      [["--backbone", "vit-micro", "--steps", "1"], /give --dataset NAME/],
      [["--backbone", "vit-micro", "--dataset", "synthetic-pretrain"], /give --steps N/],
      [
        ["--backbone", "vit-mcro", "--dataset", "synthetic-pretrain", "--steps", "1"],
        /unknown preset "vit-mcro"; known: .*vit-mini-28.*did you mean vit-micro/i,
      ],
      [
        [...micro, "--steps", "1", "--items", "5-10"],
        /--items: expected START:END \(e\.g\. 0:50000\), got "5-10"/,
      ],
      [
        [...micro, "--steps", "1", "--items", "0:50001"],
        /--items: need 0 ≤ START < END ≤ 50000 \(the train split's size\), got 0:50001/,
      ],
      [[...micro, "--steps", "1", "--items", "7:7"], /--items: need 0 ≤ START < END/],
      [[...micro, "--steps", "0"], /--steps/],
      [[...micro, "--steps", "1", "--dtype", "bf16"], /--dtype/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await runKora(["pretrain", ...args, "--out", out]);
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(stderr).toMatch(message);
      expect(existsSync(join(dir, "usage")), args.join(" ")).toBe(false);
    }
    const noOut = await runKora(["pretrain", ...micro, "--steps", "1"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/give --out DIR/);
  }, 60_000);

  it("Ctrl-C saves a checkpoint and exits 130; --resume ends with the weights of an uninterrupted run", async () => {
    const args = [
      ...micro,
      "--steps",
      "40",
      "--items",
      "0:200",
      "--eval-items",
      "0",
      "--checkpoint-every",
      "5",
    ];
    const straight = join(dir, "straight");
    const full = await runKora(["pretrain", ...args, "--out", straight, "--json"]);
    expect({ code: full.code, stderr: full.stderr }).toEqual({ code: 0, stderr: "" });

    const out = join(dir, "interrupted");
    const child = spawn(process.execPath, [CLI, "pretrain", ...args, "--out", out], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Press Ctrl-C once the first step is logged.
    const metrics = join(out, "metrics.jsonl");
    const deadline = Date.now() + 30_000;
    while (!existsSync(metrics) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    expect(await exited, stderr).toBe(130);
    const match = /kora: interrupted at step (\d+) of 40; checkpoint (\S+);/.exec(stderr);
    expect(match, stderr).not.toBeNull();
    const step = Number(match![1]);
    expect(step).toBeLessThan(40);
    expect(existsSync(match![2]!)).toBe(true);
    expect(existsSync(join(out, "model.safetensors"))).toBe(false);
    expect(metricSteps(out)).toEqual(Array.from({ length: step }, (_, i) => i + 1));

    // A changed setting is refused; the same command with --resume finishes the run.
    const changed = await runKora(["pretrain", ...args, "--lr", "0.01", "--out", out, "--resume"]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/CHECKPOINT_MISMATCH|another training configuration/);
    const resumed = await runKora(["pretrain", ...args, "--out", out, "--resume", "--json"]);
    expect({ code: resumed.code, stderr: resumed.stderr }).toEqual({ code: 0, stderr: "" });
    expect(metricSteps(out)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const a = readFileSync(join(straight, "model.safetensors"));
    const b = readFileSync(join(out, "model.safetensors"));
    expect(b.equals(a)).toBe(true);
    expect((JSON.parse(resumed.stdout) as { sha256: string }).sha256).toBe(
      (JSON.parse(full.stdout) as { sha256: string }).sha256,
    );
  }, 120_000);

  it("--help says the flags that are required, that the run is sized in steps, and how Ctrl-C and --resume work", async () => {
    const { code, stdout } = await runKora(["pretrain", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Required: --backbone, --dataset, --steps, --out.");
    expect(stdout).toContain("sized in optimizer steps, not epochs");
    expect(stdout).toMatch(/--resume\s/);
    expect(stdout).not.toContain("--epochs");
  });
});
