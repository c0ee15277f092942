// A page that renders the synthetic domain-shift suites in the browser, and nothing else of @kora/datasets.
import { openSyntheticDataset, SYNTHETIC_SUITES } from "@kora/datasets";

export function firstImage(suite) {
  return openSyntheticDataset(suite, { split: "test" }).get(0);
}
export const suites = SYNTHETIC_SUITES;
