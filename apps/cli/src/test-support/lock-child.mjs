// A process contending for a run folder's lock (run-lock.test.ts): `node lock-child.mjs MODULE DIR` imports
// `lockRunFolder` from MODULE (run-lock.ts, built by the test), says "ready", calls it on DIR when a line arrives
// on stdin, prints the outcome as one JSON line and holds a won lock until stdin ends.
import { pathToFileURL } from "node:url";

const [modulePath, dir] = process.argv.slice(2);
const { lockRunFolder } = await import(pathToFileURL(modulePath).href);

process.stdin.setEncoding("utf8");
let input = "";
const go = new Promise((resolve) => {
  process.stdin.on("data", (chunk) => {
    input += chunk;
    if (input.includes("\n")) resolve();
  });
});
const ended = new Promise((resolve) => process.stdin.on("end", resolve));
process.stdout.write("ready\n");
await go;

const notes = [];
let outcome;
try {
  await lockRunFolder(dir, "test", (note) => notes.push(note));
  outcome = { won: true, notes };
} catch (error) {
  outcome = { won: false, code: error?.code ?? `untyped ${error?.name}`, message: String(error?.message) };
}
process.stdout.write(`${JSON.stringify(outcome)}\n`);
await ended;
