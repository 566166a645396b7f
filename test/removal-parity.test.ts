/**
 * The config parser and the removal scripts agree on what reaches them: every etcd endpoint and
 * node name the stack config accepts, etcd-member.sh and reset-node.sh accept too (they exit 2,
 * bad arguments, for what the parser refuses; node names are the one place the parser is
 * stricter). The scripts run for real (bash), every tool they call a failing stub, so an accepted
 * value stops at the first tool, never at exit 2.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptText } from "../components/node-scripts";
import { parseStackConfig } from "../config/stack-config";
import { InputErrors } from "../planning/errors";
import { stackConfig } from "./helpers/pulumi-mocks";

const ETCD = ["/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/server.crt", "/etc/kubernetes/pki/etcd/server.key"];
/** Stubs of every tool the scripts call after their argument checks: each fails at once, so an accepted value ends in exit 1 (never 2), and nothing on this machine is touched. */
const BIN = mkdtempSync(join(tmpdir(), "cm-removal-args-"));
for (const tool of ["etcdctl", "kubeadm", "systemctl", "iptables", "ipvsadm", "kubectl"]) {
  writeFileSync(join(BIN, tool), `#!/bin/sh\necho "stub ${tool}: not here" >&2\nexit 1\n`, { mode: 0o755 });
}
afterAll(() => rmSync(BIN, { recursive: true, force: true }));

/** The script's exit code with `args`, as it is sent (its libraries prepended). */
function exitOf(script: "etcd-member.sh" | "reset-node.sh", args: readonly string[]): number {
  const r = spawnSync("bash", ["-c", scriptText(script), script, ...args], {
    encoding: "utf8", timeout: 30_000, env: { PATH: `${BIN}:/usr/bin:/bin`, CM_NODE_ROOT: join(BIN, "root"), HOME: BIN },
  });
  return r.status ?? -1;
}

/** Whether the parser accepts the dev stack with `patch`. */
function accepts(patch: Record<string, unknown>): boolean {
  try {
    parseStackConfig({ ...stackConfig("dev"), ...patch }, "dev");
    return true;
  } catch (e) {
    if (e instanceof InputErrors) return false;
    throw e;
  }
}

it.each([
  "https://127.0.0.1:2379", "http://etcd.internal:2379", "https://10.0.0.11:1", "https://h:65535",
  "https://127.0.0.1:0", "https://127.0.0.1:65536", "https://127.0.0.1:99999", "https://127.0.0.1", "127.0.0.1:2379", "https://[::1]:2379", "https://a b:2379",
])("etcd.endpoint %s: the parser and etcd-member.sh agree", (endpoint) => {
  const parser = accepts({ etcd: { endpoint } });
  const script = exitOf("etcd-member.sh", ["check", "cp-3", "false", endpoint, ...ETCD]) !== 2;
  expect({ endpoint, script }).toEqual({ endpoint, script: parser });
});

it.each([
  ["general-2", true, true], ["cp-3", true, true], ["node.example.com", true, true], ["a", true, true],
  ["General-2", false, false], ["-a", false, false], ["a-", false, false], ["a_b", false, false], ["a b", false, false],
  // A DNS subdomain has no empty or dash-edged label: the parser refuses these, which the scripts' pattern would take.
  ["a..b", false, true], ["a.-b", false, true],
] as const)("node name %s: the parser takes it: %s, the removal scripts: %s", (name, parser, script) => {
  expect(!nodeNameRefused(name)).toBe(parser);
  expect(exitOf("reset-node.sh", [name]) !== 2).toBe(script);
  expect(exitOf("etcd-member.sh", ["remove", name, "true", "https://127.0.0.1:2379", ...ETCD]) !== 2).toBe(script);
});

/** Whether the parser refuses `name` as a node name (not for what it names: a node not in the dev stack is another problem). */
function nodeNameRefused(name: string): boolean {
  try {
    parseStackConfig({ ...stackConfig("dev"), removeNodes: [name] }, "dev");
    return false;
  } catch (e) {
    if (!(e instanceof InputErrors)) throw e;
    return e.problems.some((p) => p.key === "removeNodes[0]" && p.problem.startsWith("is not a Kubernetes node name"));
  }
}
