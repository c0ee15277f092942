// Checks of the conventions every @kora package follows, run by each package's `package-conventions.test.ts`.
export {
  type ErrorCodeScanOptions,
  readmeErrorCodes,
  thrownErrorCodes,
  untypedKoraErrors,
} from "./error-codes";
export { importTimeEffects, sideEffectsViolations } from "./side-effects";
export { exportEntries, importsOf, packageSources, reachableFiles } from "./source-graph";
