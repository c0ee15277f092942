import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, runCli, runKora } from "../test-support/run-cli";

async function json(
  args: string[],
): Promise<Record<string, unknown> & { parameters: Record<string, unknown> }> {
  const { code, stdout, stderr } = await runKora([...args, "--json"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return JSON.parse(stdout);
}

describe("kora inspect", () => {
  const vitBaseLora = [
    "inspect",
    "--backbone",
    "vit-base",
    "--method",
    "lora",
    "--rank",
    "16",
    "--alpha",
    "16",
    "--targets",
    "query,value",
    "--classes",
    "101",
  ];

  it("ViT-B/16 + LoRA r=16 on query,value, 101 classes: peft's 667,493 of 86,466,149 (built binary)", () => {
    const { code, stdout, stderr } = runCli([...vitBaseLora, "--json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.parameters).toMatchObject({
      trainable: 667_493,
      total: 86_466_149,
      head: 77_669,
      adapter: 589_824,
      backbone: 85_798_656,
    });
    expect(result.parameters["trainablePercent"]).toBeCloseTo((667_493 / 86_466_149) * 100, 12);
    expect(result.parameters["perLayer"]).toEqual(new Array(12).fill(49_152));
    expect(result["spec"]).toMatchObject({
      method: "lora",
      rank: 16,
      alpha: 16,
      targets: ["query", "value"],
    });
  });

  it("prints a readable table", async () => {
    const { code, stdout } = await runKora(vitBaseLora);
    expect(code).toBe(0);
    expect(stdout).toContain("trainable  667,493 of 86,466,149 (0.7720 %)");
    expect(stdout).toMatch(/total\s+86,466,149\s+667,493/);
    expect(stdout).toMatch(/\n11\s+49,152\n/);
  });

  it("reads a HF config.json (shape and class count) and fills KoRA's defaults", async () => {
    const result = await json([
      "inspect",
      "--config",
      fixture("vit", "vit-micro-hf.config.json"),
      "--method",
      "kora",
    ]);
    expect(result["backbone"]).toMatchObject({
      source: "config",
      shape: {
        dim: 48,
        depth: 3,
        heads: 3,
        mlpDim: 192,
        numClasses: 10,
        patchSize: 8,
        imageSize: 32,
        channels: 3,
      },
    });
    // Same shape as the vit-micro preset.
    const preset = await json(["inspect", "--backbone", "vit-micro", "--method", "kora", "--classes", "10"]);
    expect(preset.parameters).toEqual(result.parameters);
    expect(result["spec"]).toMatchObject({ composition: { hidden: 4 }, gate: { per: "scalar", init: 0 } });
  });

  it("--d-comp, --layers and --method adapter-fusion change the counts", async () => {
    const base = await json(["inspect", "--backbone", "vit-tiny", "--method", "kora", "--classes", "100"]);
    const wide = await json([
      "inspect",
      "--backbone",
      "vit-tiny",
      "--method",
      "kora",
      "--d-comp",
      "8",
      "--classes",
      "100",
    ]);
    expect(wide.parameters["adapter"]).toBeGreaterThan(base.parameters["adapter"] as number);
    const some = await json([
      "inspect",
      "--backbone",
      "vit-tiny",
      "--method",
      "lora",
      "--layers",
      "0,11",
      "--classes",
      "0",
    ]);
    const perLayer = some.parameters["perLayer"] as number[];
    expect(perLayer.filter((n) => n > 0)).toHaveLength(2);
    expect(perLayer[0]).toBe(2 * 2 * 8 * 192);
    expect(some.parameters["head"]).toBe(0);
    const fusion = await json([
      "inspect",
      "--backbone",
      "vit-tiny",
      "--method",
      "adapter-fusion",
      "--classes",
      "10",
    ]);
    expect(fusion["spec"]).toMatchObject({ method: "adapter-fusion", adapters: ["adapter_0", "adapter_1"] });
    // --d-comp and --gate reach the gated bottleneck's own fields (hidden, gate.per) through the registry.
    const twin = await json([
      "inspect",
      "--backbone",
      "vit-tiny",
      "--method",
      "gated-bottleneck",
      "--d-comp",
      "8",
      "--gate",
      "channel",
      "--classes",
      "10",
    ]);
    expect(twin["spec"]).toMatchObject({ method: "gated-bottleneck", hidden: 8, gate: { per: "channel" } });
    expect((twin.parameters["perLayer"] as number[])[0]).toBe(2 * 8 * 192 + 8 + 192 + 192);
  });

  it("reads --spec files and rejects unknown keys with a suggestion (exit 1)", async () => {
    const dir = tmpdir();
    const good = join(dir, `kora-cli-spec-${process.pid}.json`);
    writeFileSync(good, JSON.stringify({ method: "lora", rank: 16, alpha: 16 }));
    const fromFile = await json(["inspect", "--backbone", "vit-base", "--spec", good, "--classes", "101"]);
    expect(fromFile.parameters["trainable"]).toBe(667_493);

    const typo = join(dir, `kora-cli-spec-typo-${process.pid}.json`);
    writeFileSync(typo, JSON.stringify({ method: "kora", composition: { hiden: 8 } }));
    const bad = await runKora(["inspect", "--backbone", "vit-micro", "--spec", typo, "--classes", "10"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe(
      `kora: error: ${typo}: adapter spec: unknown field composition.hiden (did you mean hidden?)\n`,
    );
  });

  it("bad flags exit 2 with a message naming the flag and a suggestion", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--backbone", "vit-base", "--method", "lora", "--rnak", "16"],
        /unknown option '--rnak' \(Did you mean --rank\?\)/,
      ],
      [
        ["--backbone", "vit-bse", "--method", "lora"],
        /--backbone: unknown preset "vit-bse".*did you mean vit-base\?/,
      ],
      [["--backbone", "vit-base", "--method", "lorra"], /--method <method>.*did you mean lora\?/],
      [
        ["--backbone", "vit-base", "--method", "lora", "--targets", "query,vaule"],
        /--targets: unknown projection "vaule".*did you mean value\?/,
      ],
      [
        ["--backbone", "vit-base", "--method", "lora", "--rank", "-2"],
        /--rank <r>.*expected a positive integer/,
      ],
      [
        ["--backbone", "vit-base", "--method", "lora", "--d-comp", "8"],
        /--d-comp applies to --method kora or gated-bottleneck, not lora/,
      ],
      [
        ["--backbone", "vit-micro", "--method", "kora", "--layers", "5"],
        /--layers: .*block 5 does not exist/,
      ],
      [
        ["--backbone", "vit-base", "--config", "c.json", "--method", "lora"],
        /--backbone <name>' cannot be used with option '--config/,
      ],
      [["--backbone", "vit-base"], /give --method lora\|kora\|adapter-fusion/],
      [
        ["--method", "lora", "--classes", "3"],
        /give --backbone vit-micro\|vit-tiny\|vit-small\|vit-base\|… or --config FILE/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await runKora(["inspect", "--classes", "10", ...args]);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stdout).toBe("");
      expect(stderr).toMatch(message);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    }
    const noClasses = join(tmpdir(), `kora-cli-config-${process.pid}.json`);
    writeFileSync(
      noClasses,
      JSON.stringify({
        model_type: "vit",
        hidden_size: 48,
        num_hidden_layers: 3,
        num_attention_heads: 3,
        intermediate_size: 192,
        image_size: 32,
        patch_size: 8,
      }),
    );
    const unstated = await runKora(["inspect", "--config", noClasses, "--method", "lora"]);
    expect(unstated.code).toBe(2);
    expect(unstated.stderr).toContain("--classes is required");
  });

  it("a config.json with num_hidden_layers 1e8 is refused naming the field and the limit (it exhausted the heap)", async () => {
    const huge = join(tmpdir(), `kora-cli-huge-config-${process.pid}.json`);
    writeFileSync(huge, JSON.stringify({ model_type: "vit", num_hidden_layers: 1e8, num_labels: 10 }));
    const { code, stdout, stderr } = await runKora(["inspect", "--config", huge, "--method", "lora"]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toMatch(
      /kora: error: config\.num_hidden_layers is 100000000, more than the limit of 1000/,
    );
  });

  it("defaults the classes to the preset's", async () => {
    const result = await json(["inspect", "--backbone", "vit-base", "--method", "lora"]);
    expect(result["backbone"]).toMatchObject({ shape: { numClasses: 1000 } });
  });

  it("--help explains the flags with examples", async () => {
    const { code, stdout } = await runKora(["inspect", "--help"]);
    expect(code).toBe(0);
    for (const flag of [
      "--backbone <name>",
      "--config <file>",
      "--method <method>",
      "--spec <file>",
      "--d-comp <h>",
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain("Examples:");
  });
});
