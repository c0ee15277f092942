/**
 * What the seed paper's own numbers say, computed from the claims file (never typed in): whether each claimed F1
 * equals 2a/(1+a) of its accuracy a — the support-weighted F1 of a test set whose true labels are all one class —
 * and the parameter shares @kora/spec counts for the configurations the paper names, beside the shares it claims.
 * Used by the report (a section of its own) and by docs/scripts/paper-audit.mjs (docs/paper-audit.md), which
 * imports the built module (dist/audit.js).
 */
import { f1Score } from "@kora/metrics";
import { countParameters, parseAdapterSpec } from "@kora/spec";
import type { Claims } from "../claims";

/** The claims-file shape this module reads (a subset of {@link Claims}, so the docs script can pass plain JSON). */
export type AuditClaims = Pick<Claims, "tables">;

/** One claimed row checked against the single-class F1 identity. */
export interface F1IdentityRow {
  table: string;
  method: string;
  /** Claimed accuracy, in percent. */
  accuracy: number;
  claimedF1: number;
  /** 2a/(1+a), a the claimed accuracy as a fraction. */
  identity: number;
  /** |claimed F1 − 2a/(1+a)|. */
  difference: number;
  /** @kora/metrics' weighted F1 on {@link SINGLE_CLASS_EXAMPLES} examples of one true class, a fraction a right. */
  singleClassF1: number;
  /** Decimals the paper prints this table's F1 with (the most any of its rows shows). */
  decimals: number;
  /** The identity rounded to `decimals` equals the claimed F1 as printed. */
  holds: boolean;
}

/** Examples of the synthetic single-class test set behind {@link F1IdentityRow.singleClassF1}. */
export const SINGLE_CLASS_EXAMPLES = 10_000;

