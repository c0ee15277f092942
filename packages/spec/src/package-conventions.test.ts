import { describePackageConventions } from "../../../scripts/package-conventions/describe-conventions";
import { SPEC_ERROR_CODES } from "./errors";

describePackageConventions({
  name: "@kora/spec",
  testFileUrl: import.meta.url,
  declared: SPEC_ERROR_CODES,
  codesName: "SPEC_ERROR_CODES",
  typeName: "SpecErrorCode",
});
