import { randomBytes } from "node:crypto";
import { constants, readFileSync, unlinkSync } from "node:fs";
import { link, open, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";

/** The lock file of a run folder. */
export const RUN_LOCK_FILE = "run.lock";

/**
 * How old (by its modification time) an unreadable lock must be before it counts as stale. A lock is written
 * whole before it gets its name, so an unreadable one is damage or an older kora still writing it (which takes
 * milliseconds): a fresh one is left alone and the folder counts as in use.
 */
export const UNREADABLE_LOCK_STALE_SECONDS = 10;

/** The most bytes of a lock file read: a holder's JSON is about 150; anything longer is not a lock kora wrote. */
const MAX_LOCK_BYTES = 4096;

/** What a lock file records about its holder. */
interface LockHolder {
  pid: number;
  hostname: string;
  command: string;
  started: string;
}

/** A held lock; {@link RunLock.release} removes it (also done on process exit, e.g. a second Ctrl-C). */
export interface RunLock {
  path: string;
  release(): Promise<void>;
}

/** A lock file as read: its text and which file it was (a lock replaced meanwhile is another file). */
interface LockFile {
  text: string;
  ino: number;
  dev: number;
  mtimeMs: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid === "number" && Number.isInteger(value.pid) && value.pid > 0) {
      return {
        pid: value.pid,
        hostname: String(value.hostname ?? ""),
        command: String(value.command ?? "?"),
        started: String(value.started ?? "?"),
      };
    }
  } catch {
    // Not a holder: damage, or an older kora that creates the file first and writes it afterwards.
  }
  return null;
}

function writeError(path: string, error: unknown, what = "the run folder is not writable"): KoraError {
  const code = (error as NodeJS.ErrnoException).code;
  return new KoraError({
    code: code === "ENOSPC" || code === "EDQUOT" ? "DISK_FULL" : "IO_ERROR",
    message: `cannot write the lock ${path}${code === undefined ? "" : ` (${code})`}: ${what}`,
    cause: error,
  });
}

/** Errors of `link` on file systems without hard links (FAT, some network and FUSE file systems). */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/**
 * Gives the complete lock file `temp` the name `path` unless that name exists (`link` is atomic and fails with
 * EEXIST), so no process ever sees a lock without its holder. Where the file system has no hard links, the lock
 * is created exclusively and written afterwards; a reader that finds it still empty then counts it as held (see
 * {@link UNREADABLE_LOCK_STALE_SECONDS}).
 */
async function place(temp: string, path: string, text: string): Promise<boolean> {
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw writeError(path, error);
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw writeError(path, error);
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  return true;
}

/** Reads a lock (at most {@link MAX_LOCK_BYTES}), or `null` when there is none. */
async function readLock(path: string): Promise<LockFile | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking: a FIFO named run.lock must not wait for a writer (it is then refused as not a file).
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new KoraError({
      code: "IO_ERROR",
      message: `cannot read the lock ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      cause: error,
    });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new KoraError({
        code: "IO_ERROR",
        message: `${path} is not a file: remove it, it is not a lock kora wrote`,
      });
    }
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
    return {
      text: buffer.subarray(0, bytesRead).toString("utf8"),
      ino: info.ino,
      dev: info.dev,
      mtimeMs: info.mtimeMs,
    };
  } finally {
    await handle.close();
  }
}

function same(a: LockFile, b: LockFile): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.text === b.text;
}

/**
 * Replaces the stale lock `judged` by this process's. Only the holder of `run.lock.takeover` (held for
 * milliseconds, created the same way as the lock) removes a lock that is not its own, and only when `path` is
 * still the very file that was judged stale: two processes that both found the lock stale can never delete each
 * other's fresh lock. A guard left by a process that died in those milliseconds is removed once it is old.
 *
 * @returns false when another process is taking the lock over, or the lock changed since it was judged.
 */
async function takeOver(temp: string, path: string, text: string, judged: LockFile): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await place(temp, guard, text))) {
    const info = await stat(guard).catch(() => null);
    if (info !== null && Date.now() - info.mtimeMs > UNREADABLE_LOCK_STALE_SECONDS * 1000) {
      await unlink(guard).catch(() => undefined);
    }
    return false;
  }
  try {
    const now = await readLock(path);
    if (now !== null) {
      if (!same(now, judged)) return false;
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw writeError(path, error, "cannot remove the stale lock");
      });
    }
    return await place(temp, path, text);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function held(path: string, text: string): RunLock {
  const mine = text.trim();
  const onExit = (): void => {
    try {
      if (readFileSync(path, "utf8").trim() === mine) unlinkSync(path);
    } catch {
      // Already gone.
    }
  };
  process.on("exit", onExit);
  return {
    path,
    async release() {
      process.off("exit", onExit);
      onExit();
    },
  };
}

/**
 * Takes the lock of a run folder (`run.lock`, holding pid, host, command and start time), so that two runs never
 * write the same folder. The holder's JSON is written to a temporary file of the folder first and then linked to
 * `run.lock` (atomic, exclusive), so the lock is never seen empty or half written. A lock whose process is gone
 * (same host, pid not running) is stale, and so is an unreadable one older than
 * {@link UNREADABLE_LOCK_STALE_SECONDS}: it is taken over and `onNote` says so.
 *
 * @throws KoraError `RUN_LOCKED` naming the holder when a live process (or one on another host) holds it, or when
 * the lock is unreadable but fresh; `IO_ERROR` / `DISK_FULL` naming the lock when it cannot be written.
 */
export async function lockRunFolder(
  dir: string,
  command: string,
  onNote: (message: string) => void,
): Promise<RunLock> {
  const path = join(dir, RUN_LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    command,
    started: new Date().toISOString(),
  };
  const text = `${JSON.stringify(holder)}\n`;
  const temp = join(dir, `.${RUN_LOCK_FILE}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, { flag: "wx" });
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw writeError(path, error);
  }
  try {
    // A few tries: after a lock was released meanwhile, or after a stale one was taken over by another process.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await place(temp, path, text)) return held(path, text);
      const current = await readLock(path);
      if (current === null) continue; // released meanwhile: try again
      const other = parseHolder(current.text);
      if (other !== null && (other.hostname !== holder.hostname || alive(other.pid))) {
        const where = other.hostname === holder.hostname ? "" : ` on host ${other.hostname}`;
        throw new KoraError({
          code: "RUN_LOCKED",
          message: `${dir} is in use by kora ${other.command} (pid ${other.pid}${where}, since ${other.started}); wait for it to end, or remove ${path} if that process is gone`,
          path,
        });
      }
      const age = Math.max(0, Math.round((Date.now() - current.mtimeMs) / 1000));
      if (other === null && !(Date.now() - current.mtimeMs > UNREADABLE_LOCK_STALE_SECONDS * 1000)) {
        throw new KoraError({
          code: "RUN_LOCKED",
          message: `${dir} is in use: its lock ${path} is unreadable and ${age} s old (another process may be writing it); try again, or remove it if no kora process uses the folder`,
          path,
        });
      }
      if (await takeOver(temp, path, text, current)) {
        onNote(
          other === null
            ? `kora: took over the unreadable (stale) lock ${path}, last written ${age} s ago`
            : `kora: took over the stale lock of ${path}: pid ${other.pid} (kora ${other.command}, since ${other.started}) is no longer running`,
        );
        return held(path, text);
      }
    }
    throw new KoraError({
      code: "RUN_LOCKED",
      message: `${dir} is in use: another process took its lock ${path}`,
      path,
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
