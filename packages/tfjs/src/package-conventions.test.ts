import { describePackageConventions } from "../../../scripts/package-conventions/describe-conventions";
import { TFJS_ERROR_CODES } from "./errors";

describePackageConventions({
  name: "@kora/tfjs",
  testFileUrl: import.meta.url,
  declared: TFJS_ERROR_CODES,
  codesName: "TFJS_ERROR_CODES",
  typeName: "TfjsErrorCode",
  browserEntry: { lazyNodeLoaders: ["src/training/lazy-modules.ts"] },
});
