import { describe, expect, it } from "vitest";
import { MAX_TARGET_REGEX_REPEATS, unsafeTargetRegex } from "./target-regex";

describe("unsafeTargetRegex", () => {
  it.each([
    ".*\\.encoder\\.layer\\.\\d+\\.(?:attention\\.attention\\.query|output\\.dense)",
    ".*\\.encoder\\.layer\\.(?:0|1|2)\\.(?:attention\\.attention\\.value)",
    "^(?!.*vision).*\\.(q_proj|v_proj)$",
    ".*encoder.*\\.(query|key|value)",
    "(?:query|value)?",
    "[a-z]{2,}\\.[)(*+]",
    "x{2}",
  ])("accepts the regexes people write: %s", (source) => {
    expect(unsafeTargetRegex(source)).toBeUndefined();
  });

  it.each([
    ["(.*.*.*.*.*.*.*.*)*x", "more than"],
    ["(.*)*x", "repeated group"],
    ["(a|a)*b", "repeated group"],
    ["(?:\\w+\\.)+x", "repeated group"],
    ["(ab){2,}", "repeated group"],
    [".*".repeat(MAX_TARGET_REGEX_REPEATS + 1), "more than"],
    ["(a)\\1", "backreferences"],
    ["x".repeat(2000), "longer than"],
  ])("refuses %s (%s)", (source, reason) => {
    expect(unsafeTargetRegex(source)).toContain(reason);
  });
});
