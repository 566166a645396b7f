/**
 * etcd-member.sh (check or remove a control-plane node's etcd member) against a real etcd 3.4:
 * three members cp-1, cp-2, cp-3 (test/lab/etcd-cluster.ts, started once), the script run on lab
 * node cp-1 as the program runs it (real etcdctl behind the lab's logging stand-in); one
 * single-member etcd (test/lab/etcd.ts) for the last-member refusal.
 */
import { startEtcd, type LabEtcd } from "../lab/etcd";
import { startEtcdCluster, type LabEtcdCluster } from "../lab/etcd-cluster";
import { createLab, type Lab, type RunResult } from "../lab/node-kit";
import { callsDuring, cp, expectExit, mutations } from "./support";

let lab: Lab;
let etcd: LabEtcdCluster;
/** The keys written before any removal, with their values. */
const written: Record<string, string> = {};

const ARGS = (mode: string, node: string, allowEven: string, via = "cp-1") => [mode, node, allowEven, etcd.endpoint(via), etcd.caCert, etcd.cert, etcd.key];
const run = (args: readonly string[]): Promise<RunResult> => lab.runScript("cp-1", "etcd-member.sh", args, { timeoutMs: 150_000 });
const names = async (via = "cp-1") => (await etcd.members(via)).map((m) => m.name).sort();
const idOf = async (name: string) => (await etcd.members()).find((m) => m.name === name)!.id;
const msg = (node: string, text: string) => `cluster-maintenance: etcd-member.sh: ${node}: ${text}`;

beforeAll(async () => {
  lab = createLab({ nodes: [cp("cp-1")] });
  etcd = await startEtcdCluster(["cp-1", "cp-2", "cp-3"]);
  for (let i = 0; i < 20; i++) {
    written[`/registry/lab/key-${i}`] = `value-${i}`;
    await etcd.put(`/registry/lab/key-${i}`, `value-${i}`, ["cp-1", "cp-2", "cp-3"][i % 3]);
  }
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
  lab?.cleanup();
});

describe("etcd-member.sh with a real three-member etcd 3.4", () => {
  test("check with ALLOW_EVEN true: may remove cp-3 (its hex id, 3 -> 2, tolerating 0), only reads, nothing changes", async () => {
    const before = await etcd.members();
    expect(before.map((m) => m.name).sort()).toEqual(["cp-1", "cp-2", "cp-3"]);
    const id = await idOf("cp-3");
    expect(id).toMatch(/^[0-9a-f]{1,16}$/);
    const r = await callsDuring(lab, () => run(ARGS("check", "cp-3", "true")));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(msg("cp-3", "etcd has 3 members, 3 healthy; cp-3 is member " + id));
    expect(r.result.stderr.trimEnd().split("\n").pop()).toBe(msg("cp-3", `may remove etcd member cp-3 (${id}): 3 members -> 2, tolerating 0 failure(s)`));
    // member list at ENDPOINT, then endpoint health of each member; nothing else.
    expect(r.calls.filter((c) => c.command === "etcdctl").map((c) => c.args.filter((a) => !a.startsWith("--")).join(" "))).toEqual([
      "member list -w simple", "endpoint health", "endpoint health", "endpoint health",
    ]);
    expect(mutations(r.calls)).toEqual([]);
    expect(await etcd.members()).toEqual(before);
  });

  test("an even count is refused without ALLOW_EVEN true, in check and remove: exit 3, the count, the FAQ, the config key; nothing removed", async () => {
    for (const mode of ["check", "remove"]) {
      const r = await callsDuring(lab, () => run(ARGS(mode, "cp-3", "false")));
      expectExit(r.result, 3);
      expect(r.result.stderr).toContain(
        msg("cp-3", "removing cp-3 leaves 2 etcd members, an even count: it tolerates no more failures than 1 members (0 failure(s); https://etcd.io/docs/v3.5/faq/#why-an-odd-number-of-cluster-members); set removeNodes[].allowEvenEtcdMembers: true to accept it; refused, nothing changed"),
      );
      expect(mutations(r.calls)).toEqual([]);
    }
    expect(await names()).toEqual(["cp-1", "cp-2", "cp-3"]);
  });

  test("another member stopped: refused (exit 3) naming it, in check and remove; nothing removed", async () => {
    await etcd.stopMember("cp-2");
    try {
      for (const mode of ["check", "remove"]) {
        const r = await callsDuring(lab, () => run(ARGS(mode, "cp-3", "true")));
        expectExit(r.result, 3);
        expect(r.result.stderr).toContain(msg("cp-3", "etcd has 3 members, 2 healthy"));
        expect(r.result.stderr).toContain(msg("cp-3", "etcd members not healthy: cp-2: removing cp-3 needs every other member healthy (1 of the 2 others are); refused, nothing changed"));
        expect(mutations(r.calls)).toEqual([]);
      }
      expect(await names()).toEqual(["cp-1", "cp-2", "cp-3"]);
    } finally {
      await etcd.startMember("cp-2");
    }
  }, 120_000);

  test("remove cp-3: gone from the member list, its etcd shut down, cp-1 and cp-2 each still hold every key written before", async () => {
    const id = await idOf("cp-3");
    // cp-2 has just restarted: etcd refuses the remove ("unhealthy cluster") for its first 5 s; the script retries.
    const r = await callsDuring(lab, () => run(ARGS("remove", "cp-3", "true")));
    expectExit(r.result, 0);
    expect(r.result.stderr.trimEnd().split("\n").pop()).toBe(msg("cp-3", `removed etcd member cp-3 (${id}): remaining members: cp-1 cp-2`));
    const removes = mutations(r.calls);
    expect(removes.length).toBeGreaterThanOrEqual(1);
    for (const m of removes) expect(m).toMatch(new RegExp(`^etcdctl .* member remove ${id}$`));
    // Through the other members' client URLs, not cp-3's.
    const through = /--endpoints=(\S+) /.exec(removes[0]!)![1]!.split(",").sort();
    expect(through).toEqual([etcd.endpoint("cp-1"), etcd.endpoint("cp-2")].sort());
    expect(await names("cp-1")).toEqual(["cp-1", "cp-2"]);
    expect(await names("cp-2")).toEqual(["cp-1", "cp-2"]);
    await etcd.exited("cp-3");
    for (const via of ["cp-1", "cp-2"]) {
      const all = await etcd.getAll(via);
      expect(Object.keys(all)).toHaveLength(20);
      expect(all).toEqual(written);
    }
  }, 120_000);

  test("removing cp-3 again: no etcd member named cp-3, nothing to remove, exit 0, in both modes", async () => {
    for (const mode of ["remove", "check"]) {
      const r = await callsDuring(lab, () => run(ARGS(mode, "cp-3", "false")));
      expectExit(r.result, 0);
      expect(r.result.stderr).toBe(`${msg("cp-3", "no etcd member named cp-3: nothing to remove")}\n`);
      expect(mutations(r.calls)).toEqual([]);
    }
    expect(await names()).toEqual(["cp-1", "cp-2"]);
  });

  // A member of a cluster without quorum answers `endpoint health` as unhealthy too (its health check is a
  // quorum read): with cp-2 down, cp-1 counts as unhealthy, 0 of 2.
  test("two members, the one to remove stopped: etcd has no quorum (0 of 2 healthy, 2 needed): exit 3, nothing removed", async () => {
    await etcd.stopMember("cp-2");
    const r = await callsDuring(lab, () => run(ARGS("remove", "cp-2", "true")));
    expectExit(r.result, 3);
    expect(r.result.stderr).toContain(
      msg("cp-2", "etcd has no quorum now: 0 of its 2 members are healthy, 2 needed, so a member remove cannot be committed; refused, nothing changed"),
    );
    expect(mutations(r.calls)).toEqual([]);
    expect(await names()).toEqual(["cp-1", "cp-2"]);
  }, 60_000);
});

