/**
 * `npm run plan` and the program refuse the same plans: a blue-green pool that one update would
 * replace twice (planning/blue-green.ts refuseRepeatedReplacement, called by both) is refused
 * offline with the program's own message.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runPlan } from "../cli/plan";
import { readStackFiles } from "../config/stack-file";
import { captured, PROJECT_ROOT, scratchProject } from "./helpers/cli";
import { programRegistrations } from "./helpers/program-runs";

const now = new Date("2026-11-21");

describe("a blue-green pool replaced twice in one update", () => {
  // The dev stack with its blue-green pool at 1.32.13: it must be replaced at 1.35.9 (kubelet
  // skew) and again at 1.37.1.
  const dev = readFileSync(join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8");
  const twice = dev.replace(/(- name: batch\n(?: {6}.*\n)*? {6}version: )"1\.34\.6"/, '$1"1.32.13"');
  const dir = scratchProject("dev", twice);

  it("is refused by npm run plan (exit 1) with the message the program fails with", async () => {
    expect(twice).not.toBe(dev);
    const plan = await captured((io) => runPlan(["--stack", "dev"], { ...io, now, env: { HOME: "/nonexistent" } }), dir);
    const program = await programRegistrations(readStackFiles(dir, "dev").raw as Record<string, unknown>).then(() => "", (e: Error) => e.message);
    expect(program).toMatch(/^one pulumi up replaces a blue-green pool once: .*: pool batch must be replaced 2 times \(at v1\.35\.9, then v1\.37\.1\) to keep the kubelet version skew$/);
    expect([plan.code, plan.out, plan.err]).toEqual([1, "", `error: ${program}\n`]);
    const json = await captured((io) => runPlan(["--stack", "dev", "--json"], { ...io, now, env: { HOME: "/nonexistent" } }), dir);
    expect([json.code, json.out, json.err]).toEqual([1, "", `error: ${program}\n`]);
  });
});
