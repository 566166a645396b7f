/**
 * A Kubernetes API test double, served over HTTPS by its own process, answering in the shapes of
 * the real kube-apiserver's answers kept in ../shared/data/kube-api/v1.31-kubeadm-ha and
 * behaving as REFERENCE.md measured (Ready after a kubelet stops, Leases, evictions and
 * PodDisruptionBudgets, Terminating pods). Real kubectl talks to it: discovery, lists with
 * label/field selectors and limit/continue, get, patch (merge, strategic merge, JSON), delete,
 * eviction. The lab (test/lab/node-kit.ts) runs one per lab, backed by its simulated nodes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ClusterSpec } from "./cluster";
import { kubeconfigText, makeServingCertificates } from "./certs";
import type { KubeObjects } from "./types";
import { stopProcess } from "../processes";

export type { KubeObject, KubeObjects } from "./types";
export { clusterObjects, type ClusterSpec, type WorkloadSpec } from "./cluster";
export { LAB_SNAPSHOT_ANNOTATION, storageObjects, type SnapshotClassSpec, type StorageSpec, type VolumeSpec } from "./snapshots";
export { sharedObjects } from "./shared";

export interface KubeApiOptions {
  /** Where the certificates, the token, the kubeconfig and the seed are written (created when absent). */
  readonly dir: string;
  /** Objects to start with (each with apiVersion and kind). */
  readonly seed?: KubeObjects;
  /** A cluster for clusterObjects, made in the double's process (faster than a seed of thousands of nodes). */
  readonly cluster?: ClusterSpec;
  /**
   * A lab directory (test/lab/node-kit.ts): Nodes, their Leases and the Pods are its simulated
   * nodes' (lab-state.ts), read at every request; the seed then must hold none of those.
   */
  readonly labDir?: string;
  /** Address to listen on (default 127.0.0.1); the serving certificate names it. */
  readonly host?: string;
  /** Port (default 0: any free one). */
  readonly port?: number;
  /** Log every request ("METHOD URL -> CODE") to DIR/requests.log (default false). */
  readonly logRequests?: boolean;
}

export interface KubeApi {
  /** https://HOST:PORT */
  readonly url: string;
  /** The CA certificate (PEM) that signed the serving certificate. */
  readonly caCert: string;
  /** A kubeconfig (admin.conf-shaped: the CA, the URL, a bearer token the double accepts). */
  readonly kubeconfig: string;
  /** The kubeconfig as a file (DIR/kubeconfig). */
  readonly kubeconfigPath: string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** A double made ready to start: its files written, the command that serves them. */
export interface PreparedKubeApi {
  readonly dir: string;
  readonly caCert: string;
  readonly token: string;
  /** node and its arguments. */
  readonly command: readonly string[];
}

const START_TIMEOUT_MS = 30_000;

/**
 * The double's sources (this directory's *.ts) compiled to CommonJS once per content with
 * TypeScript's transpileModule, into DIR = <OS temp dir>/cm-kube-api-<hash of the sources>, so
 * that a double starts as a plain `node DIR/main.js` (about 80 ms of CPU) rather than through tsx
 * (about 300 ms): a lab starts one per test. `__dirname` in the sources stays this directory (the
 * kept answers and the lab's tables are found from it). Returns DIR/main.js.
 */
export function compiledMain(): string {
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith(".ts")).sort();
  const hash = createHash("sha256");
  const sources = files.map((f) => {
    const text = fs.readFileSync(path.join(__dirname, f), "utf8");
    hash.update(f).update("\0").update(text);
    return [f, text] as const;
  });
  const dir = path.join(os.tmpdir(), `cm-kube-api-${hash.digest("hex").slice(0, 16)}`);
  if (!fs.existsSync(path.join(dir, "main.js"))) {
    // Loaded only to compile: a cache hit costs no TypeScript.
    const ts = require("typescript") as typeof import("typescript");
    const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
    const part = `${dir}.${process.pid}.part`;
    fs.mkdirSync(part, { recursive: true });
    for (const [f, text] of sources) {
      const js = ts.transpileModule(text, { compilerOptions: options, fileName: f }).outputText;
      fs.writeFileSync(path.join(part, f.replace(/\.ts$/, ".js")), js.replaceAll("__dirname", JSON.stringify(__dirname)));
    }
    try {
      fs.renameSync(part, dir);
    } catch {
      fs.rmSync(part, { recursive: true, force: true }); // another process compiled the same sources first
    }
  }
  return path.join(dir, "main.js");
}

