// `pnpm kora …` runs this. pnpm runs a root script in the repository root, but the paths the user types are
// relative to where they stand, which pnpm keeps in INIT_CWD: move there before the CLI resolves anything.
// (The CLI itself does not read INIT_CWD: installed as a dependency and run from someone's own npm script, the
// directory that script runs in is the right one.)
import { argv } from "node:process";
import { fileURLToPath } from "node:url";

// biome-ignore lint/suspicious/noUndeclaredEnvVars: read when `pnpm kora` runs, by no turbo task
const caller = process.env["INIT_CWD"];
if (caller !== undefined && caller !== "") process.chdir(caller);
const cli = new URL("../apps/cli/dist/cli.js", import.meta.url);
// cli.js reads process.argv: put the CLI in this launcher's place so it sees the arguments its own binary would.
argv.splice(1, 1, fileURLToPath(cli));
await import(cli.href);