function decimalsOf(value: number): number {
  const text = String(value);
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** The support-weighted F1 of a test set whose true labels are all class 0, a fraction `accuracy` predicted 0. */
export function singleClassWeightedF1(accuracy: number, n = SINGLE_CLASS_EXAMPLES): number {
  const correct = Math.round(accuracy * n);
  const yTrue = new Int32Array(n);
  const yPred = Int32Array.from({ length: n }, (_, i) => (i < correct ? 0 : 1 + (i % 99)));
  return f1Score(yTrue, yPred, { average: "weighted" });
}

/**
 * Checks every row of a claims table that has both `accuracy` (percent) and `macroF1` for the identity
 * F1 = 2a/(1+a), at the precision the paper prints the table's F1 with.
 */
export function f1IdentityRows(claims: AuditClaims, table: string): F1IdentityRow[] {
  const rows = Object.entries(claims.tables[table]?.rows ?? {}).filter(
    ([, row]) => typeof row["accuracy"] === "number" && typeof row["macroF1"] === "number",
  );
  const decimals = Math.max(0, ...rows.map(([, row]) => decimalsOf(row["macroF1"] as number)));
  return rows.map(([method, row]) => {
    const accuracy = row["accuracy"] as number;
    const claimedF1 = row["macroF1"] as number;
    const a = accuracy / 100;
    const identity = (2 * a) / (1 + a);
    return {
      table,
      method,
      accuracy,
      claimedF1,
      identity,
      difference: Math.abs(claimedF1 - identity),
      singleClassF1: singleClassWeightedF1(a),
      decimals,
      holds: identity.toFixed(decimals) === claimedF1.toFixed(decimals),
    };
  });
}

/** ViT-B/16 at 224 × 224 with a CIFAR-100 head (100 classes), the paper's backbone. */
export const VIT_B16 = {
  dim: 768,
  depth: 12,
  heads: 12,
  mlpDim: 3072,
  numClasses: 100,
  patchSize: 16,
  imageSize: 224,
  channels: 3,
} as const;

/** The configurations counted: the paper's row each stands for (null: none), a label, and the adapter spec. */
export const SHARE_CONFIGS: readonly { row: string | null; label: string; spec: Record<string, unknown> }[] =
  [
    {
      row: "LoRA (r=8)",
      label: "LoRA r=8, query + value (peft's default targets)",
      spec: { method: "lora", rank: 8 },
    },
    {
      row: "LoRA (r=8)",
      label: "LoRA r=8, query + key + value",
      spec: { method: "lora", rank: 8, targets: ["query", "key", "value"] },
    },
    {
      row: null,
      label: "LoRA r=8 on every linear layer of the blocks (q, k, v, output, fc1, fc2)",
      spec: { method: "lora", rank: 8, targets: ["query", "key", "value", "output", "fc1", "fc2"] },
    },
    {
      row: "Adapter Fusion",
      label: "AdapterFusion, KoRA-TS defaults (2 adapters, b = 12, static, a = 8)",
      spec: { method: "adapter-fusion" },
    },
    { row: "KoRA (d_comp=4)", label: "KoRA r=8, d_comp = 4 (defaults)", spec: { method: "kora" } },
    {
      row: "KoRA (d_comp=8)",
      label: "KoRA r=8, d_comp = 8",
      spec: { method: "kora", composition: { hidden: 8 } },
    },
  ];

/** One configuration's parameter count on ViT-B/16, beside the share the paper claims for its row. */
export interface ShareRow {
  label: string;
  row: string | null;
  adapter: number;
  trainable: number;
  total: number;
  /** Trainable share with the head trainable (as peft prints it for a classifier), in percent. */
  shareWithHead: number;
  /** Trainable share of the adapter alone, in percent. */
  shareAdapterOnly: number;
  /** The paper's `paramsTunedPct` of `row` in table 4.1, in percent (null without a row). */
  claimed: number | null;
}

/** Counts {@link SHARE_CONFIGS} on {@link VIT_B16} with @kora/spec, beside table 4.1's claimed shares. */
export function parameterShares(claims: AuditClaims): ShareRow[] {
  return SHARE_CONFIGS.map(({ row, label, spec }) => {
    const count = countParameters(parseAdapterSpec(spec), VIT_B16);
    const adapterOnly = countParameters(parseAdapterSpec(spec), VIT_B16, { trainHead: false });
    const claimed = row === null ? undefined : claims.tables["4.1"]?.rows[row]?.["paramsTunedPct"];
    return {
      label,
      row,
      adapter: count.adapter,
      trainable: count.trainable,
      total: count.total,
      shareWithHead: 100 * count.trainableFraction,
      shareAdapterOnly: 100 * adapterOnly.trainableFraction,
      claimed: claimed ?? null,
    };
  });
}

/** The audit as the report shows it: the rows and what follows from them, in sentences. */
export interface PaperAudit {
  f1: F1IdentityRow[];
  shares: ShareRow[];
  findings: string[];
}

/** Runs both checks on the claims and states what follows (numbers from the computation, never typed in). */
export function auditPaper(claims: AuditClaims): PaperAudit {
  const f1 = [...f1IdentityRows(claims, "4.1"), ...f1IdentityRows(claims, "4.2")];
  const shares = parameterShares(claims);
  const findings: string[] = [];
  for (const table of ["4.1", "4.2"]) {
    const rows = f1.filter((r) => r.table === table);
    if (rows.length === 0) continue;
    const holding = rows.filter((r) => r.holds).length;
    findings.push(
      holding === rows.length
        ? `Table ${table}: every row's F1 equals 2a/(1+a) of its accuracy at the printed ${rows[0]?.decimals} decimals. ` +
            "That is the support-weighted F1 of a test set whose true labels are all one class: the evaluation " +
            "these numbers come from scored a single-class test set, so they say nothing about a balanced task."
        : `Table ${table}: ${holding} of ${rows.length} rows obey F1 = 2a/(1+a) at ${rows[0]?.decimals} decimals; ` +
            (holding === 0
              ? "its F1 is not the single-class artefact."
              : "the identity is not systematic here."),
    );
  }
  const loraQv = shares[0];
  const claimedLora = loraQv?.claimed ?? null;
  if (loraQv !== undefined && claimedLora !== null) {
    // The closest count, with or without the head counted as trainable (peft prints it either way).
    const candidates = shares.flatMap((share) => [
      { share, value: share.shareWithHead, how: "head trainable" },
      { share, value: share.shareAdapterOnly, how: "adapter only" },
    ]);
    const nearest = candidates.sort(
      (a, b) => Math.abs(a.value - claimedLora) - Math.abs(b.value - claimedLora),
    )[0];
    findings.push(
      `Parameter shares: LoRA r=8 on query and value of ViT-B/16 trains ${loraQv.shareWithHead.toFixed(2)} % ` +
        `(head included), not the claimed ${claimedLora.toFixed(2)} %; of the configurations counted, the closest to ` +
        `${claimedLora.toFixed(2)} % is ${nearest?.share.label} (${nearest?.value.toFixed(2)} %, ${nearest?.how}). ` +
        "The claimed shares are not reachable from the architecture the paper states.",
    );
  }
  return { f1, shares, findings };
}
