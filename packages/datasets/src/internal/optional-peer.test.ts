import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { H5WASM_PEER, loadH5Wasm } from "./esm-modules";
import { importOptionalPeer } from "./optional-peer";

/**
 * The error Node itself throws when a program imports `specifier` and the package is not installed: a child
 * Node imports it from an empty temporary folder (ESM resolution ignores NODE_PATH, so nothing of this
 * repository's node_modules is visible) and reports the error's code and message.
 */
function nodeErrorForMissing(specifier: string): Error {
  const dir = mkdtempSync(join(tmpdir(), "kora-no-packages-"));
  try {
    const script = `import(${JSON.stringify(specifier)}).then(() => console.log("{}"), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      encoding: "utf8",
    });
    const { code, message } = JSON.parse(output) as { code?: string; message?: string };
    return Object.assign(new Error(message), { code });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("optional peer dependencies", () => {
  it("h5wasm missing: loading it throws MISSING_DEPENDENCY naming the package and how to install it", async () => {
    const missing = nodeErrorForMissing("h5wasm/node");
    expect(missing.message).toContain("Cannot find package 'h5wasm'");
    const error = await rejectionOf(loadH5Wasm(() => Promise.reject(missing)));
    expect(KoraError.isInstance(error)).toBe(true);
    const koraError = error as KoraError;
    expect(koraError.code).toBe("MISSING_DEPENDENCY");
    expect(koraError.path).toBe("h5wasm");
    expect(koraError.message).toContain(".mat file");
    expect(koraError.message).toContain("npm install h5wasm@^0.10.3");
    expect(koraError.cause).toBe(missing);
  });

  it("recognises Node's CommonJS error for a missing package too", async () => {
    const cjsError = Object.assign(
      new Error("Cannot find module 'h5wasm/node'\nRequire stack:\n- /app/index.cjs"),
      {
        code: "MODULE_NOT_FOUND",
      },
    );
    const error = await rejectionOf(importOptionalPeer(H5WASM_PEER, () => Promise.reject(cjsError)));
    expect((error as KoraError).code).toBe("MISSING_DEPENDENCY");
  });

  it("rethrows other failures unchanged: a module h5wasm itself imports, or an error inside it", async () => {
    const inner = Object.assign(new Error("Cannot find module 'some-dependency-of-h5wasm'"), {
      code: "MODULE_NOT_FOUND",
    });
    expect(await rejectionOf(importOptionalPeer(H5WASM_PEER, () => Promise.reject(inner)))).toBe(inner);
    const broken = new Error("wasm instantiation failed");
    expect(await rejectionOf(importOptionalPeer(H5WASM_PEER, () => Promise.reject(broken)))).toBe(broken);
  });

  it("does not cache a failed load: the next .mat file finds h5wasm once it is installed", async () => {
    await rejectionOf(loadH5Wasm(() => Promise.reject(nodeErrorForMissing("h5wasm/node"))));
    const h5 = await loadH5Wasm();
    expect(typeof h5.File).toBe("function");
  });

  it("package.json declares h5wasm as an optional peer with the range the message names, not a dependency", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(manifest.dependencies.h5wasm).toBeUndefined();
    expect(manifest.peerDependencies.h5wasm).toBe(H5WASM_PEER.range);
    expect(manifest.peerDependenciesMeta.h5wasm.optional).toBe(true);
  });
});
