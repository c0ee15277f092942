export {
  FORBIDDEN_KEYS,
  type JsonScanOptions,
  type JsonTextProblem,
  MAX_JSON_DEPTH,
  scanJsonText,
  scanJsonValue,
} from "./json-limits";
