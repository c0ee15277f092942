import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/** Debian's `redis-server`, which CI installs (`.ci/run`). */
export const REDIS_SERVER = "redis-server";

/** Whether `redis-server` is on the PATH. */
export function haveRedisServer(): boolean {
  try {
    execFileSync(REDIS_SERVER, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the Redis tests run: always in CI (where a missing server must fail them, never skip them), elsewhere
 * when the server is installed. Says why when they are skipped.
 */
export function redisTestsEnabled(): boolean {
  if (haveRedisServer()) return true;
  if (process.env["CI"] !== undefined) return true;
  process.stderr.write(
    "kora-repro queue tests skipped: redis-server is not installed (apt-get install redis-server); in CI they fail\n",
  );
  return false;
}

/** A Redis server of a test: on 127.0.0.1, a free port, its own folder, with the append-only file on. */
export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops it the way a service manager does (SIGTERM: it writes its append-only file) and starts it again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on (asked of the kernel, then closed). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Starts `redis-server` with the persistence the README asks for; fails loudly when it is missing. */
export async function startRedis(): Promise<TestRedis> {
  if (!haveRedisServer()) {
    throw new Error("redis-server is not installed; CI must install it (apt-get install redis-server)");
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "kora-repro-redis-"));
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn(
      REDIS_SERVER,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--maxmemory-policy",
        "noeviction",
      ],
      { stdio: "ignore" },
    );
    await waitForPing(port);
  };
  await launch();
  const stop = async () => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    await new Promise<void>((done) => {
      running.once("exit", () => done());
      running.kill("SIGTERM");
    });
  };
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    dir,
    restart: async () => {
      await stop();
      await launch();
    },
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits (at most 10 s, 100 looks) for the server to answer PING. */
async function waitForPing(port: number): Promise<void> {
  for (let look = 0; look < 100; look++) {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      // Not listening yet.
    } finally {
      client.disconnect();
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`redis-server on port ${port} did not answer within 10 s`);
}
