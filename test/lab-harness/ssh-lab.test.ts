/**
 * The SSH lab: real sshd on loopback, one address per node; node identity comes from the address
 * the client connected to; stdin, exit codes and stderr pass through; only the lab key gets in;
 * the client checks the server's host key when the connection names one.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { runRemote, startSshLab, type SshLab } from "../lab/ssh-lab";
import { scriptCommand, tempLab, type TempLab } from "./harness";

const NODES = ["cp-1", "cp-2", "pool-a-1"];
let temp: TempLab;
let lab: SshLab;
const on = (node: string) => ({ host: lab.hostOf(node), port: lab.port, user: lab.user, privateKey: lab.privateKey });

beforeAll(async () => {
  temp = tempLab("cm-ssh-lab-test-");
  lab = await startSshLab({ labDir: temp.labDir, nodes: NODES, standinsDir: temp.standinsDir });
});

afterAll(async () => {
  await lab?.stop();
  temp?.remove();
});

describe("the SSH lab", () => {
  it("gives every node its own loopback address on one port", () => {
    expect(NODES.map((n) => lab.hostOf(n))).toEqual(["127.0.1.1", "127.0.1.2", "127.0.1.3"]);
    expect(lab.port).toBeGreaterThan(0);
    expect(lab.user).toBe("root");
    expect(lab.privateKey).toContain("BEGIN OPENSSH PRIVATE KEY");
    expect(() => lab.hostOf("nope")).toThrow(/unknown node nope/);
  });

  it("runs a command as the node whose address was dialled, with the stand-ins first on PATH", async () => {
    const results = await Promise.all(NODES.map((n) => runRemote(on(n), "whereami x 'y z'; echo \"$PATH\" | cut -d: -f1")));
    results.forEach((r, i) => {
      const node = NODES[i]!;
      expect(r).toEqual({
        code: 0,
        stdout: `node=${node} root=${temp.labDir}/nodes/${node}/root lab=${temp.labDir} args=x y z\n${temp.standinsDir}\n`,
        stderr: "",
      });
    });
  });

  it("passes stdin through, and runs the component's script wrapper with its arguments", async () => {
    const text = "line 1\nline 'two' \"3\" $HOME\n";
    expect((await runRemote(on("cp-2"), "cat", text)).stdout).toBe(text);
    const script = 'echo "$0|$1|$2|$#|$CM_LAB_NODE"; cat; echo "stdin at EOF"\n';
    const r = await runRemote(on("pool-a-1"), scriptCommand("upgrade-packages.sh", ["1.35.9", "kubelet kubectl"]), script);
    expect(r).toEqual({ code: 0, stdout: "upgrade-packages.sh|1.35.9|kubelet kubectl|2|pool-a-1\nstdin at EOF\n", stderr: "" });
  });

  it("gives the remote stdin EOF at once when there is none", async () => {
    expect(await runRemote(on("cp-1"), "wc -c")).toEqual({ code: 0, stdout: "0\n", stderr: "" });
  });

  it("returns exit codes, stdout and stderr separately", async () => {
    const r = await runRemote(on("cp-1"), "echo out; echo 'cluster-maintenance: drain.sh: refused' >&2; exit 3");
    expect(r).toEqual({ code: 3, stdout: "out\n", stderr: "cluster-maintenance: drain.sh: refused\n" });
  });

  it("gives a clean environment (no client variables, no root ~/.bashrc additions)", async () => {
    const r = await runRemote(on("cp-1"), "env | cut -d= -f1 | sort | tr '\\n' ' '");
    expect(r.stdout.trim().split(" ")).toEqual(
      ["CM_LAB_DIR", "CM_LAB_NODE", "CM_LAB_SSHD", "CM_NODE_ROOT", "HOME", "LOGNAME", "PATH", "PWD", "SHELL", "SHLVL", "SSH_CONNECTION", "USER", "_"],
    );
  });

  it("refuses a key it does not know", async () => {
    const keyFile = path.join(temp.root, "stranger");
    const gen = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile], { timeout: 10_000 });
    expect(gen.status).toBe(0);
    const r = await runRemote({ ...on("cp-1"), privateKey: fs.readFileSync(keyFile, "utf8") }, "echo should-not-run");
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it("exposes its host key as a node's hostKey config holds it, and the same key on every node address", async () => {
    expect(lab.hostKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/);
    const scanned = spawnSync("ssh-keyscan", ["-t", "ed25519", "-p", String(lab.port), lab.hostOf("cp-2")], { encoding: "utf8", timeout: 10_000 });
    expect(scanned.stdout.trim()).toBe(`[${lab.hostOf("cp-2")}]:${lab.port} ${lab.hostKey}`);
  });

  it("checks the host key when the connection names one: the right key connects, a wrong one is refused before the command runs", async () => {
    const ok = await Promise.all(NODES.map((n) => runRemote({ ...on(n), hostKey: lab.hostKey }, "echo $CM_LAB_NODE")));
    expect(ok.map((r) => [r.code, r.stdout])).toEqual(NODES.map((n) => [0, `${n}\n`]));
    const wrongFile = path.join(temp.root, "impostor_host");
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrongFile], { timeout: 10_000 }).status).toBe(0);
    const wrong = fs.readFileSync(`${wrongFile}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    const marker = path.join(temp.labDir, "ran-with-wrong-host-key");
    const r = await runRemote({ ...on("cp-1"), hostKey: wrong }, `touch ${marker}`);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/Host key verification failed/);
    expect(fs.existsSync(marker)).toBe(false);
    // A key of a type the server does not have: no common host key algorithm, refused too.
    const ecdsaFile = path.join(temp.root, "impostor_ecdsa");
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", ecdsaFile], { timeout: 10_000 }).status).toBe(0);
    const other = await runRemote({ ...on("cp-1"), hostKey: fs.readFileSync(`${ecdsaFile}.pub`, "utf8").split(" ").slice(0, 2).join(" ") }, `touch ${marker}`);
    expect(other.code).toBe(255);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("lets only root in (the lab key is in root's authorized keys only)", async () => {
    const r = await runRemote({ ...on("cp-1"), user: "nobody" }, "echo should-not-run");
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  it("bounds a command by a timeout", async () => {
    const started = Date.now();
    await expect(runRemote(on("cp-1"), "sleep 20.123", undefined, 500)).rejects.toThrow(/did not finish within 0.5 s/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("listens on loopback only, and stop() ends sshd and its sessions", async () => {
    const out = spawnSync("ss", ["-Htlnp"], { encoding: "utf8" }).stdout ?? "";
    const ours = out.split("\n").filter((l) => l.includes(`:${lab.port} `));
    expect(ours.length).toBe(NODES.length);
    for (const l of ours) expect(l).toMatch(/127\.0\.1\.\d+:\d+/);
    await lab.stop();
    // The session whose client timed out above was ended with sshd.
    const leftover = spawnSync("pgrep", ["-f", "^sleep 20.123$"], { encoding: "utf8" });
    expect(leftover.stdout).toBe("");
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: lab.hostOf("cp-1"), port: lab.port });
      s.once("connect", () => (s.destroy(), resolve(false)));
      s.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
