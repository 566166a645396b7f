/**
 * version_at_least, the version comparison of the node scripts that must never act on a node
 * already past their step's version. Each script is sent alone on stdin (no shared library), so
 * each carries the same copy: checked here to be identical, then exercised in bash.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { NODE_SCRIPTS_DIR } from "../lab/node-kit";

const USERS = ["drain.sh", "kubeadm-upgrade.sh", "switch-repository.sh", "upgrade-kubelet.sh", "upgrade-packages.sh", "wait-ready.sh"];
/** The function with its comment: from the comment's first line to the closing brace. */
const DEFINITION = /^# Succeeds when version \$1[^\n]*\n(?:#[^\n]*\n)*version_at_least\(\) \{\n(?:  [^\n]*\n)+\}\n/m;

function definition(script: string): string {
  const m = DEFINITION.exec(fs.readFileSync(path.join(NODE_SCRIPTS_DIR, script), "utf8"));
  if (!m) throw new Error(`${script} has no version_at_least`);
  return m[0];
}

describe("version_at_least", () => {
  test("the scripts that compare versions carry the same copy, and only they define it", () => {
    const copies = USERS.map(definition);
    for (const c of copies) expect(c).toBe(copies[0]);
    const definers = fs.readdirSync(NODE_SCRIPTS_DIR).filter((f) => /^version_at_least\(\)/m.test(fs.readFileSync(path.join(NODE_SCRIPTS_DIR, f), "utf8")));
    expect(definers.sort()).toEqual(USERS);
  });

  test.each([
    ["1.35.9", "1.35.9", true],
    ["v1.35.9", "1.35.9", true],
    ["1.35.10", "1.35.9", true], // numbers, not text: 10 > 9
    ["1.35.9", "1.35.10", false],
    ["1.36.0", "1.35.99", true],
    ["v1.100.0", "1.99.1", true],
    ["1.9.0", "1.10.0", false],
    ["2.0.0", "1.99.99", true],
    ["1.34.99", "1.35.0", false],
    ["v1.36.0-rc.1", "1.36.0", false], // a pre-release comes before its release
    ["v1.36.0-rc.1", "1.35.9", true],
    ["v1.35.9+k3s1", "1.35.9", true], // build metadata does not count
    ["v01.035.09", "1.35.9", true],
    ["", "1.35.9", false], // unknown: never past
    ["1.35", "1.35.0", false],
    ["1.36.0~rc.1", "1.35.9", false], // a Debian pre-release: unknown
    ["garbage", "1.35.9", false],
    ["1.36.0", "1.35.9-rc.1", false], // the step's version must be plain X.Y.Z
    ["99999999999.0.0", "1.0.0", false], // more digits than bash arithmetic is trusted with
  ])("%j at or past %j: %s", (have, want, expected) => {
    const script = `set -euo pipefail\n${definition("drain.sh")}if version_at_least "$1" "$2"; then echo yes; else echo no; fi\n`;
    const r = spawnSync("bash", ["-c", script, "test", have, want], { encoding: "utf8", timeout: 10_000 });
    expect([r.status, r.stderr, r.stdout]).toEqual([0, "", expected ? "yes\n" : "no\n"]);
  });
});
