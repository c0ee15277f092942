import { describePackageConventions } from "../../../scripts/package-conventions/describe-conventions";
import { DATASET_ERROR_CODES } from "./errors";

describePackageConventions({
  name: "@kora/datasets",
  testFileUrl: import.meta.url,
  declared: DATASET_ERROR_CODES,
  codesName: "DATASET_ERROR_CODES",
  typeName: "DatasetErrorCode",
  errorCodes: { codeHelpers: ["datasetError"] },
});
