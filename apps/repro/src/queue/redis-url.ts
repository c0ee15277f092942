import type { RedisOptions } from "ioredis";
import { queueError } from "./queue-errors";

/** A parsed `--queue` URL: ioredis options plus the URL without its password, for messages. */
export interface QueueAddress {
  options: RedisOptions;
  /** `redis://host:port/db`, never with the password. */
  display: string;
}

/**
 * Parses `--queue redis://[user:password@]host[:port][/db]` (`rediss://` for TLS).
 *
 * @throws KoraError `INVALID_ARGUMENT` (path `--queue`) naming what was expected.
 */
export function parseQueueUrl(value: string, field = "--queue"): QueueAddress {
  const expected = `${field} must be a Redis URL, redis://host[:port][/db] or rediss:// for TLS`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw queueError("INVALID_ARGUMENT", `${expected}, got "${value}"`, field);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw queueError(
      "INVALID_ARGUMENT",
      `${expected}, got the scheme "${url.protocol}" in "${value}"`,
      field,
    );
  }
  if (url.hostname === "") {
    throw queueError("INVALID_ARGUMENT", `${expected}, got no host in "${value}"`, field);
  }
  const port = url.port === "" ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  if (!(Number.isInteger(db) && db >= 0 && db <= 15 && /^\d*$/.test(path))) {
    throw queueError(
      "INVALID_ARGUMENT",
      `${expected}; the path is the database number 0-15, got "/${path}" in "${value}"`,
      field,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw queueError("INVALID_ARGUMENT", `${expected}, without ?query or #fragment, got "${value}"`, field);
  }
  // IPv6 hosts come bracketed from URL; ioredis wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const options: RedisOptions = {
    host,
    port,
    db,
    ...(url.username === "" ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === "" ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.protocol === "rediss:" ? { tls: { servername: host } } : {}),
  };
  return { options, display: `${url.protocol}//${url.host}/${db}` };
}

/** Checks a `--queue-name`: BullMQ keeps it in key names, where `:` separates parts. */
export function checkQueueName(value: string, field = "--queue-name"): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value)) {
    throw queueError(
      "INVALID_ARGUMENT",
      `${field} must be 1-100 letters, digits, ".", "_" or "-" (starting with a letter or digit), got "${value}"`,
      field,
    );
  }
  return value;
}
