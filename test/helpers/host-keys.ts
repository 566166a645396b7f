/**
 * Test helper: SSH host keys that pass config validation (`<type> <base64>`, a well-formed
 * ed25519 public key blob), derived from a seed so each node can have its own.
 */
import { createHash } from "node:crypto";

/** Length-prefixed string, as in the SSH wire format. */
function wire(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** A valid `ssh-ed25519 <base64>` host key line, the same for the same seed. */
export function testHostKey(seed: string): string {
  const key = createHash("sha256").update(seed).digest();
  return `ssh-ed25519 ${Buffer.concat([wire(Buffer.from("ssh-ed25519")), wire(key)]).toString("base64")}`;
}
