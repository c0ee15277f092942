import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { FORBIDDEN_KEYS, type JsonTextProblem, MAX_JSON_DEPTH, scanJsonText, scanJsonValue } from "../json";
import { methodDefinition } from "../methods/registry";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import { type BackboneShape, validateBackboneShape } from "../params/backbone-shape";
import { readSafetensors, toFloat32, writeSafetensors } from "../safetensors";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { AdapterSpec } from "../spec/types";
import { englishMessages } from "../spec/zod-messages";
import {
  ADAPTER_FILES,
  ADAPTER_FORMAT,
  ADAPTER_FORMAT_VERSION,
  type AdapterManifest,
  LIBRARY,
  MAX_ADAPTER_MANIFEST_BYTES,
  manifestSchema,
} from "./manifest";

/** A float32 tensor of an adapter (row-major, PyTorch `[out, in]` weights). */
export interface AdapterTensor {
  /** Dimensions. */
  shape: number[];
  /** Row-major elements. */
  data: Float32Array;
}

/** An adapter in memory: manifest + tensors by name (names as in `adapterTensorLayout`). */
export interface AdapterFile {
  /** The validated manifest. */
  manifest: AdapterManifest;
  /** Tensors by name. */
  tensors: Record<string, AdapterTensor>;
}

/** Input of {@link encodeAdapter}. */
export interface EncodeAdapterInput {
  /** The adapter spec (validated and completed with defaults). */
  spec: AdapterSpec;
  /** The backbone shape the adapter belongs to. */
  backbone: BackboneShape;
  /** Every tensor of `adapterTensorLayout(spec, backbone, { includeHead })`, by name. */
  tensors: Record<string, AdapterTensor>;
  /** Store the head too. Default: true when `tensors` holds `head.weight`. */
  includeHead?: boolean;
  /** Adapter name. Default `"default"`. */
  name?: string;
  /** String metadata stored in the manifest and the safetensors header. */
  metadata?: Record<string, string>;
}

/** The two encoded files of an adapter folder. */
export interface EncodedAdapter {
  /** Content of `adapter.json`. */
  manifestJson: string;
  /** Content of `adapter.safetensors`. */
  safetensors: Uint8Array;
  /** The manifest as an object. */
  manifest: AdapterManifest;
}

