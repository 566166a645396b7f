/**
 * A real etcd for the lab: Debian's `etcd` 3.4 on 127.0.0.1, client TLS with client-certificate
 * authentication (CA, server and client certificates made with openssl in a temp dir), peer
 * URL on another free loopback port, temp data dir. Like a kubeadm control plane's etcd, so the
 * snapshot script can run `etcdctl snapshot save` against it with real certificate paths.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stopProcess } from "./processes";

export interface LabEtcd {
  /** "https://127.0.0.1:PORT" */
  readonly endpoint: string;
  /** CA certificate file (trusted by etcd for clients, and by clients for etcd). */
  readonly caCert: string;
  /** Client certificate and key files accepted by etcd. */
  readonly cert: string;
  readonly key: string;
  readonly dataDir: string;
  put(key: string, value: string): Promise<void>;
  /** Every key in the store with its value. */
  getAll(): Promise<Record<string, string>>;
  /** Stops etcd (bounded) and removes its temp dir. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const ETCDCTL_TIMEOUT_MS = 10_000;

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync("openssl", args, { cwd, encoding: "utf8", timeout: 20_000 });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr || result.error}`);
}

/** CA, server certificate (SAN IP:127.0.0.1, localhost) and client certificate, EC P-256. */
export function makeCertificates(dir: string): { ca: string; serverCert: string; serverKey: string; cert: string; key: string } {
  const days = "2";
  const newKey = (file: string) => openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file], dir);
  newKey("ca.key");
  openssl(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=cluster-maintenance-lab-etcd-ca", "-days", days, "-out", "ca.crt",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  const issue = (name: string, cn: string, extensions: string) => {
    newKey(`${name}.key`);
    openssl(["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", days,
      "-extfile", `${name}.ext`, "-out", `${name}.crt`], dir);
  };
  issue("server", "lab-etcd", [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth,clientAuth",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "",
  ].join("\n"));
  issue("client", "lab-etcd-client", [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=clientAuth",
    "",
  ].join("\n"));
  const at = (f: string) => path.join(dir, f);
  return { ca: at("ca.crt"), serverCert: at("server.crt"), serverKey: at("server.key"), cert: at("client.crt"), key: at("client.key") };
}

/**
 * The arguments of one lab etcd member: client URL with client-certificate authentication (the
 * certificates of {@link makeCertificates}), plain-HTTP peer URL, a new cluster of
 * `initialCluster` (`name=peerURL,...`), errors only logged to stderr.
 */
export function memberArgs(m: { name: string; dataDir: string; client: string; peer: string; initialCluster: string; certs: { ca: string; serverCert: string; serverKey: string } }): string[] {
  return [
    "--name", m.name,
    "--data-dir", m.dataDir,
    "--listen-client-urls", m.client,
    "--advertise-client-urls", m.client,
    "--listen-peer-urls", m.peer,
    "--initial-advertise-peer-urls", m.peer,
    "--initial-cluster", m.initialCluster,
    "--initial-cluster-state", "new",
    "--client-cert-auth",
    "--trusted-ca-file", m.certs.ca,
    "--cert-file", m.certs.serverCert,
    "--key-file", m.certs.serverKey,
    "--logger", "zap",
    "--log-outputs", "stderr",
    "--log-level", "error",
  ];
}

/** Starts etcd and waits (at most 15 s) until `etcdctl endpoint health` answers over TLS. */
export async function startEtcd(): Promise<LabEtcd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-lab-etcd-"));
  const pki = path.join(dir, "pki");
  const dataDir = path.join(dir, "data");
  fs.mkdirSync(pki);
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const certs = makeCertificates(pki);
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const endpoint = `https://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;

  const etcd = spawn(
    "etcd",
    memberArgs({ name: "lab", dataDir, client: endpoint, peer, initialCluster: `lab=${peer}`, certs }),
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } },
  );
  let log = "";
  etcd.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    log = (log + chunk).slice(-10_000);
  });
  etcd.on("error", (err) => {
    log += `\nspawn error: ${err.message}`;
  });

  const etcdctl = (args: string[], timeoutMs = ETCDCTL_TIMEOUT_MS): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        "etcdctl",
        ["--endpoints", endpoint, "--cacert", certs.ca, "--cert", certs.cert, "--key", certs.key, "--command-timeout=5s", ...args],
        { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ETCDCTL_API: "3" }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => (err ? reject(new Error(`etcdctl ${args.join(" ")}: ${err.message} ${stderr}`)) : resolve(stdout)),
      );
    });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopProcess(etcd, STOP_TIMEOUT_MS);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = "";
  for (;;) {
    if (etcd.exitCode !== null || etcd.signalCode !== null) {
      await stop();
      throw new Error(`lab etcd exited (${etcd.exitCode ?? etcd.signalCode}) before it was healthy: ${log}`);
    }
    try {
      await etcdctl(["endpoint", "health", "--dial-timeout=1s"], 3_000);
      break;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`lab etcd not healthy within ${START_TIMEOUT_MS / 1000} s: ${lastError}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint,
    caCert: certs.ca,
    cert: certs.cert,
    key: certs.key,
    dataDir,
    async put(key: string, value: string): Promise<void> {
      // `--` so that keys or values starting with "-" are not taken for flags.
      await etcdctl(["put", "--", key, value]);
    },
    async getAll(): Promise<Record<string, string>> {
      const out = JSON.parse(await etcdctl(["get", "", "--from-key", "-w", "json"])) as { kvs?: { key: string; value: string }[] };
      const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
      return Object.fromEntries((out.kvs ?? []).map((kv) => [decode(kv.key), decode(kv.value ?? "")]));
    },
    stop,
  };
}
