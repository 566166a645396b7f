/**
 * A real multi-member etcd cluster for the lab: Debian's etcd 3.4, one process per member, each
 * named like a control-plane node (cp-1, cp-2, cp-3: kubeadm names every stacked etcd member after
 * its node, `--name=<node name>` in the etcd static pod manifest), each with a client URL
 * https://127.0.0.1:PORT (TLS with client-certificate authentication, the certificates of
 * ./etcd.ts) and a plain-HTTP peer URL on loopback. Members can be stopped (unhealthy) and started
 * again on their data dirs; a member removed with `etcdctl member remove` shuts itself down, as
 * etcd does. The member processes and the temp dir are this module's own: {@link LabEtcdCluster.stop}
 * ends them.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, makeCertificates, memberArgs } from "./etcd";
import { stopProcess, waitExit } from "./processes";
import type { Lab } from "./node-kit";

export interface LabEtcdMember {
  /** The member's name (a node name). */
  readonly name: string;
  /** Its lowercase hex member ID, as `etcdctl member list -w simple` prints it. */
  readonly id: string;
  readonly clientURLs: readonly string[];
  readonly peerURLs: readonly string[];
}

export interface LabEtcdCluster {
  /** The members' names, in start order. */
  readonly names: readonly string[];
  /** CA certificate trusted by every member for clients and by clients for every member. */
  readonly caCert: string;
  /** A client certificate and key every member accepts. */
  readonly cert: string;
  readonly key: string;
  /** "https://127.0.0.1:PORT", the client URL of member `name`. */
  endpoint(name: string): string;
  /** Whether member `name`'s process is running. */
  running(name: string): boolean;
  /** Stops member `name` (SIGTERM, bounded); its data dir stays, so it can be started again. */
  stopMember(name: string): Promise<void>;
  /** Starts a stopped member again on its data dir and waits (bounded) until it answers `endpoint health`. */
  startMember(name: string): Promise<void>;
  /** Waits (bounded) until member `name`'s process has exited (a removed member shuts itself down). */
  exited(name: string, timeoutMs?: number): Promise<void>;
  /** `etcdctl put` through member `via` (default: the first running member). */
  put(key: string, value: string, via?: string): Promise<void>;
  /** Every key with its value, read from member `via`'s own store (a serializable read: what that member holds). */
  getAll(via: string): Promise<Record<string, string>>;
  /** `etcdctl member list` through member `via` (default: the first running member). */
  members(via?: string): Promise<LabEtcdMember[]>;
  /** Stops every member (bounded) and removes the temp dir. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const ETCDCTL_TIMEOUT_MS = 10_000;

/** Runs the real etcdctl (v3 API) against `endpoints` with the cluster's client certificate. */
function etcdctl(endpoints: string, tls: { ca: string; cert: string; key: string }, args: string[], timeoutMs = ETCDCTL_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "etcdctl",
      ["--endpoints", endpoints, "--cacert", tls.ca, "--cert", tls.cert, "--key", tls.key, "--dial-timeout=2s", "--command-timeout=5s", ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ETCDCTL_API: "3" }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`etcdctl ${args.join(" ")} at ${endpoints}: ${err.message} ${stderr}`)) : resolve(stdout)),
    );
  });
}

/**
 * Starts a cluster of `names.length` members (default cp-1, cp-2, cp-3) and waits (at most 20 s)
 * until every member answers `endpoint health` over TLS.
 */
