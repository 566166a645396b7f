/**
 * Reads stack config the way the Pulumi CLI would, without it: the project file
 * (`Pulumi.yaml`, its `config:` defaults) and the stack file (`Pulumi.<stack>.yaml`), keys
 * under this project's namespace. Used by `npm run plan`, which must work offline.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { inputError, InputErrors } from "../planning/errors";
import { RawObject } from "./fields";
import { PROJECT } from "./stack-config";

/** The one key that must be a Pulumi secret (`pulumi config set --secret`). */
export const SECRET_KEYS = ["sshPrivateKey"] as const;

export interface StackFileConfig {
  /** Plain config values by key (namespace removed); secrets are left out. */
  readonly raw: RawObject;
  /** Keys set as Pulumi secrets (`secure:`); their values stay encrypted and unread. */
  readonly secrets: readonly string[];
}

/** Stack names with a `Pulumi.<stack>.yaml` in `dir`. */
export function stacksIn(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function readYaml(path: string, key: string): unknown {
  try {
    return parse(readFileSync(path, "utf8"));
  } catch (e) {
    return inputError(key, path, `is not valid YAML: ${(e as Error).message.split("\n")[0]}`, "fix the file's syntax");
  }
}

/**
 * Reads the project's config defaults and the stack's config.
 * @param dir the project directory (where Pulumi.yaml is).
 * @param stack the stack name: reads `Pulumi.<stack>.yaml`.
 * @throws InputErrors when a file is missing or not YAML, a non-secret key holds a
 *   secret, or a secret key (`sshPrivateKey`) is in plain text.
 */
export function readStackFiles(dir: string, stack: string): StackFileConfig {
  const stackPath = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackPath)) {
    const known = stacksIn(dir);
    inputError("--stack", stack, `has no stack file ${stackPath}`, known.length ? `use one of: ${known.join(", ")}` : "create it (see README.md, Configuration reference)");
  }
  const raw: Record<string, unknown> = {};
  const project = readYaml(join(dir, "Pulumi.yaml"), "Pulumi.yaml") as { config?: Record<string, unknown> } | null;
  for (const [key, decl] of Object.entries(project?.config ?? {})) {
    const k = key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key;
    if (decl && typeof decl === "object" && "default" in decl) raw[k] = (decl as { default: unknown }).default;
  }
  const file = readYaml(stackPath, `Pulumi.${stack}.yaml`) as { config?: Record<string, unknown> } | null;
  const secrets: string[] = [];
  const problems: InputErrors["problems"][number][] = [];
  for (const [key, value] of Object.entries(file?.config ?? {})) {
    const ns = key.includes(":") ? key.slice(0, key.indexOf(":")) : PROJECT;
    if (ns !== PROJECT) continue;
    const k = key.includes(":") ? key.slice(key.indexOf(":") + 1) : key;
    const isSecret = typeof value === "object" && value !== null && "secure" in value;
    if ((SECRET_KEYS as readonly string[]).includes(k)) {
      if (isSecret) secrets.push(k);
      else problems.push({ key: `${PROJECT}:${k}`, value: "(plain text, not shown)", problem: "must be a Pulumi secret, never plain text", fix: `remove it and run: pulumi config set --secret ${k} < ~/.ssh/your_key` });
    } else if (isSecret) {
      problems.push({ key: `${PROJECT}:${k}`, value: "(secret)", problem: "is a secret, but this key is plain config", fix: `run: pulumi config set ${k} VALUE` });
    } else {
      raw[k] = value;
    }
  }
  if (problems.length) throw new InputErrors(problems, `invalid stack file Pulumi.${stack}.yaml`);
  return { raw, secrets };
}
