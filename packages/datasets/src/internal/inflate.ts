import { constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from "node:zlib";
import { datasetError } from "../errors";
import { type DatasetLimits, INFLATE_RATIO_FLOOR, limitExceeded } from "../limits";

/** @internal The three deflate containers the readers meet: gzip (IDX), zlib (MAT v5), raw (ZIP). */
export type DeflateFormat = "gzip" | "zlib" | "raw";

/** Deflate's best case is about 1032:1, so `n` compressed bytes never inflate to more than this. */
const maxInflated = (compressed: number) => compressed * 1032 + 1024;

function run(format: DeflateFormat, bytes: Uint8Array, options: ZlibOptions): Buffer {
  if (format === "gzip") return gunzipSync(bytes, options);
  if (format === "zlib") return inflateSync(bytes, options);
  return inflateRawSync(bytes, options);
}

const isTooLarge = (error: unknown) =>
  error instanceof RangeError && (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";

/** @internal How much a decompression may produce, and which error says so when it produces more. */
export interface InflateCap {
  /** The cap in bytes. */
  max: number;
  /**
   * The largest ratio of output to compressed input (`limits.maxInflateRatio`): the output may also be no more than
   * `maxRatio` × the compressed size, or `INFLATE_RATIO_FLOOR` when that is more.
   */
  maxRatio: number;
  /** The limit behind `max` (for the `LIMIT_EXCEEDED` message). */
  limit: keyof DatasetLimits;
  /** The limit's value, when `max` is what is left of it (default `max`). */
  limitValue?: number;
  /**
   * The uncompressed size the container declares, when it declares one (already checked against `max`): more
   * output than this is a damaged or lying file (`INVALID_DATASET_FILE`), not a limit to raise.
   */
  declared?: number;
  /** With `declared`: the output must be exactly that long (default), or at most that long (`false`). */
  exact?: boolean;
}

/**
 * @internal Decompresses `bytes`, stopping as soon as the output passes the cap (zlib's `maxOutputLength`: memory
 * stays within the cap, and time within the input read so far). The cap is the smaller of `cap.max` and the ratio
 * cap, max(`cap.maxRatio` × `bytes.length`, `INFLATE_RATIO_FLOOR`); a declared size over the ratio cap is refused
 * before anything is inflated.
 *
 * @throws KoraError `INVALID_DATASET_FILE` (corrupt stream, or more output than declared), `LIMIT_EXCEEDED`.
 */
export function inflateCapped(
  format: DeflateFormat,
  bytes: Uint8Array,
  source: string,
  what: string,
  cap: InflateCap,
): Uint8Array {
  const byRatio = Math.max(INFLATE_RATIO_FLOOR, cap.maxRatio * bytes.length);
  const overRatio = (output: number): never =>
    limitExceeded(
      source,
      `the decompression ratio of ${what} (${cap.declared === undefined ? "more than " : ""}${output} bytes from ${bytes.length} compressed; up to ${INFLATE_RATIO_FLOOR} bytes are always allowed)`,
      Math.ceil(output / Math.max(1, bytes.length)),
      "maxInflateRatio",
      cap.maxRatio,
    );
  if (cap.declared !== undefined && cap.declared > byRatio) overRatio(cap.declared);
  const max = Math.max(1, cap.declared ?? Math.min(cap.max, byRatio));
  let out: Buffer;
  try {
    out = run(format, bytes, { maxOutputLength: max });
  } catch (cause) {
    if (!isTooLarge(cause)) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${source}: corrupt compressed data in ${what}`,
        source,
        cause,
      );
    }
    if (cap.declared !== undefined) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${source}: ${what} inflates to more than the ${cap.declared} bytes its header declares`,
        source,
        cause,
      );
    }
    if (byRatio < cap.max) overRatio(max);
    return limitExceeded(
      source,
      `the decompressed size of ${what} (bytes)`,
      max + 1,
      cap.limit,
      cap.limitValue ?? cap.max,
    );
  }
  if (cap.declared !== undefined && cap.exact !== false && out.byteLength !== cap.declared) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: ${what} inflates to ${out.byteLength} bytes, but its header declares ${cap.declared}`,
      source,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * @internal The start of a compressed stream: what the first `compressedBytes` bytes of input inflate to (a
 * truncated stream is fine here), so a reader can check the header inside before inflating the rest.
 *
 * @throws KoraError `INVALID_DATASET_FILE` for a corrupt stream.
 */
export function inflatePrefix(
  format: DeflateFormat,
  bytes: Uint8Array,
  compressedBytes: number,
  source: string,
): Uint8Array {
  // Leave out the checksum trailer: the probe only needs data, and a short file's bad checksum is reported by the
  // full inflation that follows.
  const trailer = format === "gzip" ? 8 : format === "zlib" ? 4 : 0;
  const input = bytes.subarray(0, Math.max(0, Math.min(compressedBytes, bytes.length - trailer)));
  try {
    const out = run(format, input, {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: maxInflated(input.length),
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    throw datasetError("INVALID_DATASET_FILE", `${source}: corrupt ${format} stream`, source, cause);
  }
}
