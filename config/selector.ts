/**
 * Equality-based label selectors, as a pool's `selector` names its nodes: the syntax of
 * `kubectl get nodes -l` without the set-based forms: `key=value` (or `key==value`),
 * `key!=value`, `key` (the label exists), `!key` (it does not), joined by commas, all of
 * which must hold. Source:
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#equality-based-requirement
 */

/** A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. Source: the page above, "Syntax and character set". */
const LABEL_KEY = /^(?:(?=[^/]{1,253}\/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A label value: empty, or at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^(?:(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** One requirement of a selector. */
export type Requirement =
  | { readonly key: string; readonly op: "=" | "!="; readonly value: string }
  | { readonly key: string; readonly op: "exists" | "!exists" };

/** A parsed selector: every requirement must hold. */
export interface LabelSelector {
  /** The selector as written, e.g. `pool=general,!node.example.com/retired`. */
  readonly text: string;
  readonly requirements: readonly Requirement[];
}

/**
 * Parses `text` as an equality-based selector.
 * @returns the selector, or a string saying what is wrong with it.
 */
export function parseSelector(text: string): LabelSelector | string {
  if (text.trim() === "") return "is empty (an empty selector would select every node)";
  const requirements: Requirement[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(part);
    if (!m || (m[1] === "!" && m[3] !== undefined)) return `has a requirement "${part}" that is not key=value, key!=value, key or !key`;
    const key = m[2]!;
    if (!LABEL_KEY.test(key)) return `has "${key}", which is not a label key`;
    if (m[3] === undefined) {
      requirements.push({ key, op: m[1] === "!" ? "!exists" : "exists" });
      continue;
    }
    const value = m[4]!;
    if (!LABEL_VALUE.test(value)) return `has "${value}", which is not a label value`;
    requirements.push({ key, op: m[3] === "!=" ? "!=" : "=", value });
  }
  return { text, requirements };
}

/** True when `labels` satisfy every requirement of `selector` (`!=` holds for a missing label, as in Kubernetes). */
export function selects(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "=":
        return has && labels[r.key] === r.value;
      case "!=":
        return !has || labels[r.key] !== r.value;
    }
  });
}
