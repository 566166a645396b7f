/** Shared bits of the node-script tests (not a test file itself). */
import * as fs from "node:fs";
import { isMutating, type Lab, type LabCall, type LabNodeSpec, type RunResult } from "../lab/node-kit";

/** The stand-in calls made while `action` ran, and its result. */
export async function callsDuring(lab: Lab, action: () => Promise<RunResult>): Promise<{ result: RunResult; calls: LabCall[] }> {
  const before = lab.calls().length;
  const result = await action();
  return { result, calls: lab.calls().slice(before) };
}

/**
 * Waits until `count` stand-in calls made after the first `since` calls satisfy `match` (a
 * script has got that far), polling the calls log; rejects after `timeoutMs`. A condition, never
 * a fixed delay: the tests hold on a loaded machine.
 */
export async function callsSeen(lab: Lab, since: number, match: (call: LabCall) => boolean, count = 1, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (lab.calls().slice(since).filter(match).length < count) {
    if (Date.now() > deadline) throw new Error(`no ${count} matching calls within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** "command args..." of the mutating calls among `calls`. */
export function mutations(calls: readonly LabCall[]): string[] {
  return calls.filter(isMutating).map((c) => [c.command, ...c.args].join(" "));
}

/** Lines of the calls as "node command args...". */
export function lines(calls: readonly LabCall[]): string[] {
  return calls.map((c) => [c.node, c.command, ...c.args].join(" "));
}

/** A control-plane node and a worker, at 1.34.6 unless told otherwise. */
export function cp(name: string, extra: Partial<LabNodeSpec> = {}): LabNodeSpec {
  return { name, role: "control-plane", version: "1.34.6", ...extra };
}
export function worker(name: string, extra: Partial<LabNodeSpec> = {}): LabNodeSpec {
  return { name, role: "worker", version: "1.34.6", ...extra };
}

/** Real-machine paths a script would write if it forgot the ${CM_NODE_ROOT} prefix. */
const REAL_PATHS = [
  "/etc/apt/sources.list.d/kubernetes.list",
  "/etc/apt/keyrings/kubernetes-apt-keyring.gpg",
  "/etc/kubernetes",
  "/var/lib/cluster-maintenance",
  "/var/run/reboot-required",
];

/** Existence and mtime of those paths, to compare before and after a test file. */
export function realMachinePaths(): Record<string, string> {
  return Object.fromEntries(
    REAL_PATHS.map((p) => {
      try {
        return [p, `mtime ${fs.statSync(p).mtimeMs}`];
      } catch {
        return [p, "absent"];
      }
    }),
  );
}

/** Fails with the script's output when the exit code is not `code`. */
export function expectExit(r: RunResult, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

/**
 * Stops `node`'s kubelet (systemctl stop) and dates the stop `seconds` ago, as if it had stopped
 * then: the lab's API double then shows what a real control plane shows that long after (Ready True
 * for the node-monitor grace period, 50 s, then Unknown; the Lease not renewed since the stop).
 */
export async function kubeletStoppedFor(lab: Lab, node: string, seconds: number): Promise<void> {
  expectExit(await lab.run(node, "systemctl stop kubelet"), 0);
  fs.writeFileSync(`${lab.dir}/nodes/${node}/kubelet-stopped-at`, `${Date.now() - seconds * 1000}\n`);
}
