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
