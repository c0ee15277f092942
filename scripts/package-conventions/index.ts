// Checks of the conventions every @kora package follows, run by each package's `package-conventions.test.ts`:
// a browser-safe root entry (Node behind `./node`), typed and documented error codes, a truthful sideEffects.
export { type BrowserEntryOptions, browserEntryViolations, isNodeOnlySpecifier } from "./browser-entry";
export {
  type ErrorCodeScanOptions,
  readmeErrorCodes,
  thrownErrorCodes,
  untypedKoraErrors,
} from "./error-codes";
export { importTimeEffects, sideEffectsViolations } from "./side-effects";
export { exportEntries, importsOf, packageSources, reachableFiles } from "./source-graph";
