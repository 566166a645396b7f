/**
 * The double's TLS: a CA and a serving certificate for its address, made with the real openssl
 * (as test/lab/etcd.ts makes etcd's), EC P-256, valid as long as kubeadm makes them (the CA 10
 * years, the serving certificate 1 year: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/ ,
 * so the go/no-go check sees a certificate far from expiry); and the kubeconfig a client uses
 * (the CA, the server URL, a bearer token), shaped like kubeadm's admin.conf.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8", timeout: 20_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr || r.error}`);
}

/** Files in `dir`: ca.crt (PEM), apiserver.crt and apiserver.key. */
export interface ServingFiles {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * A CA (CN kubernetes, as kubeadm names it) and a serving certificate (CN kube-apiserver) for
 * `host` (its IP or DNS name, plus 127.0.0.1 and localhost) in `dir`.
 * @throws Error when openssl fails.
 */
export function makeServingCertificates(dir: string, host: string): ServingFiles {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(["req", "-x509", ...ec, "-days", "3650", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  const san = [...new Set([net.isIP(host) ? `IP:${host}` : `DNS:${host}`, "IP:127.0.0.1", "DNS:localhost"])].join(",");
  openssl(["req", "-x509", ...ec, "-days", "365", "-keyout", "apiserver.key", "-out", "apiserver.crt", "-subj", "/CN=kube-apiserver", "-CA", "ca.crt", "-CAkey", "ca.key",
    "-addext", `subjectAltName=${san}`, "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
    "-addext", "extendedKeyUsage=serverAuth"], dir);
  fs.rmSync(path.join(dir, "ca.key"));
  const at = (f: string) => path.join(dir, f);
  return { caCert: at("ca.crt"), cert: at("apiserver.crt"), key: at("apiserver.key") };
}

/** A kubeconfig for `server` (https://HOST:PORT) trusting `caPem`, authenticating with `token`, as kubeadm's admin.conf is laid out. */
export function kubeconfigText(server: string, caPem: string, token: string): string {
  return [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`,
    `    server: ${server}`,
    "  name: kubernetes",
    "contexts:",
    "- context:",
    "    cluster: kubernetes",
    "    user: kubernetes-admin",
    "  name: kubernetes-admin@kubernetes",
    "current-context: kubernetes-admin@kubernetes",
    "kind: Config",
    "preferences: {}",
    "users:",
    "- name: kubernetes-admin",
    "  user:",
    `    token: ${token}`,
    "",
  ].join("\n");
}
