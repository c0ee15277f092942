import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors, writeSafetensors } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, runCli, runKora } from "../test-support/run-cli";

const BASIC = fixture("cka", "basic.safetensors");
const expected = JSON.parse(readFileSync(fixture("cka", "basic.expected.json"), "utf8")) as Record<
  string,
  number
>;
const dir = mkdtempSync(join(tmpdir(), "kora-cli-cka-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cka(args: string[]): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await runKora(["cka", ...args, "--json"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return JSON.parse(stdout);
}

/** A little-endian .npy (version 1) file of float32 or float64 values. */
function npy(shape: number[], data: Float32Array | Float64Array, fortran = false): Uint8Array {
  const descr = data instanceof Float32Array ? "<f4" : "<f8";
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), head.length);
  return out;
}

describe("kora cka", () => {
  it("linear CKA of the golden fixture to 1e-9 (built binary, --json)", () => {
    const { code, stdout, stderr } = runCli(["cka", "--x", `${BASIC}:x`, "--y", `${BASIC}:y`, "--json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(["cka"]);
    expect(Math.abs(result.cka - expected["linear"]!)).toBeLessThan(1e-9);
  });

  it("debiased, RBF and minibatch variants match the reference to 1e-9", async () => {
    const x = `${BASIC}:x`;
    const y = `${BASIC}:y`;
    const cases: [string[], string][] = [
      [["--debiased"], "linear_debiased"],
      [["--kernel", "rbf", "--threshold", "0.5"], "rbf_0.5"],
      [["--kernel", "rbf"], "rbf_1.0"],
      [["--kernel", "rbf", "--threshold", "0.5", "--debiased"], "rbf_0.5_debiased"],
      [["--minibatch", "20"], "minibatch_linear_b20"],
    ];
    for (const [flags, key] of cases) {
      const result = await cka(["--x", x, "--y", y, ...flags]);
      expect({ key, diff: Math.abs((result["cka"] as number) - expected[key]!) < 1e-9 }).toEqual({
        key,
        diff: true,
      });
    }
  });

  it("reads .npy files (C and Fortran order) like the safetensors", async () => {
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(BASIC)));
    const x = tensors["x"]!;
    const y = tensors["y"]!;
    const [n, d] = y.shape as [number, number];
    const yData = y.data as Float32Array;
    const yFortran = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) yFortran[j * n + i] = yData[i * d + j]!;
    writeFileSync(join(dir, "x.npy"), npy(x.shape, x.data as Float32Array));
    writeFileSync(join(dir, "y.npy"), npy([n, d], yFortran, true));
    const result = await cka(["--x", join(dir, "x.npy"), "--y", join(dir, "y.npy")]);
    expect(Math.abs((result["cka"] as number) - expected["linear"]!)).toBeLessThan(1e-9);
  });

  it("whole files give the layer × layer matrix, tensors in natural name order", async () => {
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(BASIC)));
    const x = tensors["x"]!;
    const y = tensors["y"]!;
    const layers = writeSafetensors({ "block.10": y, "block.2": x, "block.1": x });
    const file = join(dir, "layers.safetensors");
    writeFileSync(file, layers);
    const other = join(dir, "other.safetensors");
    writeFileSync(other, writeSafetensors({ a: x, b: y }));

    const result = await cka(["--x", file, "--y", other]);
    expect(result["rows"]).toEqual(["block.1", "block.2", "block.10"]);
    expect(result["cols"]).toEqual(["a", "b"]);
    const matrix = result["matrix"] as number[][];
    expect(matrix).toHaveLength(3);
    for (const row of matrix) expect(row).toHaveLength(2);
    expect(matrix[0]![0]).toBeCloseTo(1, 12);
    expect(Math.abs(matrix[0]![1]! - expected["linear"]!)).toBeLessThan(1e-9);
    expect(Math.abs(matrix[2]![0]! - expected["linear"]!)).toBeLessThan(1e-9);

    const self = await cka(["--x", file, "--y", file]);
    const square = self["matrix"] as number[][];
    expect(square.map((row, i) => row[i])).toEqual([1, 1, 1]);
    expect(square[0]![2]).toBe(square[2]![0]);

    const text = await runKora(["cka", "--x", file, "--y", other]);
    expect(text.stdout).toContain("linear CKA, 3 × 2");
    expect(text.stdout).toMatch(/block\.10\s+0\.4950\s+1\.0000/);
  });

  it("draws the heatmap as SVG and PNG", async () => {
    const svg = join(dir, "cka.svg");
    const png = join(dir, "cka.png");
    const { code, stderr } = await runKora(["cka", "--x", BASIC, "--y", BASIC, "--svg", svg, "--png", png]);
    expect(code).toBe(0);
    expect(stderr).toBe(`wrote ${svg}\nwrote ${png}\n`);
    const text = readFileSync(svg, "utf8");
    expect(text).toMatch(/^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(text).toContain("linear CKA");
    expect([...readFileSync(png).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it("labels the heatmap's axes with the file (and tensor) each comes from, not x and y", async () => {
    const x = join(dir, "adapted.safetensors");
    const y = join(dir, "frozen.safetensors");
    writeFileSync(x, readFileSync(BASIC));
    writeFileSync(y, readFileSync(BASIC));
    const svg = join(dir, "axes.svg");
    const { code } = await runKora(["cka", "--x", x, "--y", y, "--svg", svg]);
    expect(code).toBe(0);
    // The axis titles (the tensors themselves are named x and y in this fixture: those are the cell labels).
    const titles = [...readFileSync(svg, "utf8").matchAll(/font-size="13"[^>]*fill="#111">([^<]*)</g)].map(
      (m) => m[1],
    );
    expect(titles).toEqual(["tensors of frozen.safetensors (--y)", "tensors of adapted.safetensors (--x)"]);
  });

  it("minibatch: plain progress lines on stderr without a terminal, and a note for a partial batch", async () => {
    const { code, stderr } = await runKora([
      "cka",
      "--x",
      `${BASIC}:x`,
      "--y",
      `${BASIC}:y`,
      "--minibatch",
      "30",
    ]);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /^batches: 1\/3 \(33 %\) \| ETA \d+s\nbatches: 2\/3 \(67 %\) \| ETA \d+s\nbatches: 3\/3 \(100 %\) \| ETA 0s\nkora cka: the last 10 examples \(a partial batch\) were left out\n$/,
    );
  });

  it("bad usage exits 2 naming the flag; a missing tensor or file exits 1", async () => {
    const x = `${BASIC}:x`;
    const y = `${BASIC}:y`;
    const usage: [string[], RegExp][] = [
      [["--x", x], /required option '--y <file\[:tensor\]>' not specified/],
      [["--x", x, "--y", y, "--kernal", "rbf"], /unknown option '--kernal' \(Did you mean --kernel\?\)/],
      [["--x", x, "--y", y, "--kernel", "rfb"], /--kernel <kernel>.*did you mean rbf\?/],
      [["--x", x, "--y", y, "--threshold", "2"], /--threshold applies to --kernel rbf only/],
      [["--x", x, "--y", y, "--minibatch", "0"], /--minibatch <b>.*positive integer/],
      [["--x", x, "--y", y, "--minibatch", "500"], /--minibatch 500 is larger than the 100 examples/],
      [["--x", x, "--y", y, "--kernel", "rbf", "--minibatch", "20"], /--minibatch computes linear CKA/],
    ];
    for (const [args, message] of usage) {
      const { code, stdout, stderr } = await runKora(["cka", ...args]);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stdout).toBe("");
      expect(stderr).toMatch(message);
    }
    const missingTensor = await runKora(["cka", "--x", `${BASIC}:z`, "--y", y]);
    expect(missingTensor.code).toBe(1);
    expect(missingTensor.stderr).toBe(`kora: error: --x: ${BASIC} has no tensor "z" (it has x, y)\n`);
    const missingFile = await runKora(["cka", "--x", join(dir, "nope.safetensors"), "--y", y]);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toMatch(/--x: .*nope\.safetensors does not exist/);
  });

  it("--help shows the forms of --x/--y and examples", async () => {
    const { code, stdout } = await runKora(["cka", "--help"]);
    expect(code).toBe(0);
    for (const text of [
      "--x <file[:tensor]>",
      "--kernel <kernel>",
      "--minibatch <b>",
      "--svg <out>",
      "--png <out>",
    ]) {
      expect(stdout).toContain(text);
    }
  });
});
