/**
 * join-command.sh (run on the kubectl node): a bootstrap token per batch of launches of a
 * blue-green pool, its join command printed and never shown elsewhere, and the batch's token
 * revoked by its description; against a fake kubeadm and the lab's kubeadm stand-in.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseJoinCommand } from "../../components/user-data";
import { createLab, NODE_SCRIPTS_DIR, runCommand, scriptCommand, type Lab, type RunResult } from "../lab/node-kit";
import { callsDuring, cp, expectExit, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
const tmpDirs: string[] = [];
function lab(): Lab {
  const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
  labs.push(l);
  return l;
}
afterAll(() => {
  labs.forEach((l) => l.cleanup());
  tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});
const run = (l: Lab, script: string, args: readonly string[]) => l.runScript("cp-1", script, args);
/** The tokens the lab's kubeadm holds: id -> [secret, expiry, description]. */
function tokens(l: Lab): Map<string, [string, string, string]> {
  const dir = path.join(l.dir, "cluster", "tokens");
  if (!fs.existsSync(dir)) return new Map();
  return new Map(fs.readdirSync(dir).map((id) => {
    const [secret, expiry, ...description] = fs.readFileSync(path.join(dir, id), "utf8").trim().split(" ");
    return [id, [secret!, expiry!, description.join(" ")]];
  }));
}

describe("join-command.sh", () => {
  const TOKEN = "abcdef.0123456789abcdef";
  const HASH = `sha256:${"0123456789abcdef".repeat(4)}`;
  const JOIN = `kubeadm join 10.0.0.10:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}`;
  /**
   * Runs join-command.sh on cp-1 with a fake kubeadm first on PATH that records its arguments
   * (one per line) and prints `stdout`/`stderr` and exits `code`.
   */
  async function joinCommand(args: readonly string[], fake: { stdout: string; stderr?: string; code?: number }): Promise<{ r: RunResult; argv: string[] | null }> {
    const l = lab();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-fake-kubeadm-"));
    tmpDirs.push(dir);
    fs.writeFileSync(path.join(dir, "out"), fake.stdout);
    fs.writeFileSync(path.join(dir, "err"), fake.stderr ?? "");
    fs.writeFileSync(
      path.join(dir, "kubeadm"),
      `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >'${dir}/argv'\ncat '${dir}/out'\ncat '${dir}/err' >&2\nexit ${fake.code ?? 0}\n`,
      { mode: 0o755 },
    );
    const text = fs.readFileSync(path.join(NODE_SCRIPTS_DIR, "join-command.sh"), "utf8");
    const r = await runCommand(l, "cp-1", `export PATH='${dir}':"$PATH"; ${scriptCommand("join-command.sh", args)}`, text);
    const argvFile = path.join(dir, "argv");
    return { r, argv: fs.existsSync(argvFile) ? fs.readFileSync(argvFile, "utf8").split("\n").slice(0, -1) : null };
  }

  test("prints exactly the join command line on stdout; kubeadm is asked for a token with the TTL and a description", async () => {
    const { r, argv } = await joinCommand(["30", "batch", "1.37.1"], { stdout: `${JOIN} \n` });
    expectExit(r, 0);
    expect(r.stdout).toBe(`${JOIN}\n`);
    expect(r.stderr).toBe("");
    expect(argv).toEqual(["token", "create", "--print-join-command", "--ttl", "30m", "--description", "cluster-maintenance pool batch v1.37.1"]);
  });

  test("accepts a DNS name and a bracketed IPv6 endpoint", async () => {
    for (const endpoint of ["api.cluster.example:6443", "[fd00::10]:6443"]) {
      const line = `kubeadm join ${endpoint} --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}`;
      const { r } = await joinCommand(["30", "batch", "1.37.1"], { stdout: `${line}\n` });
      expectExit(r, 0);
      expect(r.stdout).toBe(`${line}\n`);
    }
  });

  test.each([
    ["a second line", `${JOIN}\nkubeadm join 10.0.0.11:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}\n`],
    ["no CA hash", `kubeadm join 10.0.0.10:6443 --token ${TOKEN}\n`],
    ["a control-plane join", `${JOIN} --control-plane\n`],
    ["a warning before it", `W0101 warning: something about ${TOKEN}\n${JOIN}\n`],
    ["nothing", ""],
  ])("refuses output with %s (exit 1), never showing it", async (_what, stdout) => {
    const { r } = await joinCommand(["30", "batch", "1.37.1"], { stdout });
    expectExit(r, 1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("join-command.sh: cp-1: kubeadm token create --print-join-command printed something that is not one");
    expect(r.stderr).toContain("not shown: it may hold a token");
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stderr).not.toContain(HASH);
    expect(r.stderr).not.toContain("10.0.0.1");
  });

  test("a failing kubeadm: exit 1, its stderr passed on with tokens masked, its stdout not shown", async () => {
    const { r } = await joinCommand(["30", "batch", "1.37.1"], {
      stdout: `${JOIN}\n`,
      stderr: `failed to create bootstrap token ${TOKEN}: connection refused\n`,
      code: 3,
    });
    expectExit(r, 1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("failed to create bootstrap token <token>: connection refused");
    expect(r.stderr).toContain("join-command.sh: cp-1: kubeadm token create failed (exit 3)");
    expect(r.stderr).not.toContain(TOKEN);
  });

  test("against the lab's kubeadm: a token with the TTL and the description is recorded; the line parses", async () => {
    const l = lab();
    const started = Math.floor(Date.now() / 1000);
    const r = await run(l, "join-command.sh", ["30", "batch", "1.37.1"]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^kubeadm join \S+ --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}\n$/);
    const join = parseJoinCommand(r.stdout);
    expect(r.stderr).not.toContain(join.token);
    const [id, secret] = join.token.split(".");
    const [recordedSecret, expiry, ...description] = fs.readFileSync(path.join(l.dir, "cluster", "tokens", id!), "utf8").trim().split(" ");
    expect(recordedSecret).toBe(secret);
    expect(Number(expiry) - started).toBeGreaterThanOrEqual(30 * 60 - 5);
    expect(Number(expiry) - started).toBeLessThanOrEqual(30 * 60 + 5);
    expect(description.join(" ")).toBe("cluster-maintenance pool batch v1.37.1");
    // On a worker (no admin.conf) kubeadm fails and so does the script, printing nothing on stdout.
    const onWorker = await l.runScript("w-1", "join-command.sh", ["30", "batch", "1.37.1"]);
    expectExit(onWorker, 1);
    expect(onWorker.stdout).toBe("");
    expect(onWorker.stderr).toContain("join-command.sh: w-1: kubeadm token create failed (exit 1)");
  });

  test("rejects bad arguments with exit 2 without calling kubeadm", async () => {
    for (const args of [["0", "batch", "1.37.1"], ["30", "Batch", "1.37.1"], ["30", "batch", "1.37"], ["30", "batch"], ["30", "a b", "1.37.1"]]) {
      const { r, argv } = await joinCommand(args, { stdout: `${JOIN}\n` });
      expectExit(r, 2);
      expect(argv).toBeNull();
      expect(r.stdout).toBe("");
    }
  });
});


