#!/usr/bin/env node
// "Install one package" for real: pack every public package with `pnpm pack` (workspace:* becomes a version),
// install each tarball with plain npm into a scratch folder outside the workspace — together with the tarballs
// of the workspace packages it declares as dependencies, and nothing else — then import it from ESM and from
// CJS and call one function. A package that only works thanks to the workspace's hoisting fails here. Before
// that, each tarball's contents are checked (scripts/check-tarball.mjs): LICENSE, src/ once, maps without copies.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readTarball, tarballProblems } from "./check-tarball.mjs";

const root = resolve(import.meta.dirname, "..");

/**
 * One smoke check per public package: code that runs with `pkg` bound to the imported module (ESM namespace or
 * CJS exports) and throws when the package does not work. A new package must add its entry here.
 */
const SMOKE = {
  "@kora/spec": {
    subpaths: ["@kora/spec/node"],
    check: `
      const spec = pkg.parseAdapterSpec({ method: "lora", rank: 16, alpha: 16 });
      const vitB = { dim: 768, depth: 12, heads: 12, mlpDim: 3072, numClasses: 101, patchSize: 16, imageSize: 224, channels: 3 };
      const n = pkg.countParameters(spec, vitB).trainable;
      if (n !== 667493) throw new Error("countParameters gave " + n);
      const bytes = pkg.writeSafetensors({ x: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
      if (pkg.readSafetensors(bytes).tensors.x.data[1] !== 2) throw new Error("safetensors round trip failed");
      if (typeof sub0.writeAdapterDir !== "function") throw new Error("@kora/spec/node lacks writeAdapterDir");
    `,
  },
  "@kora/metrics": {
    subpaths: [],
    check: `
      const x = [[1, 2], [2, 1], [3, 5], [4, 3], [5, 4]];
      const v = pkg.linearCKA(x, x);
      if (Math.abs(v - 1) > 1e-12) throw new Error("linearCKA(x, x) = " + v);
    `,
  },
  "@kora/tfjs": {
    subpaths: ["@kora/tfjs/node"],
    check: `
      const tf = await import("@tensorflow/tfjs");
      await import("@tensorflow/tfjs-backend-wasm");
      if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not initialise");
      const y = pkg.linear(tf.ones([2, 3]), tf.variable(tf.ones([3, 2])), tf.zeros([2]));
      if (y.dataSync()[0] !== 3) throw new Error("linear gave " + y.dataSync()[0]);
      if (typeof sub0.saveAdapter !== "function") throw new Error("@kora/tfjs/node lacks saveAdapter");
    `,
  },
  "@kora/vit": {
    subpaths: ["@kora/vit/node"],
    check: `
      const tf = await import("@tensorflow/tfjs");
      await import("@tensorflow/tfjs-backend-wasm");
      if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not initialise");
      const vit = pkg.createViT("vit-micro", { seed: 1 });
      const out = vit.forward(tf.zeros([1, 3, 32, 32]), { format: "NCHW" });
      if (out.logits.shape.join() !== "1,10") throw new Error("logits shape " + out.logits.shape);
      if (typeof sub0.loadViT !== "function") throw new Error("@kora/vit/node lacks loadViT");
    `,
  },
  "@kora/datasets": {
    subpaths: ["@kora/datasets/node"],
    check: `
      const ds = await sub0.openDataset("synthetic-source", { split: "test" });
      const item = await ds.get(0);
      if (!(item.image instanceof Uint8Array) || item.image.length === 0) throw new Error("no image");
      const direct = pkg.openSyntheticDataset("synthetic-source", { split: "test" });
      if ((await direct.get(0)).image.join() !== item.image.join()) throw new Error("root and /node disagree");
      // h5wasm is an optional peer: npm does not install it, and reading a .mat file says what to install.
      const { existsSync } = await import("node:fs");
      if (existsSync("node_modules/h5wasm")) throw new Error("npm installed the optional peer h5wasm");
      let missing;
      try {
        await sub0.openNyuDepthV2({ root: ${JSON.stringify(join(root, "packages/datasets/src/__fixtures__/nyu-labeled-tiny.mat"))}, split: "all", verifyCounts: false });
      } catch (error) {
        missing = error;
      }
      if (missing?.code !== "MISSING_DEPENDENCY" || !missing.message.includes("npm install h5wasm@")) {
        throw new Error("a .mat file without h5wasm gave " + (missing?.stack ?? "no error"));
      }
    `,
  },
};

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
}

