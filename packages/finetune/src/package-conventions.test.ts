import { describePackageConventions } from "../../../scripts/package-conventions/describe-conventions";
import { FINETUNE_ERROR_CODES } from "./errors";

describePackageConventions({
  name: "@kora/finetune",
  testFileUrl: import.meta.url,
  declared: FINETUNE_ERROR_CODES,
  codesName: "FINETUNE_ERROR_CODES",
  typeName: "FinetuneErrorCode",
  errorCodes: { codeHelpers: ["finetuneError"] },
});
