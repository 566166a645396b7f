/** components/user-data.ts: the join command parser (strict, never echoes the secrets) and the rendered user data. */
import { scriptText } from "../components/node-scripts";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseJoinCommand, renderUserData, USER_DATA_MAX_BYTES, type JoinParameters } from "../components/user-data";
import { KubeVersion } from "../planning/versions";

const TOKEN = "k3x9qa.7f2m0c8d1e4b6a9z";
const HASH = "sha256:" + "0123456789abcdef".repeat(4);
const line = (endpoint = "10.0.0.10:6443", token = TOKEN, hash = HASH) =>
  `kubeadm join ${endpoint} --token ${token} --discovery-token-ca-cert-hash ${hash}`;
const join: JoinParameters = { endpoint: "10.0.0.10:6443", token: TOKEN, caCertHash: HASH };
const V = KubeVersion.of(1, 37, 1);

/** The error `f` throws; fails the test when it does not throw. */
function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

/** Asserts that no part of a secret (whole, the token's secret half, the hash's hex) is in `text`. */
function expectNoSecrets(text: string, token = TOKEN, hash = HASH): void {
  for (const secret of [token, token.split(".")[1] ?? token, hash, hash.replace(/^sha256:/, "")]) {
    if (secret.length >= 8) expect(text).not.toContain(secret);
  }
}

describe("parseJoinCommand", () => {
  test("parses kubeadm's line as printed (trailing space and newline), with the flags in either order", () => {
    const want = { endpoint: "10.0.0.10:6443", token: TOKEN, caCertHash: HASH };
    expect(parseJoinCommand(`${line()} \n`)).toEqual(want);
    expect(parseJoinCommand(`kubeadm join 10.0.0.10:6443 --discovery-token-ca-cert-hash ${HASH} --token ${TOKEN}`)).toEqual(want);
  });

  test.each([
    ["a DNS name", "api.cluster-1.example.internal:6443"],
    ["a single-label name", "control-plane:443"],
    ["a bracketed IPv6 address", "[fd00:10::a]:6443"],
    ["the highest port", "10.0.0.10:65535"],
  ])("accepts an endpoint that is %s", (_what, endpoint) => {
    expect(parseJoinCommand(line(endpoint)).endpoint).toBe(endpoint);
  });

  const badTokens = ["k3x9qa.7f2m0c8d1e4b6a9", "K3X9QA.7F2M0C8D1E4B6A9Z", "k3x9qa-7f2m0c8d1e4b6a9z", "k3x9qa.7f2m0c8d1e4b6a9z_"];
  const badHashes = ["sha256:" + "0123456789ABCDEF".repeat(4), "sha256:" + "0123456789abcdef".repeat(4).slice(1), "sha1:" + "0123456789abcdef".repeat(4), "0123456789abcdef".repeat(4)];
  const badEndpoints = ["10.0.0.10", "10.0.0.10:0", "10.0.0.10:65536", "300.0.0.10:6443", "10.0.0:6443", "fd00::a:6443", "[fd00::zz]:6443", "api_server:6443", "-api:6443", "api.:6443", "10.0.0.10:6443/x", "a".repeat(64) + ":6443"];
  test.each([
    ["empty output", "", "is empty"],
    ["blank output", " \n\t", "is empty"],
    ["two lines", `${line()}\n${line()}`, "more than one line"],
    ["another command", line().replace("kubeadm join", "kubeadm init"), "is not `kubeadm join"],
    ["a control-plane join", `${line()} --control-plane --certificate-key ${"ab".repeat(32)}`, "is not `kubeadm join"],
    ["a missing hash", `kubeadm join 10.0.0.10:6443 --token ${TOKEN}`, "is not `kubeadm join"],
    ["an unknown flag", `kubeadm join 10.0.0.10:6443 --token ${TOKEN} --discovery-token-unsafe-skip-ca-verification x`, "unexpected word"],
    ["the token twice", `kubeadm join 10.0.0.10:6443 --token ${TOKEN} --token ${TOKEN}`, "--token twice"],
    ...badTokens.map((t): [string, string, string] => [`token ${t}`, line(undefined, t), "bootstrap token does not look like"]),
    ...badHashes.map((h): [string, string, string] => [`hash ${h}`, line(undefined, undefined, h), "CA certificate hash does not look like"]),
    ...badEndpoints.map((e): [string, string, string] => [`endpoint ${e}`, line(e), "endpoint is not host:port"]),
  ])("refuses %s, naming the problem without the secrets", (_what, stdout, problem) => {
    const e = errorOf(() => parseJoinCommand(stdout));
    expect(e.message).toContain(problem);
    expect(e.message).toMatch(/^the join command printed by `kubeadm token create --print-join-command`/);
    expectNoSecrets(e.message);
    for (const t of badTokens) expect(e.message).not.toContain(t);
    for (const h of badHashes) expect(e.message).not.toContain(h.slice(-40));
  });

  test("refuses what is not text", () => {
    expect(() => parseJoinCommand(undefined as unknown as string)).toThrow("is not text");
  });
});

