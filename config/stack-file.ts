/**
 * Reads stack config the way the Pulumi CLI would, without it: the project file
 * (`Pulumi.yaml`, its `config:` defaults) and the stack file (`Pulumi.<stack>.yaml`), keys
 * under this project's namespace. Used by `npm run plan`, which must work offline.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { inputError, InputErrors } from "../planning/errors";
import { RawObject } from "./fields";
import { PROJECT } from "./stack-config";

/** The keys that must be Pulumi secrets (`pulumi config set --secret`): the SSH key, and a kubeconfig given in the stack. */
export const SECRET_KEYS = ["sshPrivateKey", "kubeconfig", "notificationWebhookUrl"] as const;

/** How to set each secret key. */
const SECRET_FIX: Record<(typeof SECRET_KEYS)[number], string> = {
  sshPrivateKey: "pulumi config set --secret sshPrivateKey < ~/.ssh/your_key",
  kubeconfig: "pulumi config set --secret kubeconfig < ~/.kube/config",
  notificationWebhookUrl: "pulumi config set --secret notificationWebhookUrl https://hooks.slack.com/services/...",
};

export interface StackFileConfig {
  /** Plain config values by key (namespace removed); secrets are left out. */
  readonly raw: RawObject;
  /** Keys set as Pulumi secrets (`secure:`); their values stay encrypted and unread. */
  readonly secrets: readonly string[];
  /**
   * `kubernetes:kubeconfig`, the Pulumi Kubernetes provider's own key (a path or the
   * kubeconfig's text), when the stack sets it in plain text.
   */
  readonly providerKubeconfig?: string;
}

/**
 * A Pulumi stack name (its short form, as in `Pulumi.<stack>.yaml`): "Stack names may only
 * contain alphanumeric characters, hyphens, underscores, or periods"
 * (https://www.pulumi.com/docs/iac/concepts/stacks/); at most 100 characters here. Never a
 * path: no "/", so `--stack` names a file in the project directory and nowhere else.
 */
export const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Largest stack file read: far above a 5,000-node stack with host keys (about 1.5 MB). */
export const STACK_FILE_MAX_BYTES = 8 * 1024 * 1024;

/** Stack names with a `Pulumi.<stack>.yaml` in `dir`. */
export function stacksIn(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && STACK_NAME.test(s))
    .sort();
}

function readYaml(path: string, key: string): unknown {
  const size = statSync(path).size;
  if (size > STACK_FILE_MAX_BYTES) inputError(key, path, `has ${size} bytes, more than ${STACK_FILE_MAX_BYTES} (a stack of 5,000 nodes, the most this program takes, needs about 1.5 MB)`, "split the cluster, or check that this is the right file");
  try {
    return parse(readFileSync(path, "utf8"));
  } catch (e) {
    return inputError(key, path, `is not valid YAML: ${(e as Error).message.split("\n")[0]!.slice(0, 300)}`, "fix the file's syntax");
  }
}

/** Config entries of a parsed file: own keys only, never from a prototype. */
function configEntries(file: unknown): [string, unknown][] {
  const config = file !== null && typeof file === "object" && Object.hasOwn(file, "config") ? (file as { config: unknown }).config : undefined;
  return config !== null && typeof config === "object" && !Array.isArray(config) ? Object.entries(config) : [];
}

/**
 * Reads the project's config defaults and the stack's config.
 * @param dir the project directory (where Pulumi.yaml is).
 * @param stack the stack name: reads `Pulumi.<stack>.yaml`.
 * @throws InputErrors when a file is missing or not YAML, a non-secret key holds a
 *   secret, or a secret key (`sshPrivateKey`) is in plain text.
 */
export function readStackFiles(dir: string, stack: string): StackFileConfig {
  if (!STACK_NAME.test(stack)) {
    inputError("--stack", stack, "is not a Pulumi stack name (letters, digits, '-', '_', '.'; at most 100)", "give the name of a stack of this project, e.g. --stack dev");
  }
  const stackPath = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackPath)) {
    const known = stacksIn(dir);
    inputError("--stack", stack, `has no stack file ${stackPath}`, known.length ? `use one of: ${known.join(", ")}` : "create it (see README.md, Configuration reference)");
  }
  // No prototype: a key "__proto__" is a plain key here, which the unknown-key check refuses.
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, decl] of configEntries(readYaml(join(dir, "Pulumi.yaml"), "Pulumi.yaml"))) {
    const k = key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key;
    if (decl && typeof decl === "object" && Object.hasOwn(decl, "default")) raw[k] = (decl as { default: unknown }).default;
  }
  const file = readYaml(stackPath, `Pulumi.${stack}.yaml`);
  const secrets: string[] = [];
  const problems: InputErrors["problems"][number][] = [];
  let providerKubeconfig: string | undefined;
  for (const [key, value] of configEntries(file)) {
    const ns = key.includes(":") ? key.slice(0, key.indexOf(":")) : PROJECT;
    if (key === "kubernetes:kubeconfig" && typeof value === "string") providerKubeconfig = value;
    if (ns !== PROJECT) continue;
    const k = key.includes(":") ? key.slice(key.indexOf(":") + 1) : key;
    const isSecret = typeof value === "object" && value !== null && Object.hasOwn(value, "secure");
    if ((SECRET_KEYS as readonly string[]).includes(k)) {
      if (isSecret) secrets.push(k);
      else problems.push({ key: `${PROJECT}:${k}`, value: "(plain text, not shown)", problem: "must be a Pulumi secret, never plain text", fix: `remove it and run: ${SECRET_FIX[k as (typeof SECRET_KEYS)[number]]}` });
    } else if (isSecret) {
      problems.push({ key: `${PROJECT}:${k}`, value: "(secret)", problem: "is a secret, but this key is plain config", fix: `run: pulumi config set ${k} VALUE` });
    } else {
      raw[k] = value;
    }
  }
  if (problems.length) throw new InputErrors(problems, `invalid stack file Pulumi.${stack}.yaml`);
  return { raw, secrets, ...(providerKubeconfig !== undefined ? { providerKubeconfig } : {}) };
}
