import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, runKora } from "../test-support/run-cli";

const FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
const empty = mkdtempSync(join(tmpdir(), "kora-cli-datasets-"));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe("kora datasets", () => {
  it("list names every registered dataset with its task and splits", async () => {
    const { code, stdout } = await runKora(["datasets", "list", "--json"]);
    expect(code).toBe(0);
    const { datasets } = JSON.parse(stdout) as {
      datasets: { name: string; task: string; splits: string[]; source: string }[];
    };
    const names = datasets.map((d) => d.name);
    for (const name of [
      "cifar10",
      "cifar100",
      "tiny-imagenet",
      "fashion-mnist",
      "synthetic-source",
      "synthetic-depth",
    ]) {
      expect(names).toContain(name);
    }
    expect(datasets.find((d) => d.name === "synthetic-depth")).toMatchObject({ task: "depth" });
    expect(datasets.every((d) => d.source.length > 0)).toBe(true);
    const text = await runKora(["datasets", "list"]);
    expect(text.stdout).toMatch(/\ncifar100\s+classification\s+train,test,all\s+CIFAR binary/);
  });

  it("a missing dataset root exits 1 and says where to get it (built binary)", () => {
    const root = join(empty, "cifar-100-binary");
    const { code, stdout, stderr } = runCli(["datasets", "check", "cifar100", "--root", root]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\ntrain\s+missing\n/);
    expect(stdout).toMatch(/get it\s+Download .*https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar\.html/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(`kora: error: cifar100: dataset folder ${root} does not exist.`);
    expect(stderr).toContain("https://www.cs.toronto.edu/~kriz/cifar.html");
  });

  it("--json reports each split; a missing root is ok: false with the error", async () => {
    const { code, stdout } = await runKora(["datasets", "check", "tiny-imagenet", "--root", empty, "--json"]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ name: "tiny-imagenet", ok: false, root: empty });
    expect(report.splits.map((s: { split: string }) => s.split)).toEqual(["train", "val", "test"]);
    expect(report.splits[0]).toMatchObject({ found: false, error: { code: "DATASET_NOT_FOUND" } });
    expect(report.source).toContain("tiny-imagenet-200.zip");
  });

  it("synthetic suites need no files", async () => {
    const { code, stdout } = await runKora(["datasets", "check", "synthetic-source", "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    for (const split of report.splits) expect(split).toMatchObject({ found: true, classes: 50 });
  });

  it.skipIf(!existsSync(FASHION_MNIST))(
    "finds the installed Fashion-MNIST test split (10,000 images, 10 classes)",
    async () => {
      const { code, stdout } = await runKora(["datasets", "check", "fashion-mnist", "--split", "test"]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/\ntest\s+found\s+10,000\s+10\s+28×28×1/);
    },
  );

  it("bad usage exits 2 with a suggestion", async () => {
    const unknown = await runKora(["datasets", "check", "fashion-mnst"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown dataset "fashion-mnst".*\(did you mean fashion-mnist\?\)/);
    const split = await runKora(["datasets", "check", "fashion-mnist", "--split", "tset"]);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(/--split: .*\(did you mean test\?\)/);
    const sub = await runKora(["datasets", "chek"]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/unknown command 'chek' \(Did you mean check\?\)/);
    const noName = await runKora(["datasets", "check"]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/missing required argument 'name'/);
  });

  it("check --help explains --root", async () => {
    const { code, stdout } = await runKora(["datasets", "check", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: kora datasets check [options] <name>");
    expect(stdout).toContain("--root <dir>");
  });
});
