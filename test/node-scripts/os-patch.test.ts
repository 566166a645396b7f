/** os-patch.sh: OS upgrade once per revision, reboot when asked (printing the boot id before it), then wait-ready on a new boot id. */
import { createLab, type Lab } from "../lab/node-kit";
import { callsDuring, cp, expectExit, mutations, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(rebootAfterOsUpgrade: boolean): Lab {
  const l = createLab({ nodes: [cp("cp-1"), worker("w-1", { rebootAfterOsUpgrade })], timerSeconds: 1, bootSeconds: 1 });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));

describe("os-patch.sh", () => {
  test("upgrades OS packages once per revision, held Kubernetes packages untouched; a second run changes nothing", async () => {
    const l = lab(false);
    const before = l.nodeState("w-1");
    const r = await callsDuring(l, () => l.runScript("w-1", "os-patch.sh", ["2026-03"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "apt-get -o DPkg::Lock::Timeout=300 update",
      "apt-get -o DPkg::Lock::Timeout=300 upgrade -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold",
    ]);
    expect(r.result.stdout).toContain("The following packages have been kept back: kubeadm kubectl kubelet");
    expect(r.result.stdout).not.toContain("reboot");
    const after = l.nodeState("w-1");
    expect(after.markers).toEqual(["os-patch-2026-03"]);
    expect(after.packages).toEqual(before.packages);
    expect(after.held).toEqual(["kubeadm", "kubectl", "kubelet"]);
    expect(after.bootId).toBe(before.bootId);

    const again = await callsDuring(l, () => l.runScript("w-1", "os-patch.sh", ["2026-03"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("os-patch.sh: w-1: already done: OS patch revision 2026-03 applied");
    expect(mutations(again.calls)).toEqual([]);
    // A new revision runs again.
    expect(mutations((await callsDuring(l, () => l.runScript("w-1", "os-patch.sh", ["2026-04"]))).calls)).toHaveLength(2);
  });

  test("when the OS asks for a reboot: prints it, schedules one, and wait-ready with the old boot id sees the node come back", async () => {
    const l = lab(true);
    const oldBoot = l.nodeState("w-1").bootId;

    const r = await callsDuring(l, () => l.runScript("w-1", "os-patch.sh", ["2026-03"]));
    expectExit(r.result, 0);
    expect(r.result.stdout).toContain("reboot required\n");
    expect(r.result.stdout.endsWith(`\nreboot-scheduled ${oldBoot}\n`)).toBe(true);
    expect(mutations(r.calls)).toContain("systemd-run --on-active=5 systemctl reboot");
    expect(l.nodeState("w-1").markers).toEqual(["os-patch-2026-03"]);

    const wait = await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "30", oldBoot]);
    expectExit(wait, 0);
    expect(wait.stderr).toContain("wait-ready.sh: w-1: Ready at v1.34.6");
    const s = l.nodeState("w-1");
    expect(s.bootId).not.toBe(oldBoot);
    expect(s.rebootRequired).toBe(false);
    expect(s.kubeletActive).toBe(true);
    expect(l.calls().some((c) => c.node === "w-1" && c.command === "systemctl" && c.args[0] === "reboot")).toBe(true);

    const again = await callsDuring(l, () => l.runScript("w-1", "os-patch.sh", ["2026-03"]));
    expect(mutations(again.calls)).toEqual([]);
  });

  test("a failed upgrade writes no marker and names node and step; the next run does it", async () => {
    const l = lab(false);
    l.injectFailure("w-1", "apt-get -o DPkg::Lock::Timeout=300 upgrade");
    const r = await l.runScript("w-1", "os-patch.sh", ["r1"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("cluster-maintenance: os-patch.sh: w-1: apt-get upgrade failed");
    expect(l.nodeState("w-1").markers).toEqual([]);
    l.clearFailures();
    expectExit(await l.runScript("w-1", "os-patch.sh", ["r1"]), 0);
    expect(l.nodeState("w-1").markers).toEqual(["os-patch-r1"]);
  });

  test("rejects a bad revision with exit 2", async () => {
    const l = lab(false);
    expectExit(await l.runScript("w-1", "os-patch.sh", ["../../etc/passwd"]), 2);
    expectExit(await l.runScript("w-1", "os-patch.sh", []), 2);
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes, marker and reboot-required paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
