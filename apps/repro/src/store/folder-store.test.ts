import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderStore } from "./folder-store";

const root = mkdtempSync(join(tmpdir(), "kora-repro-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Tiny {
  key: string;
  status: "ok" | "failed";
  by: string;
}

/** Makes a lock look last renewed `ms` ago (what a killed holder leaves). */
const age = (store: FolderStore<Tiny>, key: string, ms: number) => {
  const then = new Date(Date.now() - ms);
  utimesSync(join(store.root, "locks", `${key}.lock`), then, then);
};

describe("FolderStore", () => {
  it("gives a run to one claimant at a time, and again once released", () => {
    const store = new FolderStore<Tiny>(join(root, "a"), { leaseMs: 60_000 });
    const first = store.claim("run-1", "w1");
    expect(first?.held()).toBe(true);
    expect(store.claim("run-1", "w2")).toBeNull();
    first?.release();
    expect(first?.held()).toBe(false);
    const second = store.claim("run-1", "w2");
    expect(second?.owner).toBe("w2");
    second?.release();
    expect(readdirSync(join(store.root, "locks"))).toEqual([]);
  });

  it("writes a result once: a second commit leaves the first, and a lapsed claim commits nothing", () => {
    const store = new FolderStore<Tiny>(join(root, "b"), { leaseMs: 1000 });
    const a = store.claim("run-2", "w1");
    if (a === null) throw new Error("no claim");
    age(store, "run-2", 5000);
    // w1 stopped renewing (killed, frozen): w2 takes the run over, and w1's claim is no longer held.
    const b = store.claim("run-2", "w2");
    expect(b?.owner).toBe("w2");
    expect(a.held()).toBe(false);
    expect(store.commit(a, { key: "run-2", status: "ok", by: "w1" })).toBe("lost-claim");
    if (b === null) throw new Error("no claim");
    expect(store.commit(b, { key: "run-2", status: "ok", by: "w2" })).toBe("written");
    expect(store.commit(b, { key: "run-2", status: "ok", by: "again" })).toBe("exists");
    expect(store.read("run-2")).toEqual({ key: "run-2", status: "ok", by: "w2" });
    // w1 releasing late must not remove w2's lock.
    a.release();
    expect(b.held()).toBe(true);
    b.release();
    expect([...store.readAll().keys()]).toEqual(["run-2"]);
    // No temporary file is left behind.
    expect(readdirSync(join(store.root, "runs"))).toEqual(["run-2.json"]);
  });

  it("keeps a live lease: a claim renewed within the lease is not taken over", () => {
    const store = new FolderStore<Tiny>(join(root, "c"), { leaseMs: 10_000 });
    const a = store.claim("run-3", "w1");
    age(store, "run-3", 2000);
    expect(store.claim("run-3", "w2")).toBeNull();
    a?.release();
  });

  it("removes a result so a failed run can run again", () => {
    const store = new FolderStore<Tiny>(join(root, "d"));
    const claim = store.claim("run-4", "w1");
    if (claim === null) throw new Error("no claim");
    expect(store.commit(claim, { key: "run-4", status: "failed", by: "w1" })).toBe("written");
    store.remove("run-4");
    expect(store.read("run-4")).toBeNull();
    expect(store.commit(claim, { key: "run-4", status: "ok", by: "w1" })).toBe("written");
    claim.release();
  });

  it("takes no damaged file for a result: warns, moves it aside, and lets the run commit again", () => {
    for (const [what, text, reason] of [
      ["torn", '{"key": "run-5", "status": "o', /it is not valid JSON/],
      ["empty", "", /it is empty \(0 bytes\)/],
      [
        "wrong shape",
        '{"key": "run-5", "status": "done"}',
        /its status is "done", expected "ok" or "failed"/,
      ],
    ] as const) {
      const lines: string[] = [];
      const store = new FolderStore<Tiny>(join(root, `e-${what}`), { warn: (line) => lines.push(line) });
      const path = store.resultPath("run-5");
      writeFileSync(path, text);
      expect(store.read("run-5"), what).toBeNull();
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toContain(`warning: ${path} is damaged (`);
      expect(lines[0], what).toMatch(reason);
      expect(existsSync(path), what).toBe(false);
      const [stamp] = readdirSync(join(store.root, "damaged"));
      expect(readFileSync(join(store.root, "damaged", stamp as string, "runs", "run-5.json"), "utf8")).toBe(
        text,
      );
      // A damaged file no longer blocks the run's commit (which never replaces an existing file).
      const claim = store.claim("run-5", "w1");
      if (claim === null) throw new Error("no claim");
      expect(store.commit(claim, { key: "run-5", status: "ok", by: "w1" })).toBe("written");
      claim.release();
      expect([...store.readAll().keys()]).toEqual(["run-5"]);
    }
  });
});
