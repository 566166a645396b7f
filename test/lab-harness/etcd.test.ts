/**
 * The lab's etcd: Debian's etcd 3.4 on loopback with client-certificate TLS, like kubeadm's.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { startEtcd, type LabEtcd } from "../lab/etcd";

let etcd: LabEtcd;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

const etcdctl = (args: string[]) =>
  spawnSync("etcdctl", ["--endpoints", etcd.endpoint, "--command-timeout=3s", "--dial-timeout=2s", ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, ETCDCTL_API: "3" },
    timeout: 10_000,
  });

describe("the lab etcd", () => {
  it("listens on https://127.0.0.1 with certificate files for the snapshot script", () => {
    expect(etcd.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const file of [etcd.caCert, etcd.cert, etcd.key]) expect(fs.existsSync(file)).toBe(true);
    const san = execFileSync("openssl", ["x509", "-in", etcd.caCert, "-noout", "-subject"], { encoding: "utf8" });
    expect(san).toContain("cluster-maintenance-lab-etcd-ca");
    expect(fs.readdirSync(etcd.dataDir)).toContain("member");
  });

  it("stores keys over TLS and lists them back", async () => {
    await etcd.put("/registry/namespaces/default", "ns");
    await etcd.put("/registry/secrets/kube-system/token", "s3cr3t value\nwith newline");
    await etcd.put("-starts-with-dash", "-v");
    expect(await etcd.getAll()).toEqual({
      "/registry/namespaces/default": "ns",
      "/registry/secrets/kube-system/token": "s3cr3t value\nwith newline",
      "-starts-with-dash": "-v",
    });
  });

  it("accepts etcdctl with the CA and client certificate, and refuses it without a client certificate", () => {
    const ok = etcdctl(["--cacert", etcd.caCert, "--cert", etcd.cert, "--key", etcd.key, "endpoint", "health"]);
    expect(ok.status).toBe(0);
    const noCert = etcdctl(["--cacert", etcd.caCert, "get", "/registry/namespaces/default"]);
    expect(noCert.status).not.toBe(0);
  });

  it("saves a snapshot with etcdctl that etcdctl snapshot status reads (etcd 3.4: no etcdutl)", () => {
    const file = `${etcd.dataDir}/../snap.db`;
    const save = etcdctl(["--cacert", etcd.caCert, "--cert", etcd.cert, "--key", etcd.key, "snapshot", "save", file]);
    expect(save.status).toBe(0);
    const status = spawnSync("etcdctl", ["snapshot", "status", file, "-w", "json"], { encoding: "utf8", env: { PATH: process.env.PATH, ETCDCTL_API: "3" }, timeout: 10_000 });
    expect(status.status).toBe(0);
    const parsed = JSON.parse(status.stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
    expect(parsed.revision).toBeGreaterThan(0);
    expect(parsed.totalKey).toBeGreaterThanOrEqual(3);
  });

  it("stops: the port refuses afterwards", async () => {
    await etcd.stop();
    const after = etcdctl(["--cacert", etcd.caCert, "--cert", etcd.cert, "--key", etcd.key, "endpoint", "health"]);
    expect(after.status).not.toBe(0);
  });
});
