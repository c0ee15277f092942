import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The `shared/fixtures` folder beside the repository root (CI places a copy of shared/ there). */
export function sharedFixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = resolve(dir, "..");
    if (parent === dir) throw new Error("repository root (pnpm-workspace.yaml) not found");
    dir = parent;
  }
  return resolve(dir, "..", "shared", "fixtures");
}

/** Bytes of a file under shared/fixtures. */
export function readSharedFixture(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(join(sharedFixturesDir(), relative)));
}
