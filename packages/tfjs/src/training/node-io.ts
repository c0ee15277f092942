/** Node's file and hash modules and the atomic writer, as the checkpoint code uses them. */
export interface NodeIo {
  /** `node:fs/promises`. */
  fs: typeof import("node:fs/promises");
  /** `node:path`. */
  path: typeof import("node:path");
  /** `@kora/spec/node`'s temp-file + fsync + rename writer. */
  writeFileAtomic: typeof import("@kora/spec/node").writeFileAtomic;
  /** Hex SHA-256 of bytes or text (`node:crypto`). */
  sha256(data: Uint8Array | string): string;
}

let cached: Promise<NodeIo> | undefined;

/**
 * Loads the Node modules on first use, so the package's main entry has no top-level `node:` import and still
 * bundles for browsers; only checkpointing needs Node.
 */
export function nodeIo(): Promise<NodeIo> {
  cached ??= Promise.all([
    import("node:fs/promises"),
    import("node:path"),
    import("node:crypto"),
    import("@kora/spec/node"),
  ]).then(([fs, path, crypto, spec]) => ({
    fs,
    path,
    writeFileAtomic: spec.writeFileAtomic,
    sha256: (data) => crypto.createHash("sha256").update(data).digest("hex"),
  }));
  return cached;
}
