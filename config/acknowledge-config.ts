/**
 * `acknowledge`: the go/no-go findings (preflight/findings.ts) the operator lets through, one
 * entry per finding, by the id the report prints, e.g. `pdb-blocks-drain/shop/batch-worker-pdb`.
 */
import { FINDING_KINDS } from "../preflight/findings";
import { FieldReader } from "./fields";

/** An id: a finding kind, `/`, then its subject (printable, no spaces). */
const ID = /^([a-z-]+)\/[\x21-\x7e]{1,500}$/;

/**
 * Reads `acknowledge`: a list of finding ids. @default []
 * Problems (each naming the key, the value and the fix): not a list, an entry that is not an id
 * of a known kind, an entry listed twice.
 */
export function parseAcknowledge(r: FieldReader, value: unknown, key = "acknowledge"): readonly string[] | undefined {
  if (value === undefined) return [];
  const list = r.array(value, key, '["pdb-blocks-drain/shop/batch-worker-pdb"]');
  if (!list) return undefined;
  const seen = new Set<string>();
  let ok = true;
  list.forEach((entry, i) => {
    const at = `${key}[${i}]`;
    const m = typeof entry === "string" ? ID.exec(entry) : null;
    if (!m || !(FINDING_KINDS as readonly string[]).includes(m[1]!)) {
      ok = false;
      r.problems.add(at, entry, "is not the id of a go/no-go finding", `copy the id the report prints (npm run plan), <kind>/<subject>, where kind is one of ${FINDING_KINDS.join(", ")}`);
    } else if (seen.has(entry as string)) {
      ok = false;
      r.problems.add(at, entry, "is listed twice", "list each finding once");
    } else {
      seen.add(entry as string);
    }
  });
  return ok ? [...seen] : undefined;
}
