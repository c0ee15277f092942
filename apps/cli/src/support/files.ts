import { open, stat } from "node:fs/promises";
import { KoraError } from "@kora/spec";
import { readFileBytes } from "@kora/spec/node";

/** Reads and parses a JSON file; a syntax error is a `KoraError` naming the file. */
export async function readJson(path: string, what: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readFileBytes(path, what));
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new KoraError({
      code: "INVALID_JSON",
      message: `${what}: ${path} is not valid JSON (${(error as Error).message})`,
      cause: error,
    });
  }
}

/**
 * Refuses a folder, a device (/dev/zero never ends) or a socket before it is opened: `IO_ERROR` naming the path.
 * Regular files and pipes (`--input <(…)`) pass. Returns a regular file's size; `undefined` for a pipe, or when
 * the path cannot be examined (then reading it reports the missing or unreadable file with the right code).
 */
export async function checkReadableFile(path: string, what: string): Promise<number | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  if (info.isFile()) return info.size;
  if (info.isFIFO()) return undefined;
  throw new KoraError({
    code: "IO_ERROR",
    message: `${what}: ${path} ${info.isDirectory() ? "is a folder" : "is not a regular file or a pipe"}; give a file`,
  });
}

/**
 * Reads a file (or pipe) whole, but never more than `maxBytes + 1` bytes: a longer one returns `maxBytes + 1`
 * bytes, for the caller to refuse. A missing or unreadable file is `FILE_NOT_FOUND` / `IO_ERROR` naming the path.
 */
export async function readAtMost(path: string, what: string, maxBytes: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(maxBytes + 1);
  let length = 0;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      length += bytesRead;
      if (bytesRead === 0 || length === buffer.length) break;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KoraError({
      code: code === "ENOENT" ? "FILE_NOT_FOUND" : "IO_ERROR",
      message:
        code === "ENOENT"
          ? `${what}: ${path} does not exist`
          : `${what}: cannot read ${path} (${code ?? (error as Error).message})`,
      cause: error,
    });
  } finally {
    await handle?.close();
  }
  return buffer.subarray(0, length);
}