describe("renderUserData", () => {
  const rendered = renderUserData({ version: V, join });
  const body = scriptText("join-node.sh").replace(/^#!.*\n/, "");

  test("is #!/bin/bash, the single-quoted parameters, then join-node.sh as sent (shared functions in place) without its #! line", () => {
    expect(rendered).not.toContain("# cluster-maintenance: include");
    expect(rendered).toContain("apt_get() {"); // apt waits for the boot's own apt runs (unattended-upgrades)
    expect(rendered).toBe(
      [
        "#!/bin/bash",
        "# cluster-maintenance: user data of a pool node (node-scripts/join-node.sh); holds a secret.",
        "KUBE_VERSION='1.37.1'",
        "KUBE_MINOR='1.37'",
        "API_ENDPOINT='10.0.0.10:6443'",
        `JOIN_TOKEN='${TOKEN}'`,
        `CA_CERT_HASH='${HASH}'`,
        "",
      ].join("\n") + body,
    );
    expect(renderUserData({ version: KubeVersion.of(1, 36, 12), join })).toContain("KUBE_VERSION='1.36.12'\nKUBE_MINOR='1.36'\n");
  });

  test("shellcheck -s bash finds nothing in the rendered user data", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-user-data-"));
    try {
      const file = path.join(dir, "user-data");
      fs.writeFileSync(file, rendered);
      const r = spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8", timeout: 60_000 });
      if (r.error) throw r.error;
      expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: "" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("pins the packages at the version, uses that minor's repository, holds them, joins with a v1beta4 JoinConfiguration", () => {
    expect(rendered).toContain('url="https://pkgs.k8s.io/core:/stable:/v$minor/deb/"');
    expect(rendered).toContain('line="deb [signed-by=$keyring] $url /"');
    expect(rendered).toContain("keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg");
    expect(rendered).toContain('apt_get 600 install -y "kubelet=$version-*" "kubeadm=$version-*" "kubectl=$version-*"');
    expect(rendered).toContain("apt-mark hold kubelet kubeadm kubectl");
    expect(rendered).toMatch(/^version=\$KUBE_VERSION$/m);
    expect(rendered).toMatch(/^minor=\$KUBE_MINOR$/m);
    expect(rendered).toMatch(/^apiVersion: kubeadm\.k8s\.io\/v1beta4\nkind: JoinConfiguration\n/m);
    expect(rendered).toContain("SystemdCgroup = true");
    expect(rendered).toMatch(/timeout 900 kubeadm join --config "\$join_conf"/);
  });

  test("fits EC2's user data limit (16 KiB before base64) with room to spare", () => {
    expect(USER_DATA_MAX_BYTES).toBe(16384);
    expect(Buffer.byteLength(rendered)).toBeLessThan(USER_DATA_MAX_BYTES * 0.75);
  });

  test("never traces; every network call is bounded", () => {
    expect(rendered).not.toMatch(/set\s+-[a-z]*x|set\s+-o\s+xtrace|\bbash\s+-x/);
    for (const l of rendered.split("\n").filter((x) => !/^\s*apt_get /.test(x) && /^\s*[^#]*\b(curl|apt-get (update|install)|kubeadm join)\b/.test(x))) {
      expect(l).toMatch(/--max-time|timeout \d+/);
    }
    // apt through apt_get: a bound of its own (SECONDS) after the wait for apt's locks.
    const aptCalls = rendered.split("\n").filter((x) => /^\s*apt_get /.test(x));
    expect(aptCalls).toHaveLength(4);
    for (const l of aptCalls) expect(l).toMatch(/^\s*apt_get \d+ (update|install) /);
    expect(rendered).toMatch(/timeout "\$\(\(limit \+ apt_lock_wait\)\)" apt-get -o "DPkg::Lock::Timeout=\$apt_lock_wait"/);
  });

  test("the token is written only into the 0600 JoinConfiguration heredoc (never echoed, never in argv)", () => {
    expect(rendered.split(TOKEN)).toHaveLength(2); // once: the preamble
    expect(rendered.split(HASH)).toHaveLength(2);
    const lines = rendered.split("\n");
    const uses = lines.map((l, i) => [l, i] as const).filter(([l]) => /JOIN_TOKEN/.test(l) && !l.startsWith("#"));
    expect(uses.map(([l]) => l.trim())).toEqual([
      `JOIN_TOKEN='${TOKEN}'`,
      '[[ ${JOIN_TOKEN:-} =~ ^[a-z0-9]{6}\\.[a-z0-9]{16}$ ]] || fail 2 "JOIN_TOKEN is not a bootstrap token (value not shown)"',
      'token: "$JOIN_TOKEN"',
    ]);
    const start = lines.findIndex((l) => /cat >"\$join_conf" <<EOF$/.test(l));
    const end = lines.findIndex((l, i) => i > start && l === "EOF");
    const tokenLine = uses[2]![1];
    expect(start).toBeGreaterThan(0);
    expect(tokenLine).toBeGreaterThan(start);
    expect(tokenLine).toBeLessThan(end);
    expect(lines[start - 1]!.trim()).toBe("umask 077");
    expect(lines.slice(end + 1, end + 3).join("\n")).toContain('chmod 0600 "$join_conf"');
    expect(rendered).toContain("trap 'rm -f \"$join_conf\"' EXIT");
  });

  test("refuses invalid parameters without showing them", () => {
    const badToken = "ABCDEF.0123456789abcdef";
    const e = errorOf(() => renderUserData({ version: V, join: { ...join, token: badToken } }));
    expect(e.message).toContain("bootstrap token does not look like");
    expect(e.message).not.toContain(badToken);
    const badHash = "sha256:" + "x".repeat(64);
    const h = errorOf(() => renderUserData({ version: V, join: { ...join, caCertHash: badHash } }));
    expect(h.message).toContain("CA certificate hash");
    expect(h.message).not.toContain("x".repeat(64));
    expect(() => renderUserData({ version: V, join: { ...join, endpoint: "10.0.0.10:6443'; reboot; '" } })).toThrow("endpoint is not host:port");
  });
});
