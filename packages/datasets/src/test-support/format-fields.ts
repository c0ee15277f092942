import type { Field } from "./fuzz-files";

// Where the length, count and offset fields of small valid files sit, for the fuzz suites' field-aware edits.

/** The tag fields (type and size, little-endian) of a level-5 MAT-file, descending into miMATRIX elements. */
export function matFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  const walk = (start: number, end: number) => {
    for (let at = start; at + 8 <= end; ) {
      const type = view.getUint32(at, true);
      const size = view.getUint32(at + 4, true);
      fields.push({ at, width: 4, little: true }, { at: at + 4, width: 4, little: true });
      if (type === 14) walk(at + 8, Math.min(end, at + 8 + size));
      at += 8 + (type === 15 ? size : Math.ceil(size / 8) * 8);
    }
  };
  walk(128, bytes.length);
  return fields;
}

/** The dimension sizes (big-endian uint32) and the type / rank bytes of an IDX file. */
export function idxFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [
    { at: 2, width: 1, little: false },
    { at: 3, width: 1, little: false },
  ];
  for (let d = 0; d < bytes[3]!; d++) fields.push({ at: 4 + 4 * d, width: 4, little: false });
  return fields;
}

/** Every chunk length (big-endian uint32) of a PNG, and the IHDR width, height, bit depth and colour type. */
export function pngFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [
    { at: 16, width: 4, little: false },
    { at: 20, width: 4, little: false },
    { at: 24, width: 1, little: false },
    { at: 25, width: 1, little: false },
  ];
  for (let at = 8; at + 8 <= bytes.length; at += 12 + view.getUint32(at)) {
    fields.push({ at, width: 4, little: false });
  }
  return fields;
}

/** The end record's counts, size and offset, and each entry's sizes, name / extra lengths and offsets (no ZIP64). */
export function zipFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  const le = (at: number, width: 2 | 4): Field => ({ at, width, little: true });
  const fields: Field[] = [le(end + 8, 2), le(end + 10, 2), le(end + 12, 4), le(end + 16, 4)];
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  for (let k = 0; k < count; k++) {
    fields.push(
      le(at + 20, 4),
      le(at + 24, 4),
      le(at + 28, 2),
      le(at + 30, 2),
      le(at + 32, 2),
      le(at + 42, 4),
    );
    const local = view.getUint32(at + 42, true);
    fields.push(le(local + 18, 4), le(local + 22, 4), le(local + 26, 2), le(local + 28, 2));
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return fields;
}