function invalid(message: string, path?: string, cause?: unknown): KoraError {
  return new KoraError<SpecErrorCode>({
    code: "INVALID_ADAPTER_FILE",
    message,
    ...(path === undefined ? {} : { path }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function formatBackbone(b: BackboneShape): string {
  return `{dim ${b.dim}, depth ${b.depth}, heads ${b.heads}, mlpDim ${b.mlpDim}, numClasses ${b.numClasses}, patchSize ${b.patchSize}, imageSize ${b.imageSize}, channels ${b.channels}}`;
}

/**
 * Checks that `tensors` holds exactly the tensors of `spec` on `backbone` with the right shapes.
 *
 * @throws KoraError `SHAPE_MISMATCH` naming the tensor and both shapes, or `INVALID_ADAPTER_FILE` for a missing or
 * unexpected tensor.
 */
export function validateAdapterTensors(
  spec: AdapterSpec,
  backbone: BackboneShape,
  tensors: Record<string, { shape: readonly number[]; data: { length: number } }>,
  options: { includeHead: boolean; file?: string },
): void {
  const file = options.file ?? ADAPTER_FILES.tensors;
  const layout = adapterTensorLayout(spec, backbone, { includeHead: options.includeHead });
  const expected = new Map(layout.map((t) => [t.name, t.shape]));
  for (const [name, shape] of expected) {
    const tensor = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    if (tensor === undefined) {
      throw invalid(`${file}: missing tensor ${name} (expected shape ${formatShape(shape)})`, name);
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new KoraError<SpecErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${file}: tensor ${name} has shape ${formatShape(tensor.shape)} but the spec and backbone need ${formatShape(shape)}`,
        path: name,
      });
    }
    if (tensor.data.length !== shapeSize(shape)) {
      throw invalid(
        `${file}: tensor ${name} holds ${tensor.data.length} values, shape needs ${shapeSize(shape)}`,
        name,
      );
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!expected.has(name)) {
      throw invalid(
        `${file}: unexpected tensor ${name}: not part of a ${spec.method} adapter on this backbone`,
        name,
      );
    }
  }
}

/**
 * Encodes an adapter into the two files of the KoRA-TS adapter format: `adapter.json` (format version, spec,
 * backbone shape, library version) and `adapter.safetensors` (F32 tensors named as in `adapterTensorLayout`).
 *
 * @throws KoraError `INVALID_SPEC`, `SHAPE_MISMATCH` or `INVALID_ADAPTER_FILE` when the tensors do not match.
 */
export function encodeAdapter(input: EncodeAdapterInput): EncodedAdapter {
  const spec = parseAdapterSpec(input.spec);
  validateBackboneShape(input.backbone);
  const includeHead = input.includeHead ?? Object.hasOwn(input.tensors, "head.weight");
  validateAdapterTensors(spec, input.backbone, input.tensors, { includeHead });
  const metadata = { ...(input.metadata ?? {}) };
  const manifest: AdapterManifest = {
    format: ADAPTER_FORMAT,
    formatVersion: ADAPTER_FORMAT_VERSION,
    library: { ...LIBRARY },
    name: input.name ?? "default",
    spec,
    backbone: { ...input.backbone },
    includesHead: includeHead,
    metadata,
  };
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const { name } of adapterTensorLayout(spec, input.backbone, { includeHead })) {
    const tensor = input.tensors[name] as AdapterTensor;
    tensors[name] = { dtype: "F32", shape: [...tensor.shape], data: tensor.data };
  }
  const safetensors = writeSafetensors(tensors, { format: "pt", "kora.format": ADAPTER_FORMAT, ...metadata });
  return { manifestJson: `${JSON.stringify(manifest, null, 2)}\n`, safetensors, manifest };
}

/**
 * @internal Parses a JSON manifest or config (`text`, or a value already parsed) within the readers' limits:
 * at most {@link MAX_ADAPTER_MANIFEST_BYTES} characters, nesting at most {@link MAX_JSON_DEPTH} deep, and no
 * `__proto__`/`constructor`/`prototype` key anywhere; each violation is `INVALID_ADAPTER_FILE` naming `file`.
 */
export function parseManifestJson(raw: unknown, file: string): unknown {
  let problem: JsonTextProblem | undefined;
  if (typeof raw === "string") {
    if (raw.length > MAX_ADAPTER_MANIFEST_BYTES) {
      throw invalid(
        `${file}: ${raw.length} characters, longer than the ${MAX_ADAPTER_MANIFEST_BYTES} a manifest may have`,
      );
    }
    problem = scanJsonText(raw);
  } else {
    problem = scanJsonValue(raw);
  }
  if (problem?.kind === "depth") throw invalid(`${file}: nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (problem?.kind === "forbidden-key") {
    throw invalid(`${file}: key "${problem.key}" is not allowed (at ${problem.path})`, problem.path);
  }
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw invalid(`${file}: not valid JSON (${(error as Error).message})`, undefined, error);
  }
}

/**
 * Refuses a layout that cannot match the file before building it: the spec's expected tensor count follows from
 * one block's layout times the adapted blocks, so a manifest declaring 10⁷ or 2³² blocks is judged in constant
 * time instead of allocating a layout the size of its claim. Within twice the file's tensor count (plus slack)
 * the layout is built and `validateAdapterTensors` names the first missing tensor instead.
 */
function checkLayoutSize(
  spec: AdapterSpec,
  backbone: BackboneShape,
  includeHead: boolean,
  fileTensors: number,
  file: string,
): void {
  const perBlock = methodDefinition(spec).layout({ ...spec, layers: null }, { ...backbone, depth: 1 }).length;
  const blocks = spec.layers === null ? backbone.depth : spec.layers.length;
  const head = includeHead && backbone.numClasses > 0 ? 2 : 0;
  const expected = perBlock * blocks + head;
  if (expected > 2 * fileTensors + 64) {
    throw invalid(
      `${file}: the manifest's ${spec.method} spec adapts ${blocks} blocks of a depth-${backbone.depth} backbone, which needs ${expected} tensors, but the file holds ${fileTensors}`,
      "backbone.depth",
    );
  }
}

/** Input of {@link decodeAdapter}. */
export interface DecodeAdapterInput {
  /** Content of `adapter.json` (text or already-parsed JSON). */
  manifest: string | unknown;
  /** Content of `adapter.safetensors`. */
  safetensors: Uint8Array;
  /** When given, the backbone the adapter will be applied to; a different shape is a `SHAPE_MISMATCH`. */
  backbone?: BackboneShape;
  /** Folder or label used in error messages. */
  source?: string;
}

/**
 * Decodes and validates an adapter folder's two files: the manifest against its schema and format version, the
 * spec with `parseAdapterSpec`, the stored backbone against `backbone` (when given), and every tensor's name and
 * shape against the spec. F16/BF16/F64 tensors are converted to float32.
 *
 * Total on any input, in time and memory bounded by the input's size: the manifest is capped at
 * {@link MAX_ADAPTER_MANIFEST_BYTES} and {@link MAX_JSON_DEPTH} levels, prototype keys and tensor names are refused,
 * and a manifest whose backbone would need far more tensors than the file holds is refused before its layout is built.
 *
 * @throws KoraError `INVALID_ADAPTER_FILE`, `INVALID_SPEC`, `INVALID_SAFETENSORS`, `INVALID_ARGUMENT` (a malformed
 * backbone in the manifest) or `SHAPE_MISMATCH`.
 */
export function decodeAdapter(input: DecodeAdapterInput): AdapterFile {
  const where = input.source === undefined ? "" : `${input.source}/`;
  const manifestFile = `${where}${ADAPTER_FILES.manifest}`;
  const raw = parseManifestJson(input.manifest, manifestFile);
  const parsed = manifestSchema().safeParse(raw, { error: englishMessages() });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined ? "" : issue.path.join(".");
    throw invalid(
      `${manifestFile}: field ${path || "(root)"}: ${issue?.message ?? "invalid"}`,
      path,
      parsed.error,
    );
  }
  const m = parsed.data;
  if (m.formatVersion > ADAPTER_FORMAT_VERSION) {
    throw invalid(
      `${manifestFile}: format version ${m.formatVersion} was written by a newer library (${m.library.name}@${m.library.version}); this one reads up to version ${ADAPTER_FORMAT_VERSION}`,
      "formatVersion",
    );
  }
  let spec: AdapterSpec;
  try {
    spec = parseAdapterSpec(m.spec);
  } catch (error) {
    if (KoraError.isInstance(error)) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_SPEC",
        message: `${manifestFile}: ${error.message}`,
        path: `spec.${error.path ?? ""}`,
        cause: error,
      });
    }
    throw error;
  }
  validateBackboneShape(m.backbone, `${manifestFile} backbone`);
  if (input.backbone !== undefined) {
    validateBackboneShape(input.backbone);
    const keys = Object.keys(m.backbone) as (keyof BackboneShape)[];
    const differs = keys.filter((k) => m.backbone[k] !== input.backbone?.[k]);
    if (differs.length > 0) {
      throw new KoraError<SpecErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${manifestFile}: the adapter was made for backbone ${formatBackbone(m.backbone)} but the model is ${formatBackbone(input.backbone)} (${differs.join(", ")} differ)`,
        path: `backbone.${differs[0]}`,
      });
    }
  }
  const tensorsFile = `${where}${ADAPTER_FILES.tensors}`;
  let contents: ReturnType<typeof readSafetensors>;
  try {
    contents = readSafetensors(input.safetensors);
  } catch (error) {
    if (KoraError.isInstance(error)) {
      throw new KoraError<SpecErrorCode>({
        // readSafetensors is this package's: its codes are SpecErrorCode.
        code: error.code as SpecErrorCode,
        message: `${tensorsFile}: ${error.message}`,
        cause: error,
      });
    }
    throw error;
  }
  const tensors: Record<string, AdapterTensor> = {};
  for (const [name, tensor] of Object.entries(contents.tensors)) {
    // The safetensors codec keeps any name (in a null-prototype object); an adapter's names are ours, and these
    // three would set or shadow the prototype of the plain object callers get back.
    if (FORBIDDEN_KEYS.has(name)) throw invalid(`${tensorsFile}: tensor name "${name}" is not allowed`, name);
    if (!["F32", "F16", "BF16", "F64"].includes(tensor.dtype)) {
      throw invalid(`${tensorsFile}: tensor ${name} has dtype ${tensor.dtype}, expected a float dtype`, name);
    }
    tensors[name] = { shape: [...tensor.shape], data: toFloat32(tensor) };
  }
  checkLayoutSize(spec, m.backbone, m.includesHead, Object.keys(tensors).length, tensorsFile);
  validateAdapterTensors(spec, m.backbone, tensors, { includeHead: m.includesHead, file: tensorsFile });
  const manifest: AdapterManifest = { ...m, format: ADAPTER_FORMAT, spec, backbone: m.backbone };
  return { manifest, tensors };
}