/**
 * Writes the double's files into `options.dir` (certificates for `options.host`, a token, the
 * seed and cluster spec) and returns the command that serves them (synchronous: openssl runs
 * twice, about 30 ms; the first call in a fresh temp dir also compiles the sources, compiledMain).
 */
export function prepareKubeApi(options: KubeApiOptions): PreparedKubeApi {
  const dir = path.resolve(options.dir);
  const host = options.host ?? "127.0.0.1";
  fs.mkdirSync(dir, { recursive: true });
  const files = makeServingCertificates(dir, host);
  const token = randomBytes(24).toString("hex");
  fs.writeFileSync(path.join(dir, "token"), `${token}\n`, { mode: 0o600 });
  fs.rmSync(path.join(dir, "url"), { force: true });
  const args = [compiledMain(), "--dir", dir, "--host", host, "--port", String(options.port ?? 0)];
  if (options.seed && options.seed.length > 0) {
    fs.writeFileSync(path.join(dir, "seed.json"), JSON.stringify(options.seed));
    args.push("--seed", path.join(dir, "seed.json"));
  }
  if (options.cluster) {
    fs.writeFileSync(path.join(dir, "cluster.json"), JSON.stringify(options.cluster));
    args.push("--cluster", path.join(dir, "cluster.json"));
  }
  if (options.labDir) args.push("--lab-dir", path.resolve(options.labDir));
  if (options.logRequests) args.push("--log", path.join(dir, "requests.log"));
  return { dir, caCert: fs.readFileSync(files.caCert, "utf8"), token, command: [process.execPath, ...args] };
}

/** Starts a prepared double (its output to DIR/kube-api.log); `detached`: in its own process group. */
export function spawnKubeApi(prepared: PreparedKubeApi, detached = false): ChildProcess {
  const log = fs.openSync(path.join(prepared.dir, "kube-api.log"), "a");
  const [node, ...args] = prepared.command;
  const child = spawn(node!, args, { stdio: ["ignore", log, log], detached });
  fs.closeSync(log);
  return child;
}

/** Writes DIR/kubeconfig for `url` and returns its text. */
export function writeKubeconfig(prepared: PreparedKubeApi, url: string): string {
  const text = kubeconfigText(url, prepared.caCert, prepared.token);
  fs.writeFileSync(path.join(prepared.dir, "kubeconfig"), text, { mode: 0o600 });
  return text;
}

/**
 * Starts a double in its own process and waits (at most 30 s) until it listens.
 * @throws Error when it exits or does not listen in time (with its log).
 */
export async function startKubeApi(options: KubeApiOptions): Promise<KubeApi> {
  const prepared = prepareKubeApi(options);
  const child = spawnKubeApi(prepared);
  const urlFile = path.join(prepared.dir, "url");
  const deadline = Date.now() + START_TIMEOUT_MS;
  const logText = () => fs.readFileSync(path.join(prepared.dir, "kube-api.log"), "utf8");
  while (!fs.existsSync(urlFile)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`kube-api exited (${child.exitCode ?? child.signalCode}) before listening: ${logText()}`);
    if (Date.now() > deadline) {
      await stopProcess(child, 5_000);
      throw new Error(`kube-api did not listen within ${START_TIMEOUT_MS / 1000} s: ${logText()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const url = fs.readFileSync(urlFile, "utf8");
  const kubeconfig = writeKubeconfig(prepared, url);
  return { url, caCert: prepared.caCert, kubeconfig, kubeconfigPath: path.join(prepared.dir, "kubeconfig"), stop: () => stopProcess(child, 5_000) };
}
