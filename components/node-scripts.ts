/** The node scripts (node-scripts/*.sh), read once from the project, sent as each command's stdin. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ScriptName } from "../planning/commands";

const cache = new Map<ScriptName, string>();

/** The text of a node script. @throws Error when the file is missing (a packaging bug). */
export function scriptText(name: ScriptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, "..", "node-scripts", name), "utf8");
    cache.set(name, text);
  }
  return text;
}
