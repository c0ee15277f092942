import { randomUUID } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { readCheckedJson, reportDamaged, shown } from "../damaged";
import type { CommitOutcome, ResultsStore, RunClaim, StoredResult } from "./results-store";

/** Options of {@link FolderStore}. */
export interface FolderStoreOptions {
  /**
   * Milliseconds after its last renewal that a claim lapses and another worker may take the run (default 30 000).
   * Holders renew every third of it; keep it well above the clock skew between machines sharing the folder.
   */
  leaseMs?: number;
  /**
   * Why a parsed result file is not the result of run `key` (`null` when it is one). Default: an object whose `key`
   * is the file's and whose `status` is `ok` or `failed`. The harness passes its full check (`resultProblem`).
   */
  check?: (value: unknown, key: string) => string | null;
  /** Says that a damaged result file was moved aside (default: a line on stderr). */
  warn?: (line: string) => void;
}

/** The content of a lock file: who holds the run (for people reading the folder) and the claim's own token. */
interface LockRecord {
  token: string;
  owner: string;
  host: string;
  pid: number;
  at: string;
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException)?.code;

/**
 * A results store on a folder every worker reaches (a local disk for local workers, NFS or another shared mount for
 * several machines): results in `runs/<key>.json`, exactly where the local mode keeps them, claims in
 * `locks/<key>.lock`. Claims rest on exclusive file creation, commits on `link`, which fails when the name exists:
 * both are atomic on local file systems and on NFS, so two workers never both hold a run, and a result, once
 * written, is never replaced by another worker's.
 */
export class FolderStore<R extends StoredResult = StoredResult> implements ResultsStore<R> {
  readonly root: string;
  readonly leaseMs: number;
  private readonly check: (value: unknown, key: string) => string | null;
  private readonly warn: (line: string) => void;

  constructor(root: string, options: FolderStoreOptions = {}) {
    this.root = resolve(root);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.check = options.check ?? storedResultProblem;
    this.warn = options.warn ?? ((line) => process.stderr.write(`${line}\n`));
    mkdirSync(join(this.root, "runs"), { recursive: true });
    mkdirSync(join(this.root, "locks"), { recursive: true });
  }

  /** Path of a run's result file. */
  resultPath(key: string): string {
    return join(this.root, "runs", `${key}.json`);
  }

  private lockPath(key: string): string {
    return join(this.root, "locks", `${key}.lock`);
  }

  /**
   * A run's result, or null when it has none. A damaged file (torn, empty, not JSON, failing the store's `check`) is
   * moved to `damaged/<timestamp>/runs/` with a warning and the run has no result, so it runs again; a worker never
   * takes a damaged file for a result, and `commit` is not blocked by one.
   */
  read(key: string): R | null {
    const path = this.resultPath(key);
    const found = readCheckedJson<R>(path, (value) => this.check(value, key));
    if (found.kind === "damaged") {
      reportDamaged(this.root, path, found.reason, `run ${key} counts as not done`, this.warn);
      return null;
    }
    return found.kind === "valid" ? found.value : null;
  }

  readAll(): Map<string, R> {
    const results = new Map<string, R>();
    for (const name of readdirSync(join(this.root, "runs"))) {
      if (!name.endsWith(".json")) continue;
      const result = this.read(name.slice(0, -5));
      if (result !== null) results.set(result.key, result);
    }
    return results;
  }

  claim(key: string, owner: string): RunClaim | null {
    const path = this.lockPath(key);
    const token = randomUUID();
    const record: LockRecord = {
      token,
      owner,
      host: hostname(),
      pid: process.pid,
      at: new Date().toISOString(),
    };
    // Three tries: a lapsed lease moved aside by us, then the create; another worker may win each race.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(path, `${JSON.stringify(record)}\n`, { flag: "wx" });
        return new FolderClaim(key, owner, token, path, this.leaseMs);
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error;
      }
      if (!this.lapsed(path)) return null;
      // The holder stopped renewing. Moving the lock aside is atomic: of several workers taking over, one succeeds.
      const aside = `${path}.lapsed-${token}`;
      try {
        renameSync(path, aside);
      } catch (error) {
        if (errorCode(error) === "ENOENT") continue;
        throw error;
      }
      if (!this.lapsed(aside)) {
        // Between our look and our move another worker took the run over: give its fresh lock back.
        restore(aside, path);
        return null;
      }
      rmSync(aside, { force: true });
    }
    return null;
  }

  /** Whether the lock at `path` was last renewed more than the lease ago (a missing file counts as lapsed). */
  private lapsed(path: string): boolean {
    try {
      return Date.now() - statSync(path).mtimeMs > this.leaseMs;
    } catch (error) {
      if (errorCode(error) === "ENOENT") return true;
      throw error;
    }
  }

  commit(claim: RunClaim, result: R): CommitOutcome {
    if (result.key !== claim.key) {
      throw new Error(`commit: result ${result.key} under the claim of ${claim.key}`);
    }
    if (!claim.held()) return "lost-claim";
    const path = this.resultPath(result.key);
    const temporary = `${path}.tmp-${randomUUID()}`;
    writeFileSync(temporary, `${JSON.stringify(result, null, 2)}\n`);
    try {
      linkSync(temporary, path);
      return "written";
    } catch (error) {
      if (errorCode(error) === "EEXIST") return "exists";
      throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  remove(key: string): void {
    rmSync(this.resultPath(key), { force: true });
  }
}

/** The default check of a result file: an object with the file's key and a status (what the store itself reads). */
function storedResultProblem(value: unknown, key: string): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "it is not a JSON object";
  const record = value as Partial<StoredResult>;
  if (record.key !== key) return `its key is ${shown(record.key)}, expected "${key}" (its file name)`;
  if (record.status !== "ok" && record.status !== "failed") {
    return `its status is ${shown(record.status)}, expected "ok" or "failed"`;
  }
  return null;
}

/** Puts a lock moved aside back where it was, unless a new one was created there meanwhile. */
function restore(aside: string, path: string): void {
  try {
    linkSync(aside, path);
  } catch {
    // A newer lock is there: it wins, and the one moved aside has no holder left to miss it.
  }
  rmSync(aside, { force: true });
}

class FolderClaim implements RunClaim {
  private readonly timer: NodeJS.Timeout;
  private released = false;

  constructor(
    readonly key: string,
    readonly owner: string,
    private readonly token: string,
    private readonly path: string,
    leaseMs: number,
  ) {
    this.timer = setInterval(() => this.renew(), Math.max(100, Math.floor(leaseMs / 3)));
    // The lease must not keep a finished worker process alive.
    this.timer.unref();
  }

  private renew(): void {
    if (!this.held()) {
      clearInterval(this.timer);
      return;
    }
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Gone between the check and the touch: the next check sees it.
    }
  }

  held(): boolean {
    if (this.released) return false;
    try {
      return (JSON.parse(readFileSync(this.path, "utf8")) as LockRecord).token === this.token;
    } catch {
      return false;
    }
  }

  release(): void {
    if (this.released) return;
    clearInterval(this.timer);
    if (this.held()) {
      // Moved aside first, then checked, so a lock another worker just took is never deleted.
      const aside = `${this.path}.release-${this.token}`;
      try {
        renameSync(this.path, aside);
        const record = JSON.parse(readFileSync(aside, "utf8")) as LockRecord;
        if (record.token === this.token) rmSync(aside, { force: true });
        else restore(aside, this.path);
      } catch {
        // Already gone: nothing to release.
      }
    }
    this.released = true;
  }
}
