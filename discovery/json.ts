/**
 * Reading untyped API JSON (a list item as the API returns it, or a client-node object) without
 * trusting its shape: a field that is not what it should be reads as empty.
 */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** `v` when it is an object, else `{}`. */
export const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});

/** The string-valued entries of `v` (labels, annotations); `{}` when `v` is not an object. */
export const strings = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === "string"));