export async function startEtcdCluster(names: readonly string[] = ["cp-1", "cp-2", "cp-3"]): Promise<LabEtcdCluster> {
  if (names.length === 0 || new Set(names).size !== names.length) throw new Error("lab etcd cluster: distinct member names please");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-lab-etcd-cluster-"));
  const pki = path.join(dir, "pki");
  fs.mkdirSync(pki);
  const certs = makeCertificates(pki);
  const tls = { ca: certs.ca, cert: certs.cert, key: certs.key };
  const ports = new Set<number>();
  const port = async () => {
    let p = await freePort();
    while (ports.has(p)) p = await freePort();
    ports.add(p);
    return p;
  };
  const client = new Map<string, string>();
  const peer = new Map<string, string>();
  for (const n of names) {
    client.set(n, `https://127.0.0.1:${await port()}`);
    peer.set(n, `http://127.0.0.1:${await port()}`);
  }
  const initial = names.map((n) => `${n}=${peer.get(n)}`).join(",");
  const procs = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();
  const known = (name: string) => {
    if (!client.has(name)) throw new Error(`lab etcd cluster: no member ${name}`);
    return name;
  };

  const spawnMember = (name: string) => {
    const dataDir = path.join(dir, `${name}.data`);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const p = spawn(
      "etcd",
      [
        ...memberArgs({ name, dataDir, client: client.get(name)!, peer: peer.get(name)!, initialCluster: initial, certs }),
        "--initial-cluster-token", path.basename(dir),
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } },
    );
    logs.set(name, "");
    p.stderr!.setEncoding("utf8").on("data", (chunk: string) => logs.set(name, (logs.get(name)! + chunk).slice(-10_000)));
    p.on("error", (err) => logs.set(name, `${logs.get(name)}\nspawn error: ${err.message}`));
    procs.set(name, p);
  };
  const running = (name: string) => {
    const p = procs.get(known(name));
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  };
  const waitHealthy = async (members: readonly string[]) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const name of members) {
      let lastError = "";
      for (;;) {
        if (!running(name)) throw new Error(`lab etcd member ${name} exited before it was healthy: ${logs.get(name)}`);
        try {
          await etcdctl(client.get(name)!, tls, ["endpoint", "health"], 4_000);
          break;
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() > deadline) throw new Error(`lab etcd member ${name} not healthy within ${START_TIMEOUT_MS / 1000} s: ${lastError}\n${logs.get(name)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const firstRunning = () => {
    const n = names.find(running);
    if (n === undefined) throw new Error("lab etcd cluster: no member is running");
    return n;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const p of procs.values()) await stopProcess(p, STOP_TIMEOUT_MS);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  for (const n of names) spawnMember(n);
  try {
    await waitHealthy(names);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    names,
    caCert: certs.ca,
    cert: certs.cert,
    key: certs.key,
    endpoint: (name) => client.get(known(name))!,
    running,
    async stopMember(name) {
      const p = procs.get(known(name));
      if (p !== undefined) await stopProcess(p, STOP_TIMEOUT_MS);
    },
    async startMember(name) {
      if (running(name)) return;
      spawnMember(name);
      await waitHealthy([name]);
    },
    async exited(name, timeoutMs = 15_000) {
      const p = procs.get(known(name));
      if (p !== undefined && !(await waitExit(p, timeoutMs))) throw new Error(`lab etcd member ${name} still runs after ${timeoutMs / 1000} s`);
    },
    async put(key, value, via) {
      await etcdctl(client.get(known(via ?? firstRunning()))!, tls, ["put", "--", key, value]);
    },
    async getAll(via) {
      const out = JSON.parse(await etcdctl(client.get(known(via))!, tls, ["get", "", "--from-key", "--consistency=s", "-w", "json"])) as {
        kvs?: { key: string; value?: string }[];
      };
      const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
      return Object.fromEntries((out.kvs ?? []).map((kv) => [decode(kv.key), decode(kv.value ?? "")]));
    },
    async members(via) {
      // etcd 3.4 prints member IDs in JSON as uint64 numbers (--hex changes nothing in `member list`), which
      // lose precision as JS numbers: they are quoted before parsing and turned to hex with BigInt.
      const text = await etcdctl(client.get(known(via ?? firstRunning()))!, tls, ["member", "list", "-w", "json"]);
      const out = JSON.parse(text.replace(/"(ID|cluster_id|member_id)":(\d+)/g, '"$1":"$2"')) as {
        members?: { ID: string; name?: string; clientURLs?: string[]; peerURLs?: string[] }[];
      };
      return (out.members ?? []).map((m) => ({ id: BigInt(m.ID).toString(16), name: m.name ?? "", clientURLs: m.clientURLs ?? [], peerURLs: m.peerURLs ?? [] }));
    },
    stop,
  };
}

/**
 * Tells the kubeadm stand-in of lab node `node` how to reach the lab etcd (test/lab/standins/kubeadm,
 * `kubeadm reset`: its remove-etcd-member phase): nodes/<node>/lab-etcd, lines `endpoints=URL[,URL...]`,
 * `cacert=FILE`, `cert=FILE`, `key=FILE`. The node's member is the one named after the node.
 */
export function labEtcdFor(lab: Lab, node: string, cluster: LabEtcdCluster, endpoints: readonly string[] = cluster.names.map((n) => cluster.endpoint(n))): void {
  const nd = path.join(lab.dir, "nodes", node);
  if (!fs.existsSync(nd)) throw new Error(`lab: no node ${node}`);
  fs.writeFileSync(path.join(nd, "lab-etcd"), [`endpoints=${endpoints.join(",")}`, `cacert=${cluster.caCert}`, `cert=${cluster.cert}`, `key=${cluster.key}`, ""].join("\n"));
}
