#!/usr/bin/env node
// Part of `pnpm check:packages` (also `pnpm check:bundle-size`, which builds first): bundles a few small browser pages from the packages' built dist/ with esbuild
// (platform browser, minified, tree-shaken as an application bundler would) and fails when one outgrows its limit.
// Limits are bytes of minified JavaScript, before compression: what a page downloads and parses.
//
//   node scripts/bundle-size.mjs            check every page against its limit
//   node scripts/bundle-size.mjs --verbose  also list the biggest inputs of each page
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** One page: an entry file in scripts/bundle-size/ and the most bytes its minified bundle may have. */
const PAGES = [
  // 36,454 B when set (26,024 of them zod/mini); 464,556 B with zod's classic API and top-level schemas.
  { entry: "spec-parse-count.js", limit: 60_000 },
  // 9,710 B at the limit's setting: the limit catches zod (or another heavy dependency) coming back, not growth.
  { entry: "datasets-synthetic.js", limit: 20_000 },
  // 9,008 B when set, 11,389 B with the stacked-product engine; @kora/metrics has no dependencies.
  { entry: "metrics-linear-cka.js", limit: 12_000 },
  // 16,604 B when set: linearCKA's engine plus the worker pool and the workers' source text.
  { entry: "metrics-linear-cka-async.js", limit: 20_000 },
];

// `@kora/<name>` resolves to the workspace package packages/<name> through its package.json `exports` (with the
// browser conditions), as it would for a user who installed it; the entries live outside every package.
const workspacePackages = {
  name: "kora-workspace",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@kora\/[a-z-]+(\/.*)?$/ }, (args) => {
      if (args.pluginData === "kora-workspace") return undefined;
      const name = args.path.split("/")[1];
      return pluginBuild.resolve(args.path, {
        kind: args.kind,
        resolveDir: join(root, "packages", name),
        pluginData: "kora-workspace",
      });
    });
  },
};

async function measure(page) {
  const result = await build({
    entryPoints: [join(root, "scripts/bundle-size", page.entry)],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [workspacePackages],
  });
  const output = result.outputFiles[0];
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  return { bytes: output.contents.byteLength, inputs };
}

/** Groups a page's inputs by package (`zod`, `@kora/spec`, ...) and returns the biggest, largest first. */
function biggestPackages(inputs) {
  const byPackage = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(
      path.replace(/.*node_modules\/\.pnpm\/[^/]+\//, ""),
    );
    const name = match?.[1] ?? (path.startsWith("packages/") ? `@kora/${path.split("/")[1]}` : path);
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]);
}

const verbose = process.argv.includes("--verbose");
const version = JSON.parse(readFileSync(join(root, "node_modules/esbuild/package.json"), "utf8")).version;
console.log(`bundle sizes (esbuild ${version}, browser, minified, from dist/):`);
let failed = 0;
for (const page of PAGES) {
  let measured;
  try {
    measured = await measure(page);
  } catch (error) {
    console.error(`  ${page.entry}: does not bundle for the browser\n${error.message}`);
    failed++;
    continue;
  }
  const over = measured.bytes > page.limit;
  if (over) failed++;
  const status = over ? "OVER THE LIMIT" : "ok";
  console.log(
    `  ${page.entry.padEnd(26)} ${measured.bytes.toLocaleString("en").padStart(9)} B  (limit ${page.limit.toLocaleString("en")} B)  ${status}`,
  );
  if (over || verbose) {
    for (const [name, bytes] of biggestPackages(measured.inputs).slice(0, 5)) {
      console.log(`      ${bytes.toLocaleString("en").padStart(9)} B  ${name}`);
    }
  }
}
if (failed > 0) {
  console.error(`bundle-size: ${failed} page(s) over their limit or not bundling`);
  process.exit(1);
}
