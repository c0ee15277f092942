import { datasetError } from "../errors";

/** An optional peer dependency: not installed with this package, needed only by one feature. @internal */
export interface OptionalPeer {
  /** The npm package name, e.g. `"h5wasm"`. */
  name: string;
  /** The version range of `peerDependencies` in package.json (a test keeps the two in step). */
  range: string;
  /** What needs it, completing "… needs the optional package", e.g. `"reading a MATLAB v7.3 .mat file"`. */
  purpose: string;
}

/**
 * Whether `error` says that `name` itself cannot be found, as opposed to a module that `name` imports failing:
 * Node's ESM (`ERR_MODULE_NOT_FOUND`, "Cannot find package 'h5wasm' imported from …") and CommonJS
 * (`MODULE_NOT_FOUND`, "Cannot find module 'h5wasm/node'") errors both quote the specifier.
 */
function isMissing(error: unknown, name: string): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return typeof message === "string" && (message.includes(`'${name}'`) || message.includes(`'${name}/`));
}

/**
 * Imports an optional peer dependency. When the package is not installed, throws `MISSING_DEPENDENCY` naming the
 * package, the range and the command that installs it; any other failure is rethrown as it is. @internal
 */
export async function importOptionalPeer<T>(peer: OptionalPeer, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, peer.name)) throw error;
    throw datasetError(
      "MISSING_DEPENDENCY",
      `${peer.purpose} needs the optional package ${peer.name}@${peer.range}, which is not installed; install it next to @kora/datasets: npm install ${peer.name}@${peer.range}`,
      peer.name,
      error,
    );
  }
}
