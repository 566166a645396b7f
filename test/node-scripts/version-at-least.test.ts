/**
 * version_at_least (node-scripts/lib/versions.sh), the version comparison of the node scripts
 * that must never act on a node already past their step's version: which scripts get it, and
 * how it compares, exercised in bash.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { scriptText } from "../../components/node-scripts";
import { NODE_SCRIPTS_DIR } from "../lab/node-kit";

const USERS = ["drain.sh", "kubeadm-upgrade.sh", "switch-repository.sh", "upgrade-kubelet.sh", "upgrade-packages.sh", "wait-ready.sh"];
const LIBRARY = fs.readFileSync(path.join(NODE_SCRIPTS_DIR, "lib", "versions.sh"), "utf8");

describe("version_at_least", () => {
  test("the scripts that compare versions include it and are sent with it; none defines its own", () => {
    const scripts = fs.readdirSync(NODE_SCRIPTS_DIR).filter((f) => f.endsWith(".sh"));
    const includers = scripts.filter((f) => fs.readFileSync(path.join(NODE_SCRIPTS_DIR, f), "utf8").includes("# cluster-maintenance: include lib/versions.sh\n"));
    expect(includers.sort()).toEqual(USERS);
    for (const f of scripts) expect([f, /^version_at_least\(\)/m.test(fs.readFileSync(path.join(NODE_SCRIPTS_DIR, f), "utf8"))]).toEqual([f, false]);
    for (const f of USERS) expect(scriptText(f)).toContain(LIBRARY.replace("# shellcheck shell=bash\n", ""));
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
    const script = `set -euo pipefail\n${LIBRARY}if version_at_least "$1" "$2"; then echo yes; else echo no; fi\n`;
    const r = spawnSync("bash", ["-c", script, "test", have, want], { encoding: "utf8", timeout: 10_000 });
    expect([r.status, r.stderr, r.stdout]).toEqual([0, "", expected ? "yes\n" : "no\n"]);
  });
});
