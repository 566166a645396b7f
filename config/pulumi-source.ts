/**
 * Reads this project's stack config through the Pulumi SDK into the same raw shape that
 * `npm run plan` reads from the stack file, so both parse it with the same code.
 */
import * as pulumi from "@pulumi/pulumi";
import { RawObject } from "./fields";
import { PROJECT } from "./stack-config";
import { SECRET_KEYS } from "./stack-file";

/**
 * Plain config of this project, namespace removed. Pulumi hands structured values over as
 * JSON text; they are parsed back. Secret keys are left out (read them with getSecret).
 */
export function readPulumiConfig(): RawObject {
  // No prototype: a key "__proto__" is a plain key here, which the unknown-key check refuses.
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(`${PROJECT}:`)) continue;
    const k = key.slice(PROJECT.length + 1);
    if ((SECRET_KEYS as readonly string[]).includes(k)) continue;
    raw[k] = /^\s*[[{]/.test(text) ? JSON.parse(text) : text;
  }
  return raw;
}
