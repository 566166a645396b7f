/**
 * SSH lab: a real OpenSSH server (Debian's /usr/sbin/sshd) on loopback addresses 127.0.1.N, one
 * address per simulated node, all on one free port. Every session is forced through
 * test/lab/bin/node-login, which picks the node from the address the client connected to and
 * runs the client's command with bash as that node (CM_LAB_DIR, CM_LAB_NODE, CM_NODE_ROOT set,
 * stand-ins first on PATH). {@link runRemote} is the client side: the `ssh` binary, no TTY, batch
 * mode, a throw-away key file, bounded by a timeout, and the server's host key checked when the
 * connection names one (as the provider does with `connection.hostKey`).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stopProcess } from "./processes";
import { shellQuote } from "../../planning/commands";

export interface SshLabOptions {
  /** The lab directory (CM_LAB_DIR on the nodes); the address -> node map is written here. */
  readonly labDir: string;
  /** Node names; node i (0-based) listens on 127.0.1.(i+1). */
  readonly nodes: readonly string[];
  /** Directory of stand-in executables, put first on the nodes' PATH. */
  readonly standinsDir: string;
}

export interface SshLab {
  /** The port sshd listens on, on every node address. */
  readonly port: number;
  /** The loopback address of a node ("127.0.1.N"); throws for an unknown node. */
  hostOf(name: string): string;
  /** The client private key (OpenSSH format text) that the lab's sshd accepts for root. */
  readonly privateKey: string;
  /**
   * The sshd's public host key, `ssh-ed25519 <base64>` (no comment), the same on every node
   * address: what a node's `hostKey` config holds for the lab.
   */
  readonly hostKey: string;
  readonly user: "root";
  /** Stops the sshd processes (bounded) and removes their temp dir. */
  stop(): Promise<void>;
}

export interface RemoteConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  /**
   * The host key the server must present, `<type> <base64>`, as `connection.hostKey` of
   * @pulumi/command: with it {@link runRemote} accepts only that key (known_hosts file,
   * StrictHostKeyChecking=yes, HostKeyAlgorithms the key's type, as the provider offers only
   * `publicKey.Type()`); without it any host key is accepted, as the provider does.
   */
  readonly hostKey?: string;
}

export interface RemoteResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Absolute path of the ForceCommand wrapper. */
export const NODE_LOGIN = path.resolve(__dirname, "bin", "node-login");
/** File in the lab dir mapping "<address> <node>" per line (read by node-login). */
export const NODE_MAP_FILE = "ssh-lab-nodes";

const SSHD = "/usr/sbin/sshd";
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
/**
 * Listen addresses one sshd takes: OpenSSH's MAX_LISTEN_SOCKS is 16 (sshd.c; more fail with
 * "Too many listen sockets. Enlarge MAX_LISTEN_SOCKS"), so a lab of more nodes runs one sshd
 * per 16, all with the same config.
 */
const SSHD_LISTEN_MAX = 16;


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that is free on every given address (bound once, then released). */
async function freePort(addresses: readonly string[]): Promise<number> {
  const tryBind = (host: string, port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(undefined));
      server.listen({ host, port, exclusive: true }, () => {
        const bound = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(bound));
      });
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tryBind(addresses[0]!, 0);
    if (port === undefined) continue;
    let allFree = true;
    for (const address of addresses.slice(1)) {
      if ((await tryBind(address, port)) === undefined) {
        allFree = false;
        break;
      }
    }
    if (allFree) return port;
  }
  throw new Error(`ssh-lab: no free port on ${addresses.join(", ")}`);
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function keygen(file: string, comment: string): void {
  const result = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (result.status !== 0) throw new Error(`ssh-keygen failed for ${file}: ${result.stderr || result.error}`);
}

/** Kills every process whose environment carries `marker` ("NAME=value"): the lab's sessions. */
function killTagged(marker: string): void {
  const needle = Buffer.from(`\0${marker}\0`);
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from("\0"), fs.readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(needle)) process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}

