import { Redis, type RedisOptions } from "ioredis";
import { queueError } from "./queue-errors";
import type { QueueAddress } from "./redis-url";

/** What {@link connectRedis} learned about the server, for the warnings the commands print. */
export interface RedisFacts {
  version: string;
  /** `appendonly` (null when CONFIG is not allowed, as on some managed services). */
  appendOnly: string | null;
  /** `maxmemory-policy` (null when CONFIG is not allowed). */
  maxMemoryPolicy: string | null;
}

/**
 * Opens a client to the queue's Redis and checks it answers within `timeoutMs` (one try: an unreachable server is
 * reported, not waited for). BullMQ needs `maxRetriesPerRequest: null` on the connections it blocks on.
 *
 * @throws KoraError `QUEUE_UNREACHABLE` (path `--queue`) with the address and the reason.
 */
export async function connectRedis(
  address: QueueAddress,
  timeoutMs = 5000,
): Promise<{ client: Redis; facts: RedisFacts }> {
  const options: RedisOptions = {
    ...address.options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: null,
  };
  const client = new Redis({ ...options, retryStrategy: () => null });
  // ioredis reports the cause (ECONNREFUSED, ENOTFOUND) as an event; connect() itself rejects with a generic one.
  let cause: Error | null = null;
  client.on("error", (error: Error) => {
    cause = error;
  });
  try {
    await client.connect();
    const info = await withTimeout(client.info("server"), timeoutMs);
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
    const config = async (name: string) => {
      try {
        const reply = (await withTimeout(client.config("GET", name), timeoutMs)) as string[];
        return reply[1] ?? null;
      } catch {
        return null;
      }
    };
    return {
      client,
      facts: {
        version,
        appendOnly: await config("appendonly"),
        maxMemoryPolicy: await config("maxmemory-policy"),
      },
    };
  } catch (error) {
    client.disconnect();
    throw queueError(
      "QUEUE_UNREACHABLE",
      `cannot reach Redis at ${address.display} (--queue): ${(cause ?? (error as Error))?.message ?? String(error)}; start redis-server there or check the URL`,
      "--queue",
    );
  }
}

/** The options BullMQ's own connections use: the parsed URL, reconnecting with a capped delay. */
export function bullConnection(address: QueueAddress): RedisOptions {
  return {
    ...address.options,
    maxRetriesPerRequest: null,
    // A Redis restart mid-plan: keep trying every second at most, so workers resume when it is back.
    retryStrategy: (times: number) => Math.min(1000, 50 * times),
  };
}

/** Warnings about server settings the queue relies on (see the README's "Redis settings"). */
export function redisWarnings(facts: RedisFacts): string[] {
  const warnings: string[] = [];
  if (facts.appendOnly === "no") {
    warnings.push(
      "Redis runs with appendonly no: a restart loses the jobs added since its last snapshot; set appendonly yes",
    );
  }
  if (facts.maxMemoryPolicy !== null && facts.maxMemoryPolicy !== "noeviction") {
    warnings.push(
      `Redis evicts keys under memory pressure (maxmemory-policy ${facts.maxMemoryPolicy}): jobs may vanish; set maxmemory-policy noeviction`,
    );
  }
  return warnings;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolveValue, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolveValue(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
