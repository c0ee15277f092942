import { en } from "zod/locales";
import type { core } from "zod/mini";

let localeError: core.$ZodErrorMap | undefined;

/**
 * zod's English messages, to pass per parse (`schema.safeParse(input, { error: englishMessages() })`): zod/mini
 * ships no locale (every issue would read "Invalid input"), and installing one globally with `z.config` would
 * change the messages of the application's own zod schemas. @internal
 */
export function englishMessages(): core.$ZodErrorMap {
  localeError ??= en().localeError;
  return localeError;
}
