/** Deterministic identifiers for the objects the double makes: the same input, the same uid and name suffix. */
import { createHash } from "node:crypto";

function digest(parts: readonly string[]): Buffer {
  return createHash("sha1").update(parts.join("\0")).digest();
}

/** A version-4-shaped UUID derived from `parts`. */
export function uidOf(...parts: string[]): string {
  const h = digest(parts).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Lowercase hex of `length` characters derived from `parts` (machine ids, config hashes, container ids). */
export function hexOf(length: number, ...parts: string[]): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += digest([...parts, String(i)]).toString("hex");
  return out.slice(0, length);
}

/** The alphabet of generated names (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0, 1, 3). */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** A generated-name suffix ("5ld2x", a pod-template-hash "5c4657fb89") of `length` characters. */
export function suffixOf(length: number, ...parts: string[]): string {
  const bytes = digest(parts);
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i % bytes.length]! % ALPHABET.length];
  return out;
}
