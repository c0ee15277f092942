import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@kora/spec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-head-lr-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The CLI trains adapters only (no full fine-tuning): LoRA's head is the new task head all the same.
const micro = [
  "--backbone",
  "vit-micro",
  "--dataset",
  "synthetic-source",
  "--batch-size",
  "8",
  "--method",
  "lora",
  "--rank",
  "2",
];

const PLAIN = join(dir, "plain");
const SAME = join(dir, "same");
const FAST = join(dir, "fast");

async function train(out: string, extra: string[]): Promise<void> {
  const result = await runKora(["train", ...micro, ...extra, "--out", out, "--json"]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
}

function runJson(out: string): { training: Record<string, unknown>; status: string; step: number } {
  return JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
}

/** The files of the trained model a run folder holds (the adapter with its head), by name. */
function modelFiles(out: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of ["model.json", "adapter.json", "adapter.safetensors", "head.safetensors"]) {
    if (existsSync(join(out, name))) files.set(name, readFileSync(join(out, name)));
  }
  return files;
}

function tensors(out: string): Map<string, number[]> {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(out, "adapter.safetensors"))));
  return new Map(
    Object.entries(tensors).map(([name, tensor]) => [name, Array.from(tensor.data as ArrayLike<number>)]),
  );
}

beforeAll(async () => {
  await train(PLAIN, ["--steps", "1"]);
  await train(SAME, ["--steps", "1", "--head-lr", "0.001"]);
  await train(FAST, ["--steps", "1", "--head-lr", "0.05"]);
}, 120_000);

describe("kora train --head-lr", () => {
  it("records headLr in run.json; the head moves at its own rate, the adapter at --lr's; --head-lr = --lr changes nothing", () => {
    expect(runJson(PLAIN).training).not.toHaveProperty("headLr");
    expect(runJson(SAME)).toMatchObject({ training: { lr: 1e-3, headLr: 1e-3 }, status: "completed" });
    expect(runJson(FAST)).toMatchObject({
      training: { lr: 1e-3, headLr: 0.05, steps: 1 },
      status: "completed",
    });

    // The head's rate equal to the run's: the saved model is the same, byte for byte.
    const plain = modelFiles(PLAIN);
    expect([...plain.keys()]).toContain("adapter.safetensors");
    expect(modelFiles(SAME)).toEqual(plain);

    // Another rate: the head differs, and nothing else does (a first step's gradients do not depend on the rates).
    const one = tensors(PLAIN);
    const fast = tensors(FAST);
    const head = [...one.keys()].filter((name) => name.startsWith("head."));
    expect(head.sort()).toEqual(["head.bias", "head.weight"]);
    for (const [name, values] of one) {
      if (head.includes(name)) expect(fast.get(name), name).not.toEqual(values);
      else expect(fast.get(name), name).toEqual(values);
    }
  });

  it("rejects a rate that is not a positive number (exit 2 naming the flag)", async () => {
    const zero = await runKora([
      "train",
      ...micro,
      "--steps",
      "1",
      "--head-lr",
      "0",
      "--out",
      join(dir, "zero"),
    ]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--head-lr must be positive and finite, got 0/);
    const text = await runKora([
      "train",
      ...micro,
      "--steps",
      "1",
      "--head-lr",
      "abc",
      "--out",
      join(dir, "abc"),
    ]);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/--head-lr <x>.*'abc' is invalid/);
    expect(existsSync(join(dir, "zero"))).toBe(false);
    expect(existsSync(join(dir, "abc"))).toBe(false);
  });

  it("reads headLr from an experiment file, checked like the flag", async () => {
    const experiment = join(dir, "head-lr.yaml");
    writeFileSync(
      experiment,
      [
        "backbone: vit-micro",
        "dataset: synthetic-source",
        "batchSize: 8",
        "method: lora",
        "rank: 2",
        "steps: 1",
        "headLr: 0.05",
        "out: from-file",
      ].join("\n"),
    );
    const result = await runKora(["train", "--experiment", experiment, "--json"]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const out = join(dir, "from-file");
    expect(runJson(out).training).toMatchObject({ headLr: 0.05 });
    expect(modelFiles(out)).toEqual(modelFiles(FAST));

    const bad = join(dir, "bad-head-lr.json");
    writeFileSync(bad, JSON.stringify({ backbone: "vit-micro", headLr: "abc" }));
    const badValue = await runKora(["train", "--experiment", bad]);
    expect(badValue.code).toBe(1);
    expect(badValue.stderr).toMatch(/bad-head-lr\.json: headLr: expected a number, got "abc"/);
    const zero = join(dir, "zero-head-lr.json");
    writeFileSync(
      zero,
      JSON.stringify({ backbone: "vit-micro", dataset: "synthetic-source", headLr: 0, out: "zero-out" }),
    );
    const zeroValue = await runKora(["train", "--experiment", zero]);
    expect(zeroValue.code).toBe(2);
    expect(zeroValue.stderr).toMatch(/--head-lr must be positive and finite, got 0/);
  }, 60_000);

  it("--resume refuses another --head-lr, as another --lr; a run without one had the plain --lr", async () => {
    const fast = join(dir, "fast-resumed");
    cpSync(FAST, fast, { recursive: true });
    const differ = await runKora([
      "train",
      ...micro,
      "--head-lr",
      "0.02",
      "--steps",
      "2",
      "--out",
      fast,
      "--resume",
    ]);
    expect(differ.code).toBe(2);
    const listed = differ.stderr.split("these differ from the run: ")[1] ?? "";
    expect(listed).toContain("--head-lr 0.02 (the run has 0.05)");
    expect(listed).not.toMatch(/--lr |--steps/);
    // The same rate, or none given (the run's is kept): it continues.
    const same = await runKora([
      "train",
      ...micro,
      "--head-lr",
      "0.05",
      "--steps",
      "2",
      "--out",
      fast,
      "--resume",
      "--json",
    ]);
    expect({ code: same.code, stderr: same.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(same.stdout)).toMatchObject({ resumedFrom: 1, step: 2 });
    const kept = await runKora(["train", ...micro, "--steps", "3", "--out", fast, "--resume", "--json"]);
    expect({ code: kept.code, stderr: kept.stderr }).toEqual({ code: 0, stderr: "" });
    expect(runJson(fast)).toMatchObject({ training: { headLr: 0.05, steps: 3 }, step: 3 });

    // A run started without --head-lr (or before the flag existed) trained its head at --lr.
    const plain = join(dir, "plain-resumed");
    cpSync(PLAIN, plain, { recursive: true });
    const other = await runKora([
      "train",
      ...micro,
      "--head-lr",
      "0.05",
      "--steps",
      "2",
      "--out",
      plain,
      "--resume",
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr.split("these differ from the run: ")[1]).toContain(
      "--head-lr 0.05 (the run has 0.001)",
    );
    const lr = await runKora([
      "train",
      ...micro,
      "--head-lr",
      "0.001",
      "--steps",
      "2",
      "--out",
      plain,
      "--resume",
      "--json",
    ]);
    expect({ code: lr.code, stderr: lr.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(lr.stdout)).toMatchObject({ resumedFrom: 1, step: 2 });
    // Its run.json (and so its checkpoints' fingerprint) stays without a head rate.
    expect(runJson(plain).training).not.toHaveProperty("headLr");
  }, 120_000);
});
