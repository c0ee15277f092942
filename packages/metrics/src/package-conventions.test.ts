import { describePackageConventions } from "../../../scripts/package-conventions/describe-conventions";
import { METRICS_ERROR_CODES } from "./errors";

describePackageConventions({
  name: "@kora/metrics",
  testFileUrl: import.meta.url,
  declared: METRICS_ERROR_CODES,
  codesName: "METRICS_ERROR_CODES",
  typeName: "MetricsErrorCode",
});
