/**
 * The node scripts (node-scripts/*.sh), read once from the project, sent as each command's stdin.
 * A script is sent alone (it cannot `source` anything on the node), so the shell functions
 * several scripts share live in node-scripts/lib/ and are put in place of each line
 * `# cluster-maintenance: include lib/<file>.sh` here, when the script's text is composed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ScriptName } from "../planning/commands";

const DIR = join(__dirname, "..", "node-scripts");
const INCLUDE = /^# cluster-maintenance: include (lib\/[a-z][a-z0-9-]*\.sh)$/gm;
const cache = new Map<string, string>();

/** A library's body without its `# shellcheck shell=bash` line (the script has its own shebang). */
function library(file: string): string {
  return readFileSync(join(DIR, file), "utf8").replace(/^# shellcheck shell=bash\n/, "");
}

/**
 * The text of a node script as it is sent: the file, each include line replaced by the library.
 * @param name a script of node-scripts/ (ScriptName, or any other file there for tests).
 * @throws Error when the script or a library it includes is missing (a packaging bug).
 */
export function scriptText(name: ScriptName | (string & {})): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(DIR, name), "utf8").replace(INCLUDE, (_line, file: string) => library(file).replace(/\n$/, ""));
    cache.set(name, text);
  }
  return text;
}
