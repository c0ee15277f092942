import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-gated-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const micro = ["--backbone", "vit-micro", "--dataset", "synthetic-source", "--batch-size", "8"];

async function train(out: string, extra: string[]): Promise<void> {
  const result = await runKora([
    "train",
    ...micro,
    "--method",
    "gated-lora",
    "--rank",
    "2",
    ...extra,
    "--out",
    out,
    "--json",
  ]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
}

function gates(out: string): Map<string, number[]> {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(out, "adapter.safetensors"))));
  const out_ = new Map<string, number[]>();
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name.endsWith(".gate")) out_.set(name, Array.from(tensor.data as ArrayLike<number>));
  }
  return out_;
}

describe("kora train --method gated-lora, --gate-lr-multiplier", () => {
  it("trains a gated LoRA; ×10 moves its gates 10× as far in the first step; run.json records both; peft refuses it", async () => {
    const plain = join(dir, "plain");
    const fast = join(dir, "fast");
    await train(plain, ["--steps", "1"]);
    await train(fast, ["--steps", "1", "--gate-lr-multiplier", "10"]);
    const run = JSON.parse(readFileSync(join(fast, "run.json"), "utf8"));
    expect(run).toMatchObject({
      spec: {
        method: "gated-lora",
        rank: 2,
        targets: ["query", "value"],
        gate: { init: 0, mode: "learnable" },
      },
      training: { steps: 1, gateLrMultiplier: 10 },
      status: "completed",
    });
    const one = gates(plain);
    const ten = gates(fast);
    // vit-micro has 3 blocks, gates on query and value of each.
    expect([...one.keys()]).toEqual([
      "layers.0.query.gate",
      "layers.0.value.gate",
      "layers.1.query.gate",
      "layers.1.value.gate",
      "layers.2.query.gate",
      "layers.2.value.gate",
    ]);
    for (const [name, [g1]] of one) {
      const g10 = ten.get(name)?.[0] as number;
      // From 0, Adam's first step is lr·g/(|g| + ε) ≈ ±1e-3 (the default lr); ×10 gives ≈ ±1e-2.
      expect(Math.abs(g1 as number), name).toBeCloseTo(1e-3, 4);
      expect(g10 / (g1 as number), name).toBeCloseTo(10, 3);
    }
    const peft = await runKora(["export", "--format", "peft", "--run", fast, "--out", join(dir, "peft")]);
    expect(peft.code).toBe(1);
    expect(peft.stderr).toMatch(/gated-lora adapter, and peft has no equivalent of gated LoRA/);
  }, 120_000);

  it("rejects a multiplier that is not positive (exit 2 naming the flag)", async () => {
    const result = await runKora([
      "train",
      ...micro,
      "--method",
      "gated-lora",
      "--steps",
      "1",
      "--gate-lr-multiplier",
      "0",
      "--out",
      join(dir, "bad"),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--gate-lr-multiplier must be positive, got 0/);
  });
});
