import { describePackageConventions } from "../../../scripts/package-conventions/describe-conventions";
import { VIT_ERROR_CODES } from "./errors";

describePackageConventions({
  name: "@kora/vit",
  testFileUrl: import.meta.url,
  declared: VIT_ERROR_CODES,
  codesName: "VIT_ERROR_CODES",
  typeName: "VitErrorCode",
});
