import { describe, expect, it } from "vitest";
import { formatInteger, formatPercent, renderTable } from "./table";

describe("renderTable", () => {
  it("aligns columns, numbers to the right, and keeps styled headers aligned", () => {
    const text = renderTable(
      [{ header: "part" }, { header: "parameters", align: "right" }],
      [
        ["backbone", "85,798,656"],
        ["head", "7"],
      ],
      (t) => `<${t}>`,
    );
    expect(text.split("\n")).toEqual([
      "<part      parameters>",
      "--------  ----------",
      "backbone  85,798,656",
      "head               7",
    ]);
  });

  it("formats integers and percentages", () => {
    expect(formatInteger(86466149)).toBe("86,466,149");
    expect(formatPercent(667493 / 86466149)).toBe("0.7720 %");
  });
});
