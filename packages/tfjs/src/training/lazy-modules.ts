/** Node's modules and the atomic writer, as checkpointing and threaded wasm use them. */
export interface NodeIo {
  /** `node:fs/promises`. */
  fs: typeof import("node:fs/promises");
  /** `node:path`. */
  path: typeof import("node:path");
  /** `@kora/spec/node`'s temp-file + fsync + rename writer. */
  writeFileAtomic: typeof import("@kora/spec/node").writeFileAtomic;
  /** Hex SHA-256 of bytes or text (`node:crypto`), for checkpoint manifests. */
  sha256(data: Uint8Array | string): string;
}

/** The Node modules threaded wasm needs in Node. */
export interface NodeThreading {
  /** `node:os`. */
  os: typeof import("node:os");
  /** `node:worker_threads`. */
  workerThreads: typeof import("node:worker_threads");
}

// `train({ checkpoint })`, `selectBackend({ threads })` and `selectBackend`'s optional backends are root-entry
// features that need a module the root entry must not bundle (Node's, or an optional peer). So this file, and only
// this one (the package-conventions test allows it), imports modules by a specifier held in a variable, on first
// use: bundlers leave such imports alone and Node resolves them. A browser program that never uses those options
// never reaches them.
const SPECIFIERS = {
  fs: "node:fs/promises",
  path: "node:path",
  crypto: "node:crypto",
  os: "node:os",
  workerThreads: "node:worker_threads",
  specNode: "@kora/spec/node",
} as const;

/** Imports `specifier` at run time, hidden from bundlers (and from TypeScript's module resolution). */
export function importAtRunTime<T = unknown>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

let io: Promise<NodeIo> | undefined;
let threading: Promise<NodeThreading> | undefined;

/** Loads the file modules on first use (checkpoints). */
export function nodeIo(): Promise<NodeIo> {
  io ??= Promise.all([
    importAtRunTime<NodeIo["fs"]>(SPECIFIERS.fs),
    importAtRunTime<NodeIo["path"]>(SPECIFIERS.path),
    importAtRunTime<typeof import("node:crypto")>(SPECIFIERS.crypto),
    importAtRunTime<typeof import("@kora/spec/node")>(SPECIFIERS.specNode),
  ]).then(([fs, path, crypto, spec]) => ({
    fs,
    path,
    writeFileAtomic: spec.writeFileAtomic,
    sha256: (data) => crypto.createHash("sha256").update(data).digest("hex"),
  }));
  return io;
}

/** Loads `node:os` and `node:worker_threads` on first use (threaded wasm in Node). */
export function nodeThreading(): Promise<NodeThreading> {
  threading ??= Promise.all([
    importAtRunTime<{ default: NodeThreading["os"] } & NodeThreading["os"]>(SPECIFIERS.os),
    importAtRunTime<NodeThreading["workerThreads"]>(SPECIFIERS.workerThreads),
  ]).then(([os, workerThreads]) => ({ os: os.default ?? os, workerThreads }));
  return threading;
}
