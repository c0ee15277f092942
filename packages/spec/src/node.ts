/**
 * Node.js file helpers of `@kora/spec` (import from `@kora/spec/node`): adapter and peft folders on disk, with
 * atomic writes. The main entry stays free of `node:` imports so it runs in browsers.
 * @packageDocumentation
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type AdapterFile,
  decodeAdapter,
  type EncodeAdapterInput,
  encodeAdapter,
} from "./adapter-file/adapter-file";
import { ADAPTER_FILES, type AdapterManifest, MAX_ADAPTER_MANIFEST_BYTES } from "./adapter-file/manifest";
import { KoraError } from "./errors";
import type { SpecErrorCode } from "./errors/kora-error";
import { writeFileAtomic } from "./node/atomic-write";
import type { BackboneShape } from "./params/backbone-shape";
import {
  decodePeftAdapter,
  type EncodePeftAdapterInput,
  encodePeftAdapter,
  PEFT_FILES,
} from "./peft/peft-adapter";

export { writeFileAtomic } from "./node/atomic-write";

/**
 * Reads a whole file. A missing or unreadable file is a `KoraError` (`FILE_NOT_FOUND` / `IO_ERROR`) whose message
 * starts with `what` (e.g. `"adapter manifest"` or a CLI flag) and names the path.
 */
export async function readFileBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KoraError<SpecErrorCode>({
      code: code === "ENOENT" ? "FILE_NOT_FOUND" : "IO_ERROR",
      message:
        code === "ENOENT"
          ? `${what}: ${path} does not exist`
          : `${what}: cannot read ${path} (${code ?? (error as Error).message})`,
      cause: error,
    });
  }
}

/**
 * The size of the regular file at `path`, or `undefined` when it cannot be examined (then `readFileBytes` reports
 * the missing or unreadable file with the right code). Anything but a regular file (a folder, a FIFO, a device
 * such as /dev/zero, which never ends) is `IO_ERROR` before it is opened: a folder's files are never those.
 */
async function regularFileSize(path: string, what: string): Promise<number | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  if (!info.isFile()) {
    throw new KoraError<SpecErrorCode>({
      code: "IO_ERROR",
      message: `${what}: ${path} is not a regular file`,
    });
  }
  return info.size;
}

/** Reads a folder's tensor file, refusing anything but a regular file first (see {@link regularFileSize}). */
async function readTensorFile(path: string, what: string): Promise<Uint8Array> {
  await regularFileSize(path, what);
  return readFileBytes(path, what);
}

/**
 * Reads a small JSON file (a manifest or config) as text. One over {@link MAX_ADAPTER_MANIFEST_BYTES} is refused
 * from its size before it is read, and anything but a regular file before it is opened.
 */
async function readManifestText(path: string, what: string): Promise<string> {
  const size = await regularFileSize(path, what);
  if (size !== undefined && size > MAX_ADAPTER_MANIFEST_BYTES) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ADAPTER_FILE",
      message: `${what}: ${path} is ${size} bytes, larger than the ${MAX_ADAPTER_MANIFEST_BYTES} a manifest may have`,
    });
  }
  return new TextDecoder().decode(await readFileBytes(path, what));
}

/**
 * Writes an adapter folder (`adapter.json` + `adapter.safetensors`). Everything is validated and encoded before
 * the first byte is written; each file is replaced atomically (the tensors first, the manifest last), so a crash
 * never leaves a partial file. Other files in `dir` are left alone.
 */
export async function writeAdapterDir(dir: string, input: EncodeAdapterInput): Promise<AdapterManifest> {
  const encoded = encodeAdapter(input);
  await writeFileAtomic(join(dir, ADAPTER_FILES.tensors), encoded.safetensors);
  await writeFileAtomic(join(dir, ADAPTER_FILES.manifest), encoded.manifestJson);
  return encoded.manifest;
}

/** Options of {@link readAdapterDir}. */
export interface ReadAdapterDirOptions {
  /** The model the adapter will be applied to; a different shape is a `SHAPE_MISMATCH` naming both shapes. */
  backbone?: BackboneShape;
}

/**
 * Reads and validates an adapter folder written by {@link writeAdapterDir}.
 *
 * @throws KoraError `FILE_NOT_FOUND`, `INVALID_ADAPTER_FILE`, `INVALID_SAFETENSORS`, `INVALID_SPEC`, `SHAPE_MISMATCH`.
 */
export async function readAdapterDir(dir: string, options: ReadAdapterDirOptions = {}): Promise<AdapterFile> {
  const manifest = await readManifestText(join(dir, ADAPTER_FILES.manifest), "adapter manifest");
  const safetensors = await readTensorFile(join(dir, ADAPTER_FILES.tensors), "adapter tensors");
  return decodeAdapter({
    manifest,
    safetensors,
    source: dir,
    ...(options.backbone === undefined ? {} : { backbone: options.backbone }),
  });
}

/** Writes a LoRA adapter as a peft folder (`adapter_config.json` + `adapter_model.safetensors`), atomically. */
export async function writePeftDir(dir: string, input: EncodePeftAdapterInput): Promise<void> {
  const encoded = encodePeftAdapter(input);
  await writeFileAtomic(join(dir, PEFT_FILES.tensors), encoded.safetensors);
  await writeFileAtomic(join(dir, PEFT_FILES.config), encoded.configJson);
}

/** Reads a peft LoRA folder for a ViT of shape `backbone` (see `decodePeftAdapter`). */
export async function readPeftDir(
  dir: string,
  backbone: BackboneShape,
): Promise<ReturnType<typeof decodePeftAdapter>> {
  const config = await readManifestText(join(dir, PEFT_FILES.config), "peft config");
  const safetensors = await readTensorFile(join(dir, PEFT_FILES.tensors), "peft tensors");
  return decodePeftAdapter({ config, safetensors, backbone });
}
