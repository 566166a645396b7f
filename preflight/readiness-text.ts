/**
 * The go/no-go report as text, for `npm run plan` and `pulumi preview` (planning/report.ts):
 * the verdict of each hop, then the findings grouped by id (one entry per id, with where it
 * applies: hop and nodes), blocking first.
 */
import type { Finding, Readiness } from "./findings";

/** Most nodes named for one finding in one hop; the rest are counted. */
const NODES_SHOWN = 8;

/** The report's lines (no trailing newline). */
export function readinessText(r: Readiness): string[] {
  const lines = ["GO/NO-GO (checked before anything runs; each pulumi up checks again)"];
  for (const v of r.verdicts) {
    lines.push(`  hop ${v.hop} to ${v.to}: ${v.go ? "GO" : `NO-GO (${v.blockers.length} blocking finding(s))`}`);
  }
  const groups = new Map<string, Finding[]>();
  for (const f of r.findings) groups.set(f.id, [...(groups.get(f.id) ?? []), f]);
  const section = (title: string, pick: (f: Finding) => boolean) => {
    const entries = [...groups.values()].filter((g) => pick(g[0]!));
    if (entries.length === 0) return;
    lines.push(`  ${title}`);
    for (const g of entries) lines.push(`    ${g[0]!.id}${where(g)}`, `      ${g[0]!.detail}`);
  };
  section("BLOCKING (fix it, or name its id in the stack config's acknowledge list)", (f) => f.blocking && !f.acknowledged);
  section("ACKNOWLEDGED (blocking, let through by acknowledge)", (f) => f.blocking && f.acknowledged === true);
  section("NOTES", (f) => !f.blocking);
  if (r.unusedAcknowledgements.length > 0) lines.push(`  acknowledge entries that name no blocking finding now (remove them): ${r.unusedAcknowledgements.join(", ")}`);
  return lines;
}

/** ` (hop 1: batch-1, batch-2; hop 2: ...)` for findings about nodes; `` otherwise. */
function where(group: readonly Finding[]): string {
  const byHop = new Map<number, Set<string>>();
  for (const f of group) if (f.node) byHop.set(f.hop, (byHop.get(f.hop) ?? new Set()).add(f.node));
  if (byHop.size === 0) return group[0]!.hop > 0 ? ` (hop ${group[0]!.hop})` : "";
  const parts = [...byHop].map(([hop, nodes]) => {
    const list = [...nodes];
    const shown = list.slice(0, NODES_SHOWN).join(", ") + (list.length > NODES_SHOWN ? ` and ${list.length - NODES_SHOWN} more` : "");
    return hop > 0 ? `hop ${hop}: ${shown}` : shown;
  });
  return ` (${parts.join("; ")})`;
}
