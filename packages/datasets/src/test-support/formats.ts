import { constants, deflateRawSync, deflateSync } from "node:zlib";

// Writers of small files in the exact formats the readers take, shared by the readers' tests and fuzz suites.

/** CRC-32 (IEEE), as the ZIP format requires. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Writes a ZIP archive in the PKWARE format: deflate or stored entries, optionally with ZIP64 records. */
/**
 * An entry given already deflated, with the sizes its headers declare (which may lie): how the tests build zip
 * bombs without compressing gigabytes.
 */
export interface PreparedEntry {
  deflated: Uint8Array;
  /** Uncompressed size written in the headers. */
  size: number;
}

export function zipBytes(files: Record<string, Uint8Array | PreparedEntry>, zip64: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  let index = 0;
  for (const [name, file] of Object.entries(files)) {
    const prepared = file instanceof Uint8Array ? undefined : file;
    const data = file instanceof Uint8Array ? file : new Uint8Array(0);
    const deflate = prepared !== undefined || index++ % 2 === 0;
    const body = prepared?.deflated ?? (deflate ? new Uint8Array(deflateRawSync(data)) : data);
    const size = prepared?.size ?? data.length;
    const nameBytes = new TextEncoder().encode(name);
    const extra = zip64 ? new Uint8Array(4 + 24) : new Uint8Array(0);
    if (zip64) {
      const view = new DataView(extra.buffer);
      view.setUint16(0, 0x0001, true);
      view.setUint16(2, 24, true);
      view.setBigUint64(4, BigInt(size), true);
      view.setBigUint64(12, BigInt(body.length), true);
      view.setBigUint64(20, BigInt(offset), true);
    }
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, deflate ? 8 : 0, true);
    lv.setUint32(14, crc32(data), true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const entry = new Uint8Array(46 + nameBytes.length + extra.length);
    const cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, zip64 ? 45 : 20, true);
    cv.setUint16(10, deflate ? 8 : 0, true);
    cv.setUint32(16, crc32(data), true);
    cv.setUint32(20, zip64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, zip64 ? 0xffffffff : size, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, zip64 ? 0xffffffff : offset, true);
    entry.set(nameBytes, 46);
    entry.set(extra, 46 + nameBytes.length);
    parts.push(local, body);
    central.push(entry);
    offset += local.length + body.length;
  }
  const directoryOffset = offset;
  const directorySize = central.reduce((sum, e) => sum + e.length, 0);
  parts.push(...central);
  const count = central.length;
  if (zip64) {
    const record = new Uint8Array(56);
    const rv = new DataView(record.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(count), true);
    rv.setBigUint64(32, BigInt(count), true);
    rv.setBigUint64(40, BigInt(directorySize), true);
    rv.setBigUint64(48, BigInt(directoryOffset), true);
    const locator = new Uint8Array(20);
    const loc = new DataView(locator.buffer);
    loc.setUint32(0, 0x07064b50, true);
    loc.setBigUint64(8, BigInt(directoryOffset + directorySize), true);
    loc.setUint32(16, 1, true);
    parts.push(record, locator);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, zip64 ? 0xffff : count, true);
  ev.setUint16(10, zip64 ? 0xffff : count, true);
  ev.setUint32(12, zip64 ? 0xffffffff : directorySize, true);
  ev.setUint32(16, zip64 ? 0xffffffff : directoryOffset, true);
  parts.push(end);
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A level-5 MAT-file (as MATLAB's `save -v7`) holding double column vectors, optionally zlib-compressed. */
export function matV5(variables: Record<string, number[]>, compress: boolean): Uint8Array {
  const chunks: Uint8Array[] = [];
  const header = new Uint8Array(128).fill(0x20);
  header.set(
    new TextEncoder().encode("MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024"),
  );
  header.fill(0, 116, 124);
  header.set([0x00, 0x01, 0x49, 0x4d], 124); // version 0x0100 little-endian, then "IM"
  chunks.push(header);
  const element = (type: number, body: Uint8Array) => {
    const padded = new Uint8Array(8 + Math.ceil(body.length / 8) * 8);
    const view = new DataView(padded.buffer);
    view.setUint32(0, type, true);
    view.setUint32(4, body.length, true);
    padded.set(body, 8);
    return padded;
  };
  const concat = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  };
  for (const [name, values] of Object.entries(variables)) {
    const flags = new Uint8Array(8);
    new DataView(flags.buffer).setUint32(0, 6, true); // mxDOUBLE_CLASS
    const dims = new Uint8Array(8);
    new DataView(dims.buffer).setInt32(0, values.length, true);
    new DataView(dims.buffer).setInt32(4, 1, true);
    const data = new Uint8Array(values.length * 8);
    values.forEach((v, i) => {
      new DataView(data.buffer).setFloat64(i * 8, v, true);
    });
    const matrix = element(
      14,
      concat([
        element(6, flags),
        element(5, dims),
        element(1, new TextEncoder().encode(name)),
        element(9, data),
      ]),
    );
    if (compress) {
      const zipped = deflateSync(matrix);
      const tag = new Uint8Array(8);
      new DataView(tag.buffer).setUint32(0, 15, true);
      new DataView(tag.buffer).setUint32(4, zipped.length, true);
      chunks.push(tag, zipped);
    } else {
      chunks.push(matrix);
    }
  }
  return concat(chunks);
}

