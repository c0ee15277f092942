import { readFileSync, unlinkSync } from "node:fs";
import { open, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";

/** The lock file of a run folder. */
export const RUN_LOCK_FILE = "run.lock";

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
    // A torn lock file (a crash while writing it) holds nothing: it is stale.
  }
  return null;
}

async function create(path: string, holder: LockHolder): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    const code = (error as NodeJS.ErrnoException).code;
    throw new KoraError({
      code: code === "ENOSPC" || code === "EDQUOT" ? "DISK_FULL" : "IO_ERROR",
      message: `cannot write the lock ${path}${code === undefined ? "" : ` (${code})`}: the run folder is not writable`,
      cause: error,
    });
  }
  try {
    await handle.writeFile(`${JSON.stringify(holder)}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Takes the lock of a run folder (`run.lock`, created exclusively, holding pid, host, command and start time), so
 * that two runs never write the same folder. A lock whose process is gone (same host, pid not running) or that is
 * unreadable is stale: it is taken over and `onNote` says so.
 *
 * @throws KoraError `RUN_LOCKED` naming the holder when a live process (or one on another host) holds it.
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
  // Two tries: the second after removing a stale lock; losing that race to another process means it is held.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await create(path, holder)) {
      const mine = JSON.stringify(holder);
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
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch {
      continue; // released meanwhile: try again
    }
    const other = parseHolder(text);
    if (other !== null && (other.hostname !== holder.hostname || alive(other.pid))) {
      const where = other.hostname === holder.hostname ? "" : ` on host ${other.hostname}`;
      throw new KoraError({
        code: "RUN_LOCKED",
        message: `${dir} is in use by kora ${other.command} (pid ${other.pid}${where}, since ${other.started}); wait for it to end, or remove ${path} if that process is gone`,
        path,
      });
    }
    onNote(
      other === null
        ? `kora: took over the unreadable (stale) lock ${path}`
        : `kora: took over the stale lock of ${path}: pid ${other.pid} (kora ${other.command}, since ${other.started}) is no longer running`,
    );
    await unlink(path).catch(() => undefined);
  }
  throw new KoraError({
    code: "RUN_LOCKED",
    message: `${dir} is in use: another process took its lock ${path}`,
    path,
  });
}
