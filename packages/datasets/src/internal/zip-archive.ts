import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { datasetError } from "../errors";
import { type DatasetLimits, DEFAULT_DATASET_LIMITS, limitExceeded } from "../limits";
import { inflateCapped } from "./inflate";

interface ZipEntry {
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/**
 * @internal A read-only ZIP archive read in place (central directory at open, one entry per `read`), with ZIP64
 * support for archives over 4 GB such as DenseDepth's `nyu_data.zip`. Methods: stored and deflate.
 *
 * Every offset and length read from the archive is checked against the file size before anything is read or
 * allocated, and an entry is inflated with its output capped at the size its header declares (itself checked
 * against a limit first), so a damaged or hostile archive fails with a `KoraError`, in time and memory bounded by
 * what it really holds.
 */
export class ZipArchive {
  private readonly entries = new Map<string, ZipEntry>();
  private fd: number | undefined;
  private fileSize = 0;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Opens `path` and reads its central directory.
   *
   * @throws KoraError `DATASET_NOT_FOUND` (cannot open), `INVALID_DATASET_FILE` (not a regular file, or damaged).
   */
  static open(path: string): ZipArchive {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (cause) {
      throw datasetError("DATASET_NOT_FOUND", `cannot open ${path}`, path, cause);
    }
    const archive = new ZipArchive(path, fd);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) archive.fail("not a regular file (a directory?); expected a ZIP file");
      archive.fileSize = stats.size;
      archive.readDirectory(stats.size);
    } catch (error) {
      archive.close();
      throw error;
    }
    return archive;
  }

  /** Entry names in central-directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** True when the archive holds `name`. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * Reads and decompresses entry `name`, whose declared size may be at most `maxBytes` (limit `limit`), and, when
   * deflated, at most `maxRatio` times its compressed size (see `DatasetLimits.maxInflateRatio`).
   *
   * @throws KoraError `DATASET_NOT_FOUND` (no such entry), `INVALID_DATASET_FILE` (damaged), `LIMIT_EXCEEDED`.
   */
  read(
    name: string,
    maxBytes: number = DEFAULT_DATASET_LIMITS.maxFileBytes,
    limit: keyof DatasetLimits = "maxFileBytes",
    maxRatio: number = DEFAULT_DATASET_LIMITS.maxInflateRatio,
  ): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) {
      throw datasetError("DATASET_NOT_FOUND", `${this.path}: no entry ${name}`, this.path);
    }
    const local = this.bytes(entry.localHeaderOffset, 30);
    const view = new DataView(local.buffer, local.byteOffset, 30);
    if (view.getUint32(0, true) !== 0x04034b50) this.fail(`bad local header for ${name}`);
    const start = entry.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    if (start + entry.compressedSize > this.fileSize) {
      this.fail(
        `${name}: ${entry.compressedSize} compressed bytes at byte ${start} run past the end of the file`,
      );
    }
    const source = `${this.path}: ${name}`;
    if (entry.size > maxBytes)
      limitExceeded(source, "the declared uncompressed size in bytes", entry.size, limit, maxBytes);
    if (entry.compressedSize > maxBytes) {
      limitExceeded(source, "the compressed size in bytes", entry.compressedSize, limit, maxBytes);
    }
    if (entry.method !== 0 && entry.method !== 8) {
      this.fail(`${name} uses compression method ${entry.method} (only stored and deflate)`);
    }
    if (entry.method === 0 && entry.compressedSize !== entry.size) {
      this.fail(`${name} is stored with ${entry.compressedSize} bytes but declares ${entry.size}`);
    }
    const raw = this.bytes(start, entry.compressedSize);
    if (entry.method === 0) return raw;
    return inflateCapped("raw", raw, this.path, name, {
      max: maxBytes,
      maxRatio,
      limit,
      declared: entry.size,
    });
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private fail(why: string): never {
    throw datasetError("INVALID_DATASET_FILE", `${this.path}: ${why}`, this.path);
  }

  /** `length` bytes at `position`, after checking that they lie inside the file (so nothing huge is allocated). */
  private bytes(position: number, length: number): Uint8Array {
    if (this.fd === undefined) throw datasetError("INVALID_ARGUMENT", `${this.path} was closed`, this.path);
    if (
      !Number.isSafeInteger(position) ||
      !Number.isSafeInteger(length) ||
      position < 0 ||
      length < 0 ||
      position + length > this.fileSize
    ) {
      this.fail(
        `a record at byte ${position} of ${length} bytes runs past the end of the ${this.fileSize}-byte file`,
      );
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(this.fd, out, done, length - done, position + done);
      } catch (cause) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${this.path}: cannot read at byte ${position + done}`,
          this.path,
          cause,
        );
      }
      if (n === 0) this.fail(`unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return out;
  }

  private readDirectory(fileSize: number): void {
    const tailLength = Math.min(fileSize, 22 + 65_535);
    const tail = this.bytes(fileSize - tailLength, tailLength);
    const tailView = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tailView.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail("not a ZIP file (no end-of-central-directory record)");
    let count = tailView.getUint16(eocd + 10, true);
    let directorySize = tailView.getUint32(eocd + 12, true);
    let directoryOffset = tailView.getUint32(eocd + 16, true);
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || tailView.getUint32(locator, true) !== 0x07064b50) this.fail("missing ZIP64 locator");
      const zip64Offset = Number(tailView.getBigUint64(locator + 8, true));
      const record = this.bytes(zip64Offset, 56);
      const view = new DataView(record.buffer);
      if (view.getUint32(0, true) !== 0x06064b50) this.fail("bad ZIP64 end-of-central-directory record");
      count = Number(view.getBigUint64(32, true));
      directorySize = Number(view.getBigUint64(40, true));
      directoryOffset = Number(view.getBigUint64(48, true));
    }
    const directory = this.bytes(directoryOffset, directorySize);
    const view = new DataView(directory.buffer);
    const decoder = new TextDecoder();
    let offset = 0;
    for (let k = 0; k < count; k++) {
      if (offset + 46 > directory.length || view.getUint32(offset, true) !== 0x02014b50) {
        this.fail(`bad central directory entry ${k}`);
      }
      const nameLength = view.getUint16(offset + 28, true);
      const extraLength = view.getUint16(offset + 30, true);
      const commentLength = view.getUint16(offset + 32, true);
      if (offset + 46 + nameLength + extraLength + commentLength > directory.length) {
        this.fail(`central directory entry ${k} runs past the end of the directory`);
      }
      let compressedSize = view.getUint32(offset + 20, true);
      let size = view.getUint32(offset + 24, true);
      let localHeaderOffset = view.getUint32(offset + 42, true);
      const name = decoder.decode(directory.subarray(offset + 46, offset + 46 + nameLength));
      // ZIP64 extended information: present fields follow the order size, compressed size, offset.
      let extra = offset + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = view.getUint16(extra, true);
        const length = view.getUint16(extra + 2, true);
        if (id === 0x0001) {
          let field = extra + 4;
          const fieldEnd = Math.min(extraEnd, field + length);
          const next = (): number => {
            if (field + 8 > fieldEnd) this.fail(`entry ${k}: ZIP64 extra field too short`);
            const value = Number(view.getBigUint64(field, true));
            field += 8;
            return value;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        extra += 4 + length;
      }
      this.entries.set(name, {
        method: view.getUint16(offset + 10, true),
        compressedSize,
        size,
        localHeaderOffset,
      });
      offset = extraEnd + commentLength;
    }
  }
}
