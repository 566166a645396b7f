/** Static checks of the node scripts, the lab stand-ins and the lab's recorded real tools: the set of scripts the components run, shellcheck, house rules. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scriptText } from "../../components/node-scripts";
import { NODE_SCRIPTS_DIR, RECORDED_DIR, STANDINS_DIR } from "../lab/node-kit";

const SCRIPTS = [
  "cordon-node.sh",
  "delete-nodes.sh",
  "drain.sh",
  "etcd-member.sh",
  "etcd-restore.sh",
  "etcd-snapshot.sh",
  "export-resources.sh",
  "join-command.sh",
  "join-node.sh",
  "kubeadm-upgrade.sh",
  "os-patch.sh",
  "pool-node.sh",
  "reset-node.sh",
  "soak.sh",
  "switch-repository.sh",
  "uncordon.sh",
  "upgrade-kubelet.sh",
  "upgrade-packages.sh",
  "upload-snapshot.sh",
  "volume-snapshot.sh",
  "wait-ready.sh",
];
const text = (name: string) => fs.readFileSync(path.join(NODE_SCRIPTS_DIR, name), "utf8");
const LIBRARIES = ["apt.sh", "drain-why.sh", "node-health.sh", "paths.sh", "s3.sh", "versions.sh"];

function shellcheck(cwd: string, files: string[]): void {
  const r = spawnSync("shellcheck", ["-x", ...files], { cwd, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0 || r.stdout !== "" || r.stderr !== "") {
    throw new Error(`shellcheck -x exited ${r.status}:\n${r.stdout}${r.stderr}`);
  }
}

describe("node scripts, statically", () => {
  test("node-scripts/ holds exactly the scripts the components run, and lib/ the functions they share", () => {
    expect(fs.readdirSync(NODE_SCRIPTS_DIR).filter((f) => f !== "lib").sort()).toEqual(SCRIPTS);
    expect(fs.readdirSync(path.join(NODE_SCRIPTS_DIR, "lib")).sort()).toEqual(LIBRARIES);
  });

  test("shellcheck -x finds nothing in node-scripts/*.sh, nor in each script as it is sent (libraries in place)", () => {
    shellcheck(NODE_SCRIPTS_DIR, [...SCRIPTS, ...LIBRARIES.map((l) => `lib/${l}`)]);
    const sent = fs.mkdtempSync(path.join(os.tmpdir(), "cm-sent-scripts-"));
    try {
      for (const name of SCRIPTS) fs.writeFileSync(path.join(sent, name), scriptText(name));
      shellcheck(sent, SCRIPTS);
    } finally {
      fs.rmSync(sent, { recursive: true, force: true });
    }
  });

  test.each(SCRIPTS)("%s as sent: every include line replaced by an existing library", (name) => {
    for (const [, file] of text(name).matchAll(/^# cluster-maintenance: include (.*)$/gm)) expect(LIBRARIES.map((l) => `lib/${l}`)).toContain(file);
    expect(scriptText(name)).not.toMatch(/cluster-maintenance: include/);
  });

  test.each(SCRIPTS)("%s: bash, strict mode, no shellcheck disables, no removed drain flag", (name) => {
    const t = text(name);
    expect(t.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(t).toMatch(/^set -euo pipefail$/m);
    expect(t).not.toMatch(/shellcheck\s+disable/);
    expect(t).not.toContain("--delete-local-data");
    expect(t).not.toMatch(/\bsource\b|^\s*\.\s/m); // each script is sent alone on stdin
    // The only lab hook is the node-root prefix; nothing else reads CM_* variables.
    for (const v of t.match(/CM_[A-Z_]+/g) ?? []) expect(v).toBe("CM_NODE_ROOT");
    expect(fs.statSync(path.join(NODE_SCRIPTS_DIR, name)).mode & 0o111).toBe(0o111);
  });

  test("drain.sh adds --force and --disable-eviction only behind their opt-in flags", () => {
    const t = text("drain.sh");
    expect(t).toMatch(/if \[\[ \$unmanaged == true \]\]; then flags\+=\(--force\); fi/);
    expect(t).toMatch(/if \[\[ \$no_eviction == true \]\]; then flags\+=\(--disable-eviction\); fi/);
    // Elsewhere --force appears only inside a message for the operator (a reasons+=("...") line), never in a command.
    const forceLines = t.split("\n").filter((l) => /--force\b/.test(l) && !l.trimStart().startsWith("#"));
    expect(forceLines.filter((l) => !/^\s*reasons\+=\("[^"]*"\)$/.test(l) && !/then flags\+=\(--force\); fi/.test(l))).toEqual([]);
    expect(t.match(/--disable-eviction\b/g)).toHaveLength(1);
  });

  test("shellcheck -x finds nothing in the lab stand-ins", () => {
    const files = fs.readdirSync(STANDINS_DIR).filter((f) => fs.statSync(path.join(STANDINS_DIR, f)).isFile());
    expect(files.sort()).toEqual(
      expect.arrayContaining(["apt-get", "apt-mark", "curl", "dpkg-query", "gpg", "kubeadm", "kubelet", "sudo", "systemctl", "systemd-run"]),
    );
    // kubectl is the real one: no stand-in, only its recorder.
    expect(files).not.toContain("kubectl");
    shellcheck(STANDINS_DIR, files);
  });

  test("shellcheck -x finds nothing in the recorders of the real tools; each runs the real binary", () => {
    expect(fs.readdirSync(RECORDED_DIR)).toEqual(["kubectl"]);
    shellcheck(RECORDED_DIR, ["kubectl"]);
    expect(fs.readFileSync(path.join(RECORDED_DIR, "kubectl"), "utf8")).toMatch(/^exec \/usr\/bin\/kubectl "\$@"$/m);
  });
});