/** Writes an IDX file exactly as the MNIST spec defines it (big-endian header). */
export function idxBytes(typeCode: number, shape: number[], body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, (typeCode << 8) | shape.length, false);
  shape.forEach((size, d) => {
    view.setUint32(4 + 4 * d, size, false);
  });
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/**
 * A raw deflate stream that inflates to `prefix` followed by `zeroMiB` MiB of zero bytes, about 1 KB per MiB: the
 * same sync-flushed block of a compressed MiB of zeros repeated (its back-references have distance 1, so it is
 * valid after any byte 0), then an empty final block. Builds decompression bombs in milliseconds.
 */
export function zeroBombRaw(zeroMiB: number, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = deflateRawSync(Uint8Array.from([...prefix, 0]), { finishFlush: constants.Z_SYNC_FLUSH });
  const block = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  const out = new Uint8Array(head.length + block.length * zeroMiB + 2);
  out.set(head);
  for (let k = 0; k < zeroMiB; k++) out.set(block, head.length + k * block.length);
  out.set([0x03, 0x00], out.length - 2); // BFINAL=1, fixed Huffman, end-of-block
  return out;
}

/** {@link zeroBombRaw} in a gzip member (the CRC-32 is left 0: the readers must stop long before checking it). */
export function zeroBombGzip(zeroMiB: number, prefix?: Uint8Array): Uint8Array {
  const raw = zeroBombRaw(zeroMiB, prefix);
  const out = new Uint8Array(10 + raw.length + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  out.set(raw, 10);
  return out;
}

/** {@link zeroBombRaw} in a zlib stream (as MAT v5 `miCOMPRESSED` elements hold; Adler-32 left 0, see above). */
export function zeroBombZlib(zeroMiB: number, prefix?: Uint8Array): Uint8Array {
  const raw = zeroBombRaw(zeroMiB, prefix);
  const out = new Uint8Array(2 + raw.length + 4);
  out.set([0x78, 0x9c]);
  out.set(raw, 2);
  return out;
}

/**
 * A PNG from its IHDR fields and the bytes of one IDAT chunk (which need not match the header: hostile files), with
 * `extra` chunks (type, data) between IHDR and IDAT.
 */
export function pngBytes(
  width: number,
  height: number,
  bitDepth: number,
  colorType: number,
  idat: Uint8Array,
  extra: readonly [string, Uint8Array][] = [],
): Uint8Array {
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, body.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(body, 8);
    view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...extra.map(([type, body]) => chunk(type, body)),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