function workspacePackages() {
  const packages = new Map();
  for (const group of ["packages", "apps"]) {
    let names = [];
    try {
      names = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const name of names) {
      const dir = join(root, group, name);
      let manifest;
      try {
        manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      } catch {
        continue;
      }
      packages.set(manifest.name, { dir, manifest });
    }
  }
  return packages;
}

const packages = workspacePackages();
const publicPackages = [...packages.values()].filter((p) => p.manifest.private !== true);
const scratch = mkdtempSync(join(tmpdir(), "kora-pack-install-"));
const tarballDir = join(scratch, "tarballs");
mkdirSync(tarballDir);
const tarballs = new Map();
let failures = 0;

try {
  for (const { dir, manifest } of publicPackages) {
    const before = new Set(readdirSync(tarballDir));
    run("pnpm", ["pack", "--pack-destination", tarballDir], dir);
    const created = readdirSync(tarballDir).filter((f) => !before.has(f));
    if (created.length !== 1) throw new Error(`pnpm pack in ${dir} produced ${created.length} tarballs`);
    tarballs.set(manifest.name, join(tarballDir, created[0]));
  }

  const license = readFileSync(join(root, "LICENSE"));
  for (const [name, tarball] of tarballs) {
    const files = readTarball(tarball);
    const problems = tarballProblems(files, license);
    for (const problem of problems) console.error(`✗ ${name} tarball: ${problem}`);
    failures += problems.length;
    if (problems.length === 0) {
      const source = [...files.keys()].filter((f) => f.startsWith("package/src/")).length;
      console.log(
        `✓ ${name} tarball: LICENSE, ${source} source files once, maps point at them (${files.size} files)`,
      );
    }
  }

  for (const { manifest } of publicPackages) {
    const name = manifest.name;
    const smoke = SMOKE[name];
    if (smoke === undefined) {
      console.error(`✗ ${name}: no smoke check in scripts/pack-install-test.mjs — add one`);
      failures++;
      continue;
    }
    // The package plus the workspace packages it depends on, transitively (declared dependencies only).
    const needed = new Set([name]);
    const queue = [name];
    while (queue.length > 0) {
      const current = packages.get(queue.pop());
      for (const dep of Object.keys(current.manifest.dependencies ?? {})) {
        if (packages.has(dep) && !needed.has(dep)) {
          needed.add(dep);
          queue.push(dep);
        }
      }
    }
    const project = join(scratch, name.replace(/[@/]/g, "_"));
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "scratch", private: true, version: "1.0.0" }),
    );
    run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", ...[...needed].map((n) => tarballs.get(n))],
      project,
    );
    const subImports = smoke.subpaths
      .map((s, i) => `const sub${i} = await import(${JSON.stringify(s)});`)
      .join("\n");
    const subRequires = smoke.subpaths
      .map((s, i) => `const sub${i} = require(${JSON.stringify(s)});`)
      .join("\n");
    writeFileSync(
      join(project, "esm.mjs"),
      `import * as pkg from ${JSON.stringify(name)};\n${subImports}\n${smoke.check}\nconsole.log("esm ok");\n`,
    );
    writeFileSync(
      join(project, "cjs.cjs"),
      `(async () => {\nconst pkg = require(${JSON.stringify(name)});\n${subRequires}\n${smoke.check}\nconsole.log("cjs ok");\n})().catch((e) => { console.error(e); process.exit(1); });\n`,
    );
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      try {
        run("node", [file], project);
        console.log(
          `✓ ${name} (${file === "esm.mjs" ? "ESM import" : "CJS require"}) installed alone with npm`,
        );
      } catch {
        console.error(`✗ ${name}: ${file} failed in ${project}`);
        failures++;
      }
    }
  }
} finally {
  if (failures === 0) rmSync(scratch, { recursive: true, force: true });
}

if (failures > 0) {
  console.error(`pack-install test: ${failures} failure(s); scratch folder kept at ${scratch}`);
  process.exit(1);
}
console.log(`pack-install test: ${publicPackages.length} package(s) installed and used from ESM and CJS`);