describe("etcd-member.sh with a single-member etcd", () => {
  let single: LabEtcd;
  beforeAll(async () => {
    single = await startEtcd();
  });
  afterAll(async () => {
    await single?.stop();
  });
  const args = (mode: string, node: string) => [mode, node, "true", single.endpoint, single.caCert, single.cert, single.key];

  test("the last member (etcd's only one) is refused in both modes: exit 3, etcd stays", async () => {
    for (const mode of ["check", "remove"]) {
      const r = await callsDuring(lab, () => run(args(mode, "lab")));
      expectExit(r.result, 3);
      expect(r.result.stderr).toContain(msg("lab", "lab is etcd's only member: removing it would leave no etcd; refused, nothing changed"));
      expect(mutations(r.calls)).toEqual([]);
    }
    await single.put("/still", "here");
    expect(await single.getAll()).toEqual({ "/still": "here" });
  });

  test("an etcd that does not answer at ENDPOINT: exit 1 naming it", async () => {
    const r = await run(["check", "lab", "true", "https://127.0.0.1:1", single.caCert, single.cert, single.key]);
    expectExit(r, 1);
    expect(r.stderr).toContain(msg("lab", "etcdctl member list at https://127.0.0.1:1 failed: "));
  }, 60_000);
});

describe("etcd-member.sh arguments", () => {
  test.each([
    ["no arguments", []],
    ["six arguments", ["check", "cp-3", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt"]],
    ["eight arguments", ["check", "cp-3", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key", "more"]],
    ["MODE delete", ["delete", "cp-3", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["a node name with a space", ["check", "cp 3", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["a node name with a command", ["check", "$(reboot)", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["ALLOW_EVEN yes", ["check", "cp-3", "yes", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["an ENDPOINT without a port", ["check", "cp-3", "true", "https://127.0.0.1", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["an ENDPOINT with a path", ["check", "cp-3", "true", "https://127.0.0.1:2379/x", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["an ENDPOINT with port 70000", ["check", "cp-3", "true", "https://127.0.0.1:70000", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["an ENDPOINT of another scheme", ["check", "cp-3", "true", "unix://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["two ENDPOINTs", ["check", "cp-3", "true", "https://a:2379,https://b:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["a relative CACERT", ["check", "cp-3", "true", "https://127.0.0.1:2379", "ca.crt", "/etc/c.crt", "/etc/c.key"]],
    ["a CERT with ..", ["check", "cp-3", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/../c.crt", "/etc/c.key"]],
    ["a KEY with a space", ["check", "cp-3", "true", "https://127.0.0.1:2379", "/etc/ca.crt", "/etc/c.crt", "/etc/c key"]],
  ])("%s: exit 2, no etcdctl call", async (_name, args) => {
    const r = await callsDuring(lab, () => run(args));
    expectExit(r.result, 2);
    expect(r.result.stderr).toMatch(/^cluster-maintenance: etcd-member\.sh: \S+: /);
    expect(r.calls.filter((c) => c.command === "etcdctl")).toEqual([]);
  });
});
