import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (!entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Vitest global setup: the end-to-end tests spawn the built `dist/cli.js`. CI builds before testing; locally this
 * rebuilds it (tsup, about a second) when it is missing or older than a source file, so a stale binary is never
 * what gets tested.
 */
export default function setup(): void {
  const binary = join(appDir, "dist", "cli.js");
  const sources = Math.max(
    newestSource(join(appDir, "src")),
    statSync(join(appDir, "tsup.config.ts")).mtimeMs,
    statSync(join(appDir, "package.json")).mtimeMs,
  );
  if (existsSync(binary) && statSync(binary).mtimeMs >= sources) return;
  const require = createRequire(join(appDir, "package.json"));
  const tsupPackage = require.resolve("tsup/package.json");
  const bin = (require(tsupPackage) as { bin: Record<string, string> }).bin["tsup"]!;
  execFileSync(process.execPath, [join(dirname(tsupPackage), bin)], {
    cwd: appDir,
    stdio: "inherit",
  });
}