/** Starts sshd for the lab's nodes (one per SSHD_LISTEN_MAX of them) and waits (at most 10 s) until every node address accepts. */
export async function startSshLab(options: SshLabOptions): Promise<SshLab> {
  const { labDir, nodes, standinsDir } = options;
  if (nodes.length === 0 || nodes.length > 254) throw new Error("ssh-lab: between 1 and 254 nodes");
  for (const name of nodes) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`ssh-lab: bad node name ${JSON.stringify(name)}`);
  }
  if (new Set(nodes).size !== nodes.length) throw new Error("ssh-lab: node names must be unique");
  const hosts = new Map(nodes.map((name, i) => [name, `127.0.1.${i + 1}`] as const));

  fs.mkdirSync(labDir, { recursive: true });
  fs.writeFileSync(
    path.join(labDir, NODE_MAP_FILE),
    [...hosts].map(([name, host]) => `${host} ${name}\n`).join(""),
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-ssh-lab-"));
  keygen(path.join(dir, "host_ed25519"), "cm-ssh-lab-host");
  keygen(path.join(dir, "client_ed25519"), "cm-ssh-lab-client");
  fs.copyFileSync(path.join(dir, "client_ed25519.pub"), path.join(dir, "authorized_keys"));
  const privateKey = fs.readFileSync(path.join(dir, "client_ed25519"), "utf8");
  const hostKey = fs.readFileSync(path.join(dir, "host_ed25519.pub"), "utf8").trim().split(/\s+/).slice(0, 2).join(" ");

  const port = await freePort([...hosts.values()]);
  const forceCommand = [NODE_LOGIN, path.resolve(labDir), path.resolve(standinsDir), dir].map(shellQuote).join(" ");
  // Listen addresses and pid file per sshd, on its command line (see SSHD_LISTEN_MAX).
  const config = [
    `HostKey ${path.join(dir, "host_ed25519")}`,
    "PermitRootLogin prohibit-password",
    "AllowUsers root",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    "StrictModes no",
    "UsePAM no",
    "X11Forwarding no",
    "AllowTcpForwarding no",
    "PermitTTY no",
    "PrintMotd no",
    // The program may open many sessions at once (independent steps run concurrently).
    "MaxStartups 200",
    "MaxSessions 200",
    "LogLevel ERROR",
    // An empty HOME for the shell sshd starts the ForceCommand with: that bash would otherwise
    // source root's ~/.bashrc (slow, and not part of a node). node-login sets HOME=/root again.
    `SetEnv HOME=${path.join(dir, "home")}`,
    `ForceCommand ${forceCommand}`,
    "",
  ].join("\n");
  fs.mkdirSync(path.join(dir, "home"));
  const configFile = path.join(dir, "sshd_config");
  fs.writeFileSync(configFile, config);
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const test = spawnSync(SSHD, ["-t", "-f", configFile], { encoding: "utf8", timeout: 10_000 });
  if (test.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`ssh-lab: sshd -t rejected the config: ${test.stderr}`);
  }

  // One sshd per SSHD_LISTEN_MAX nodes, each listening on its nodes' addresses.
  const addresses: string[] = [...hosts.values()];
  let log = "";
  const sshds = Array.from({ length: Math.ceil(addresses.length / SSHD_LISTEN_MAX) }, (_, i) => {
    const listen = addresses.slice(i * SSHD_LISTEN_MAX, (i + 1) * SSHD_LISTEN_MAX).flatMap((host) => ["-o", `ListenAddress=${host}:${port}`]);
    const sshd = spawn(SSHD, ["-D", "-e", "-f", configFile, "-o", `PidFile=${path.join(dir, `sshd-${i}.pid`)}`, ...listen], { stdio: ["ignore", "ignore", "pipe"] });
    sshd.stderr!.setEncoding("utf8");
    sshd.stderr!.on("data", (chunk: string) => {
      log = (log + chunk).slice(-10_000);
    });
    sshd.on("error", (err) => {
      log += `\nspawn error: ${err.message}`;
    });
    return sshd;
  });
  const sshdOf = (host: string) => sshds[Math.floor(addresses.indexOf(host) / SSHD_LISTEN_MAX)]!;

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(sshds.map((sshd) => stopProcess(sshd, STOP_TIMEOUT_MS)));
    // Commands still running (e.g. one whose client timed out: without a TTY nothing tells it
    // that the session ended) carry the lab's tag in their environment: end them too.
    killTagged(`CM_LAB_SSHD=${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (const host of hosts.values()) {
    const sshd = sshdOf(host);
    for (;;) {
      if (sshd.exitCode !== null || sshd.signalCode !== null) {
        await stop();
        throw new Error(`ssh-lab: sshd exited (${sshd.exitCode ?? sshd.signalCode}) before listening: ${log}`);
      }
      if (await accepts(host, port)) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`ssh-lab: sshd did not listen on ${host}:${port} within ${START_TIMEOUT_MS / 1000} s: ${log}`);
      }
      await sleep(50);
    }
  }

  return {
    port,
    hostOf(name: string): string {
      const host = hosts.get(name);
      if (host === undefined) throw new Error(`ssh-lab: unknown node ${name}`);
      return host;
    },
    privateKey,
    hostKey,
    user: "root",
    stop,
  };
}

/** Default bound of one remote command. */
export const REMOTE_TIMEOUT_MS = 120_000;

/**
 * Runs `command` over SSH with the `ssh` client (no TTY, batch mode, the host key checked
 * against `connection.hostKey` when given, else not checked),
 * `stdin` written to the session and then closed (none: EOF at once). Resolves with the exit
 * code (255: ssh itself failed), stdout and stderr; rejects when it takes longer than
 * `timeoutMs` (the ssh client is killed).
 */
export async function runRemote(
  connection: RemoteConnection,
  command: string,
  stdin?: string,
  timeoutMs: number = REMOTE_TIMEOUT_MS,
): Promise<RemoteResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-ssh-key-"));
  const keyFile = path.join(dir, "id");
  const key = connection.privateKey.endsWith("\n") ? connection.privateKey : `${connection.privateKey}\n`;
  fs.writeFileSync(keyFile, key, { mode: 0o600 });
  const hostKey = connection.hostKey;
  let hostKeyArgs = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
  if (hostKey !== undefined) {
    const knownHosts = path.join(dir, "known_hosts");
    const pattern = connection.port === 22 ? connection.host : `[${connection.host}]:${connection.port}`;
    fs.writeFileSync(knownHosts, `${pattern} ${hostKey}\n`);
    const type = hostKey.trim().split(/\s+/)[0] ?? "";
    hostKeyArgs = ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", `HostKeyAlgorithms=${type}`, "-o", "CheckHostIP=no"];
  }
  try {
    const args = [
      "-F", "/dev/null",
      "-T",
      "-o", "BatchMode=yes",
      ...hostKeyArgs,
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "ConnectTimeout=5",
      // Classic key exchange: the default post-quantum hybrid costs ~0.25 s per connection here.
      "-o", "KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org",
      "-o", "IdentitiesOnly=yes",
      "-o", "LogLevel=ERROR",
      "-i", keyFile,
      "-p", String(connection.port),
      "-l", connection.user,
      connection.host,
      "--",
      command,
    ];
    return await new Promise<RemoteResult>((resolve, reject) => {
      const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(
            `lab: ssh ${connection.user}@${connection.host}:${connection.port} did not finish within ${timeoutMs / 1000} s\n${stdout}${stderr}`,
          ),
        );
      }, timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 255), stdout, stderr });
      });
      child.stdin!.on("error", () => undefined); // remote side may exit without reading stdin
      child.stdin!.end(stdin ?? "");
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
