#!/usr/bin/env node
// What a published tarball must hold (README "What a package tarball ships"): the repository's LICENSE, the
// TypeScript source once (src/), and source maps that point into that src/ instead of embedding a copy of it
// (`sourcesContent` would add one copy per ESM and CJS map). Used by scripts/pack-install-test.mjs on every
// packed package; `node scripts/check-tarball.mjs LICENSE a.tgz b.tgz` checks tarballs by hand.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";

/** The regular files of a .tgz as a Map from path (`package/...`) to bytes. Reads ustar/pax tarballs as npm writes them. */
export function readTarball(path) {
  const tar = gunzipSync(readFileSync(path));
  const files = new Map();
  let longName;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (offset, length) =>
      header
        .subarray(offset, offset + length)
        .toString("utf8")
        .replace(/\0[\s\S]*$/, "");
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const type = String.fromCharCode(header[156] || 48);
    const body = tar.subarray(at + 512, at + 512 + size);
    const prefix = field(345, 155);
    const name = longName ?? (prefix === "" ? field(0, 100) : `${prefix}/${field(0, 100)}`);
    longName = undefined;
    if (type === "x") {
      // A pax header: a `path=` record names the next entry.
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"));
      if (path !== null) longName = path[1];
    } else if (type === "0") {
      files.set(name, body);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Problems with a tarball's contents, as sentences; empty when it is fine. */
export function tarballProblems(files, license) {
  const problems = [];
  const shipped = files.get("package/LICENSE");
  if (shipped === undefined) problems.push("no LICENSE");
  else if (!shipped.equals(license)) problems.push("LICENSE differs from the repository's LICENSE");
  for (const [name, bytes] of files) {
    const inSource = name.startsWith("package/src/");
    if (/\.[cm]?ts$/.test(name) && !/\.d\.[cm]?ts$/.test(name) && !inSource) {
      problems.push(`${name}: TypeScript source outside src/`);
    }
    if (inSource && (/\.test\.[cm]?ts$/.test(name) || name.includes("/test-support/"))) {
      problems.push(`${name}: test code in the tarball`);
    }
    if (!name.endsWith(".map")) continue;
    const map = JSON.parse(bytes.toString("utf8"));
    if ((map.sourcesContent ?? []).some((content) => content !== null && content !== "")) {
      problems.push(`${name}: embeds its sources (sourcesContent); the src/ files ship once instead`);
    }
    for (const source of map.sources ?? []) {
      const target = posix.join(posix.dirname(name), source);
      if (!files.has(target)) problems.push(`${name}: maps to ${source}, which the tarball does not ship`);
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [licensePath, ...tarballs] = process.argv.slice(2);
  if (licensePath === undefined || tarballs.length === 0) {
    console.error("usage: node scripts/check-tarball.mjs LICENSE package.tgz...");
    process.exit(2);
  }
  const license = readFileSync(licensePath);
  let bad = 0;
  for (const tarball of tarballs) {
    const problems = tarballProblems(readTarball(tarball), license);
    for (const problem of problems) console.error(`✗ ${tarball}: ${problem}`);
    if (problems.length === 0) console.log(`✓ ${tarball}`);
    else bad++;
  }
  process.exit(bad > 0 ? 1 : 0);
}
