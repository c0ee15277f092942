// The codes behind the output-path messages the commands print (the CLI prints messages, not codes).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkOutputFiles, prepareOutputFolder, writeError, writeOutputFile } from "./output-folder";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-output-folder-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkOutputFiles", () => {
  it("INVALID_PATH for an empty path, a trailing separator or a folder; OUTPUT_EXISTS naming every existing file", async () => {
    const folder = join(dir, "folder");
    mkdirSync(folder);
    const a = join(dir, "a.svg");
    const b = join(dir, "b.png");
    writeFileSync(a, "a");
    writeFileSync(b, "b");
    await expect(checkOutputFiles([{ path: "", flag: "--out" }], false)).rejects.toMatchObject({
      code: "INVALID_PATH",
    });
    await expect(checkOutputFiles([{ path: `${folder}/`, flag: "--out" }], true)).rejects.toMatchObject({
      code: "INVALID_PATH",
    });
    await expect(checkOutputFiles([{ path: folder, flag: "--out" }], true)).rejects.toMatchObject({
      code: "INVALID_PATH",
      message: `--out: ${folder} is a folder; give the name of the file to write`,
    });
    await expect(
      checkOutputFiles(
        [
          { path: a, flag: "--svg" },
          { path: b, flag: "--png" },
          { path: join(dir, "new.svg"), flag: "--svg" },
        ],
        undefined,
      ),
    ).rejects.toMatchObject({
      code: "OUTPUT_EXISTS",
      message: `--svg/--png: ${a} and ${b} already exist; choose another --svg/--png, or add --force to replace them`,
    });
    await expect(checkOutputFiles([{ path: a, flag: "--svg" }], true)).resolves.toBeUndefined();
    // a parent that is a file is left to prepareOutputFolder, which names it
    await expect(checkOutputFiles([{ path: join(a, "x"), flag: "--out" }], false)).resolves.toBeUndefined();
    await expect(prepareOutputFolder(a)).rejects.toMatchObject({ code: "INVALID_PATH" });
  });
});

describe("writeOutputFile / writeError", () => {
  it("writes atomically and turns file-system errors into DISK_FULL / IO_ERROR naming the file", async () => {
    const file = join(dir, "out.bin");
    await writeOutputFile(file, new Uint8Array([1, 2, 3]), "--out");
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    const full = Object.assign(new Error("no space"), { code: "ENOSPC" });
    expect(writeError(file, "--out", full)).toMatchObject({
      code: "DISK_FULL",
      message: `--out: cannot write ${file}: the disk is full (ENOSPC)`,
    });
    expect(writeError(file, "--png", Object.assign(new Error("x"), { code: "EROFS" }))).toMatchObject({
      code: "IO_ERROR",
      message: `--png: cannot write ${file} (EROFS)`,
    });
    // anything but a file-system error (a bug) passes through unchanged
    const bug = new TypeError("oops");
    expect(writeError(file, "--out", bug)).toBe(bug);
    await expect(writeOutputFile(join(dir, "folder"), "x", "--out")).rejects.toMatchObject({
      code: "IO_ERROR",
    });
  });
});
