/** switch-repository.sh and upgrade-packages.sh against simulated nodes. */
import * as fs from "node:fs";
import * as path from "node:path";
import { createLab, repositoryLine, type Lab } from "../lab/node-kit";
import { callsDuring, cp, expectExit, mutations, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(): Lab {
  const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));

describe("switch-repository.sh", () => {
  test("writes exactly the pkgs.k8s.io repository line kubeadm's docs give, fetches the key, updates apt; a second run changes nothing", async () => {
    const l = lab();
    const first = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", ["1.35"]));
    expectExit(first.result, 0);
    const changed = mutations(first.calls);
    expect(changed.slice(0, 2).sort()).toEqual([
      "curl -fsSL --max-time 60 https://pkgs.k8s.io/core:/stable:/v1.35/deb/Release.key",
      `gpg --dearmor --yes -o ${l.dir}/nodes/w-1/root/etc/apt/keyrings/kubernetes-apt-keyring.gpg.new`,
    ]);
    expect(changed.slice(2)).toEqual(["apt-get -o DPkg::Lock::Timeout=300 update"]);
    const s = l.nodeState("w-1");
    expect(s.repoLine).toBe("deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.35/deb/ /");
    expect(s.repoLine).toBe(repositoryLine("1.35"));
    expect(s.keyringPresent).toBe(true);
    expect(s.aptIndexMinor).toBe("1.35");

    const second = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", ["1.35"]));
    expectExit(second.result, 0);
    expect(second.result.stderr).toMatch(/^cluster-maintenance: switch-repository.sh: w-1: already done/);
    expect(mutations(second.calls)).toEqual([]);
  });

  test("a failed key download leaves the old line and says which node and step", async () => {
    const l = lab();
    l.injectFailure("w-1", "curl ");
    const r = await l.runScript("w-1", "switch-repository.sh", ["1.35"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("cluster-maintenance: switch-repository.sh: w-1: fetching the repository key https://pkgs.k8s.io/core:/stable:/v1.35/deb/Release.key failed");
    expect(l.nodeState("w-1").repoLine).toBe(repositoryLine("1.34"));
  });

  test("after a failed apt-get update the next run updates again (the index is part of the check)", async () => {
    const l = lab();
    l.injectFailure("w-1", "apt-get -o DPkg::Lock::Timeout=300 update");
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 1);
    expect(l.nodeState("w-1").repoLine).toBe(repositoryLine("1.35"));
    l.clearFailures();
    const again = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", ["1.35"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual(["apt-get -o DPkg::Lock::Timeout=300 update"]);
    expect(l.nodeState("w-1").aptIndexMinor).toBe("1.35");
  });

  test("rejects a malformed minor with exit 2 before touching anything", async () => {
    const l = lab();
    const r = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", ["1.35; rm -rf /"]));
    expectExit(r.result, 2);
    expect(r.result.stderr).toContain("usage: switch-repository.sh MINOR");
    expect(mutations(r.calls)).toEqual([]);
  });
});

/** A lab whose w-1 is at `version` (cp-1 at 1.37.1). */
function labAt(version: string): Lab {
  const l = createLab({ nodes: [cp("cp-1", { version: "1.37.1" }), worker("w-1", { version })] });
  labs.push(l);
  return l;
}

describe("switch-repository.sh on a node whose kubeadm is of a later minor", () => {
  test.each([
    ["1.37.1", "1.35"],
    ["1.36.0", "1.35"],
    ["1.37.1", "1.4"], // minors compared as numbers
  ])("kubeadm %s, MINOR %s: nothing changes, exit 0", async (at, minor) => {
    const l = labAt(at);
    const before = l.nodeState("w-1");
    const r = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", [minor]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`cluster-maintenance: switch-repository.sh: w-1: already past v${minor}: kubeadm is ${at}; nothing changed`);
    expect(mutations(r.calls)).toEqual([]);
    expect(l.nodeState("w-1")).toEqual(before);
  });

  test("kubeadm of the same minor (a later patch) or an earlier one: switched as before", async () => {
    const l = labAt("1.35.10");
    const same = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", ["1.35"]));
    expectExit(same.result, 0);
    expect(same.result.stderr).toContain("w-1: already done: apt uses the v1.35 repository");
    const next = await callsDuring(l, () => l.runScript("w-1", "switch-repository.sh", ["1.36"]));
    expectExit(next.result, 0);
    expect(mutations(next.calls)).toContain("apt-get -o DPkg::Lock::Timeout=300 update");
    expect(l.nodeState("w-1").repoLine).toBe(repositoryLine("1.36"));
  });
});

describe("upgrade-packages.sh", () => {
  test("switches held packages to the new version and holds them again; a second run changes nothing", async () => {
    const l = lab();
    expectExit(await l.runScript("cp-1", "switch-repository.sh", ["1.35"]), 0);
    const first = await callsDuring(l, () => l.runScript("cp-1", "upgrade-packages.sh", ["1.35.9", "kubeadm"]));
    expectExit(first.result, 0);
    expect(mutations(first.calls)).toEqual(["apt-mark unhold kubeadm", "apt-get -o DPkg::Lock::Timeout=300 install -y kubeadm=1.35.9-*", "apt-mark hold kubeadm"]);
    const s = l.nodeState("cp-1");
    expect(s.packages).toEqual({ kubeadm: "1.35.9-1.1", kubelet: "1.34.6-1.1", kubectl: "1.34.6-1.1" });
    expect(s.held).toEqual(["kubeadm", "kubectl", "kubelet"]);

    const second = await callsDuring(l, () => l.runScript("cp-1", "upgrade-packages.sh", ["1.35.9", "kubeadm"]));
    expectExit(second.result, 0);
    expect(second.result.stderr).toContain("cp-1: already done: kubeadm at 1.35.9 and held");
    expect(mutations(second.calls)).toEqual([]);
  });

  test("several packages in one install; a package already at the version but unheld is only held", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    expectExit(await l.run("w-1", "apt-mark unhold kubectl && apt-get install -y kubectl=1.35.9-*"), 0);
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-packages.sh", ["1.35.9", "kubelet", "kubectl"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual(["apt-mark unhold kubelet", "apt-get -o DPkg::Lock::Timeout=300 install -y kubelet=1.35.9-*", "apt-mark hold kubelet kubectl"]);
    expect(l.nodeState("w-1").held).toEqual(["kubeadm", "kubectl", "kubelet"]);
  });

  test("without the new minor's repository the install fails, names node and step, and the package is held again", async () => {
    const l = lab();
    const r = await l.runScript("w-1", "upgrade-packages.sh", ["1.35.9", "kubeadm"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("E: Version '1.35.9-*' for 'kubeadm' was not found");
    expect(r.stderr).toContain("cluster-maintenance: upgrade-packages.sh: w-1: apt-get install kubeadm=1.35.9-* failed");
    const s = l.nodeState("w-1");
    expect(s.packages.kubeadm).toBe("1.34.6-1.1");
    expect(s.held).toContain("kubeadm");
  });

  test.each([
    ["1.37.1", "1.35.9"],
    ["1.35.10", "1.35.9"], // patches compared as numbers
  ])("a node at %s is past %s: nothing installed, unheld or held, exit 0", async (at, step) => {
    const l = labAt(at);
    // apt could offer the step's version: the repository of its minor is there.
    expectExit(await l.run("w-1", `echo '${repositoryLine(step.split(".").slice(0, 2).join("."))}' > "$CM_NODE_ROOT/etc/apt/sources.list.d/kubernetes.list" && apt-get update`), 0);
    const before = l.nodeState("w-1");
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-packages.sh", [step, "kubeadm"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`cluster-maintenance: upgrade-packages.sh: w-1: already past ${step} (kubeadm ${at}): nothing changed`);
    expect(mutations(r.calls)).toEqual([]);
    expect(l.nodeState("w-1")).toEqual(before);
  });

  test("a package past the version is left as it is while the others are installed at it", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    expectExit(await l.run("w-1", "apt-mark unhold kubectl && apt-get install -y kubectl=1.35.10-* && apt-mark hold kubectl"), 0);
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-packages.sh", ["1.35.9", "kubelet", "kubectl"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual(["apt-mark unhold kubelet", "apt-get -o DPkg::Lock::Timeout=300 install -y kubelet=1.35.9-*", "apt-mark hold kubelet"]);
    expect(r.result.stderr).toContain("w-1: kubelet at 1.35.9 and held; past 1.35.9, left as they are: kubectl 1.35.10");
    expect(l.nodeState("w-1").packages).toEqual({ kubeadm: "1.34.6-1.1", kubectl: "1.35.10-1.1", kubelet: "1.35.9-1.1" });
    const again = await callsDuring(l, () => l.runScript("w-1", "upgrade-packages.sh", ["1.35.9", "kubelet", "kubectl"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("w-1: already done: kubelet at 1.35.9 and held; past 1.35.9, left as they are: kubectl 1.35.10");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("rejects a bad version or package name with exit 2", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "upgrade-packages.sh", ["1.35", "kubeadm"]), 2);
    expectExit(await l.runScript("w-1", "upgrade-packages.sh", ["1.35.9", "kubeadm;reboot"]), 2);
    expectExit(await l.runScript("w-1", "upgrade-packages.sh", ["1.35.9"]), 2);
  });
});

describe("apt stand-ins behave like apt", () => {
  test("installing a held package fails without --allow-change-held-packages", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    const r = await l.run("w-1", "apt-get install -y kubeadm='1.35.9-*'");
    expectExit(r, 100);
    expect(r.stderr).toContain("Held packages were changed and -y was used without --allow-change-held-packages");
    expect(l.nodeState("w-1").packages.kubeadm).toBe("1.34.6-1.1");
  });

  test("a version is found only when the repository line and the fetched index are for its minor", async () => {
    const l = lab();
    expectExit(await l.run("w-1", "apt-mark unhold kubeadm"), 0);
    expectExit(await l.run("w-1", "apt-get install -y kubeadm='1.35.9-*'"), 100);
    // Line switched by hand but no apt-get update yet: apt still has the old index.
    expectExit(await l.run("w-1", `echo '${repositoryLine("1.35")}' > "$CM_NODE_ROOT/etc/apt/sources.list.d/kubernetes.list"`), 0);
    expectExit(await l.run("w-1", "apt-get install -y kubeadm='1.35.9-*'"), 100);
    expectExit(await l.run("w-1", "apt-get update && apt-get install -y kubeadm='1.35.9-*'"), 0);
    expect(l.nodeState("w-1").packages.kubeadm).toBe("1.35.9-1.1");
  });

  test("calls are logged with a millisecond timestamp and injected failures hit only matching calls", async () => {
    const l = lab();
    l.injectFailure("w-1", "apt-mark hold");
    const before = Date.now();
    expectExit(await l.run("w-1", "apt-mark showhold"), 0);
    const r = await l.run("w-1", "apt-mark hold kubeadm");
    expectExit(r, 1);
    expect(r.stderr).toContain("lab: injected failure");
    expectExit(await l.run("cp-1", "apt-mark hold kubeadm"), 0);
    const calls = l.calls();
    expect(calls.map((c) => `${c.node} ${c.command} ${c.args.join(" ")}`)).toEqual([
      "w-1 apt-mark showhold",
      "w-1 apt-mark hold kubeadm",
      "cp-1 apt-mark hold kubeadm",
    ]);
    for (const c of calls) {
      expect(c.ms).toBeGreaterThanOrEqual(before - 5);
      expect(c.ms).toBeLessThanOrEqual(Date.now() + 5);
    }
  });
});

/** Another apt (unattended-upgrades) holds `lock` ("frontend": the dpkg lock; "lists": apt-get update's) for `seconds`. */
function holdAptLock(l: Lab, node: string, lock: "frontend" | "lists", seconds: number): void {
  fs.writeFileSync(path.join(l.dir, "nodes", node, `apt-lock-${lock}`), `${Date.now() + seconds * 1000} 2332 unattended-upgr\n`);
}

describe("apt's lock held by another apt (unattended-upgrades)", () => {
  test("the stand-in: apt-get fails at once with apt's messages, unless DPkg::Lock::Timeout lets it wait long enough; update's lists lock is not covered", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    holdAptLock(l, "w-1", "frontend", 3);
    const now = await l.run("w-1", "apt-mark unhold kubeadm && apt-get install -y kubeadm=1.35.9-*");
    expectExit(now, 100);
    expect(now.stderr).toContain("E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2332 (unattended-upgr)");
    expect(now.stderr).toContain("E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?");
    const short = await l.run("w-1", "apt-get -o DPkg::Lock::Timeout=1 install -y kubeadm=1.35.9-*");
    expectExit(short, 100);
    const waited = await l.run("w-1", "apt-get -o DPkg::Lock::Timeout=10 install -y kubeadm=1.35.9-*");
    expectExit(waited, 0);
    expect(waited.stdout).toContain("Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2332 (unattended-upgr)");
    expect(l.nodeState("w-1").packages.kubeadm).toBe("1.35.9-1.1");
    holdAptLock(l, "w-1", "lists", 3);
    const update = await l.run("w-1", "apt-get -o DPkg::Lock::Timeout=10 update");
    expectExit(update, 100);
    expect(update.stderr).toContain("E: Could not get lock /var/lib/apt/lists/lock. It is held by process 2332 (unattended-upgr)");
    expect(update.stderr).toContain("E: Unable to lock directory /var/lib/apt/lists/");
  });

  test("upgrade-packages.sh waits for the dpkg lock instead of failing", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    holdAptLock(l, "w-1", "frontend", 3);
    const r = await l.runScript("w-1", "upgrade-packages.sh", ["1.35.9", "kubeadm"]);
    expectExit(r, 0);
    expect(r.stdout).toContain("Waiting for cache lock");
    expect(l.nodeState("w-1").packages.kubeadm).toBe("1.35.9-1.1");
  });

  test("switch-repository.sh's apt-get update waits for the lists lock (tried again every 5 s)", async () => {
    const l = lab();
    holdAptLock(l, "w-1", "lists", 3);
    const r = await l.runScript("w-1", "switch-repository.sh", ["1.35"]);
    expectExit(r, 0);
    expect(r.stderr).toContain("apt-get update: the package lists are locked by another apt (held by process 2332 (unattended-upgr)); trying again in 5 s");
    expect(l.nodeState("w-1").aptIndexMinor).toBe("1.35");
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched (every run above used the node root)", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
