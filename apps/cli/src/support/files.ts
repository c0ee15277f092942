import { readFile } from "node:fs/promises";
import { KoraError } from "@kora/spec";

/** Reads a file, turning a missing or unreadable file into a `KoraError` that names the path and the flag. */
export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
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
  }
}

/** Reads and parses a JSON file; a syntax error is a `KoraError` naming the file. */
export async function readJson(path: string, what: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readBytes(path, what));
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