describe("join-command.sh with a batch of launches, and revoke", () => {
  const TOKEN = "abcdef.0123456789abcdef";

  test("a batch's token is described with its node range; revoke deletes exactly the tokens of that description", async () => {
    const l = lab();
    const made = async (args: string[]) => {
      const r = await run(l, "join-command.sh", args);
      expectExit(r, 0);
      return parseJoinCommand(r.stdout).token.split(".")[0]!;
    };
    const first = await made(["45", "batch", "1.37.1", "1-10"]);
    const again = await made(["45", "batch", "1.37.1", "1-10"]); // e.g. the command re-created after an interrupted update
    const second = await made(["35", "batch", "1.37.1", "11-15"]);
    const otherVersion = await made(["45", "batch", "1.36.4", "1-10"]);
    const whole = await made(["30", "batch", "1.37.1"]);
    expect(tokens(l).get(first)![2]).toBe("cluster-maintenance pool batch v1.37.1 nodes 1-10");
    expect(tokens(l).get(second)![2]).toBe("cluster-maintenance pool batch v1.37.1 nodes 11-15");
    expect(tokens(l).get(whole)![2]).toBe("cluster-maintenance pool batch v1.37.1");

    const { result, calls } = await callsDuring(l, () => run(l, "join-command.sh", ["revoke", "batch", "1.37.1", "1-10"]));
    expectExit(result, 0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("join-command.sh: cp-1: revoked 2 token(s) described 'cluster-maintenance pool batch v1.37.1 nodes 1-10'");
    expect([...tokens(l).keys()].sort()).toEqual([second, otherVersion, whole].sort());
    // The token's secret part is never an argument: list, then delete by ID.
    const kubeadm = calls.filter((c) => c.command === "kubeadm").map((c) => c.args.join(" "));
    expect(kubeadm).toEqual([
      'token list -o jsonpath={.token}{"\\t"}{.description}{"\\n"}',
      ...[first, again].sort().map((id) => `token delete ${id}`),
    ]);
    for (const c of calls) for (const [id, [secret]] of tokens(l)) expect([id, c.args.join(" ")]).toEqual([id, expect.not.stringContaining(secret)]);

    const done = await run(l, "join-command.sh", ["revoke", "batch", "1.37.1", "1-10"]);
    expectExit(done, 0);
    expect(done.stderr).toContain("already done: no token described 'cluster-maintenance pool batch v1.37.1 nodes 1-10'");
    expectExit(await run(l, "join-command.sh", ["revoke", "batch", "1.37.1"]), 0);
    expect([...tokens(l).keys()].sort()).toEqual([second, otherVersion].sort());
  });

  test("the lab's kubeadm token list and delete, as kubeadm prints them", async () => {
    const l = lab();
    const admin = 'KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf" ';
    expectExit(await run(l, "join-command.sh", ["30", "batch", "1.37.1", "1-2"]), 0);
    const [id, [secret, expiry]] = [...tokens(l)][0]!;
    const list = await l.run("cp-1", `${admin}kubeadm token list -o 'jsonpath={.token}|{.description}|{.expires}{"\\n"}'`);
    expectExit(list, 0);
    expect(list.stdout).toBe(`${id}.${secret}|cluster-maintenance pool batch v1.37.1 nodes 1-2|${new Date(Number(expiry) * 1000).toISOString().replace(/\.000Z$/, "Z")}\n`);
    const missing = await l.run("cp-1", `${admin}kubeadm token delete zzzzzz`);
    expectExit(missing, 1);
    expect(missing.stderr).toContain('failed to delete bootstrap token "zzzzzz": secrets "bootstrap-token-zzzzzz" not found');
    const deleted = await l.run("cp-1", `${admin}kubeadm token delete ${id}`);
    expectExit(deleted, 0);
    expect(deleted.stdout).toBe(`bootstrap token "${id}" deleted\n`);
    expect(tokens(l).size).toBe(0);
  });

  /** Runs join-command.sh revoke with a fake kubeadm that prints `list` for `token list` and records its calls. */
  async function revokeWith(list: string, deleteCode = 0): Promise<{ r: RunResult; calls: string[] }> {
    const l = lab();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-fake-kubeadm-"));
    tmpDirs.push(dir);
    fs.writeFileSync(path.join(dir, "list"), list);
    fs.writeFileSync(
      path.join(dir, "kubeadm"),
      `#!/usr/bin/env bash\necho "$*" >>'${dir}/calls'\nif [[ $2 == list ]]; then cat '${dir}/list'; exit 0; fi\necho "failed to delete bootstrap token $3 ${TOKEN}" >&2\nexit ${deleteCode}\n`,
      { mode: 0o755 },
    );
    const text = fs.readFileSync(path.join(NODE_SCRIPTS_DIR, "join-command.sh"), "utf8");
    const r = await runCommand(l, "cp-1", `export PATH='${dir}':"$PATH"; ${scriptCommand("join-command.sh", ["revoke", "batch", "1.37.1", "1-10"])}`, text);
    const file = path.join(dir, "calls");
    return { r, calls: fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [] };
  }

  test("revoke: a listed token of another shape, or a failing delete: exit 1, no token shown", async () => {
    const odd = await revokeWith(`${TOKEN}x\tcluster-maintenance pool batch v1.37.1 nodes 1-10\n`);
    expectExit(odd.r, 1);
    expect(odd.r.stderr).toContain("kubeadm token list printed a token that is not of the form [a-z0-9]{6}.[a-z0-9]{16} (not shown)");
    expect(odd.calls.filter((c) => c.startsWith("token delete"))).toEqual([]);
    const failing = await revokeWith(`${TOKEN}\tcluster-maintenance pool batch v1.37.1 nodes 1-10\nzzzzzz.0123456789abcdef\tsomething else\n`, 3);
    expectExit(failing.r, 1);
    expect(failing.calls).toEqual(['token list -o jsonpath={.token}{"\\t"}{.description}{"\\n"}', "token delete abcdef"]);
    expect(failing.r.stderr).toContain("failed to delete bootstrap token abcdef <token>");
    expect(failing.r.stderr).toContain("join-command.sh: cp-1: kubeadm token delete failed (exit 3)");
    for (const r of [odd.r, failing.r]) {
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain(TOKEN);
    }
  });

  test("rejects bad arguments with exit 2 without calling kubeadm", async () => {
    for (const args of [["revoke", "batch"], ["revoke", "batch", "1.37.1", "1-10", "x"], ["revoke", "Batch", "1.37.1"], ["revoke", "batch", "1.37.1", "10"], ["30", "batch", "1.37.1", "0-3"], ["30", "batch", "1.37.1", "1-10", "x"]]) {
      const l = lab();
      const { result, calls } = await callsDuring(l, () => run(l, "join-command.sh", args));
      expectExit(result, 2);
      expect([args, calls.filter((c) => c.command === "kubeadm")]).toEqual([args, []]);
    }
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
