/** resolveKubeconfig: the order of the four sources, kubectl's merge of KUBECONFIG, the errors. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiscoveryError } from "../../discovery/errors";
import { resolveKubeconfig } from "../../discovery/kubeconfig";
import { thrownBy } from "../helpers/errors";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig's text: one cluster, user and context per name given, current-context `current`. */
function kubeconfigText(names: readonly string[], current: string | undefined, server = (n: string) => `https://${n}.example:6443`, extraUser = ""): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    ...names.flatMap((n) => [`- name: ${n}`, "  cluster:", `    server: ${server(n)}`, "    certificate-authority: pki/ca.crt"]),
    "users:",
    ...names.flatMap((n) => [`- name: ${n}`, "  user:", `    token: token-${n}${extraUser}`]),
    "contexts:",
    ...names.flatMap((n) => [`- name: ${n}`, "  context:", `    cluster: ${n}`, `    user: ${n}`]),
    ...(current ? [`current-context: ${current}`] : []),
    "",
  ].join("\n");
}
function file(relative: string, text: string): string {
  const path = join(dir, relative);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}
const discoveryError = (fn: () => unknown) => thrownBy(DiscoveryError, fn);
const home = () => join(dir, "home");
const server = (r: ReturnType<typeof resolveKubeconfig>) => r.kubeconfig.getCurrentCluster()?.server;

describe("resolveKubeconfig: the first source set wins", () => {
  test("cluster-maintenance:kubeconfig before everything else", () => {
    file("home/.kube/config", kubeconfigText(["home"], "home"));
    const r = resolveKubeconfig({ override: kubeconfigText(["secret"], "secret"), providerConfig: kubeconfigText(["provider"], "provider"), env: { KUBECONFIG: file("k", kubeconfigText(["env"], "env")) }, home: home() });
    expect([r.source, server(r)]).toEqual(["cluster-maintenance:kubeconfig (stack secret)", "https://secret.example:6443"]);
  });

  test("then kubernetes:kubeconfig: a path, a ~/ path or the text, as the Pulumi provider takes it", () => {
    const env = { KUBECONFIG: file("k", kubeconfigText(["env"], "env")) };
    const path = file("provider.yaml", kubeconfigText(["provider"], "provider"));
    const byPath = resolveKubeconfig({ override: "  ", providerConfig: path, env, home: home() });
    expect([byPath.source, server(byPath)]).toEqual([`kubernetes:kubeconfig (${path})`, "https://provider.example:6443"]);
    // as the provider does, relative paths inside are left relative to the working directory
    expect(byPath.kubeconfig.getCurrentCluster()?.caFile).toBe("pki/ca.crt");
    const tilde = file("home/clusters/prod.yaml", kubeconfigText(["tilde"], "tilde"));
    const byTilde = resolveKubeconfig({ providerConfig: "~/clusters/prod.yaml", env, home: home() });
    expect([byTilde.source, server(byTilde)]).toEqual([`kubernetes:kubeconfig (${tilde})`, "https://tilde.example:6443"]);
    const byText = resolveKubeconfig({ providerConfig: kubeconfigText(["text"], "text"), env, home: home() });
    expect([byText.source, server(byText)]).toEqual(["kubernetes:kubeconfig (its value as kubeconfig text: it names no existing file)", "https://text.example:6443"]);
  });

  test("kubernetes:kubeconfig naming a missing absolute or ./ path is an error, not text", () => {
    const missing = join(dir, "nope.yaml");
    expect(discoveryError(() => resolveKubeconfig({ providerConfig: missing, env: {}, home: home() })).message).toBe(
      `cannot read the kubeconfig from kubernetes:kubeconfig (${missing}): ENOENT: no such file or directory, open '${missing}': check the path and that this user may read the file`,
    );
    expect(discoveryError(() => resolveKubeconfig({ providerConfig: "./nope.yaml", env: {}, home: home() })).message).toContain("cannot read the kubeconfig from kubernetes:kubeconfig (./nope.yaml)");
    expect(discoveryError(() => resolveKubeconfig({ providerConfig: "nope.yaml", env: {}, home: home() })).message).toContain("it holds no contexts: is it a kubeconfig?");
  });

  test("then KUBECONFIG; ~/.kube/config last", () => {
    file("home/.kube/config", kubeconfigText(["home"], "home"));
    const env = file("k", kubeconfigText(["env"], "env"));
    const fromEnv = resolveKubeconfig({ env: { KUBECONFIG: env }, home: home() });
    expect([fromEnv.source, server(fromEnv)]).toEqual([`KUBECONFIG (${env})`, "https://env.example:6443"]);
    const fromHome = resolveKubeconfig({ env: {}, home: home() });
    expect([fromHome.source, server(fromHome)]).toEqual([`~/.kube/config (${join(home(), ".kube", "config")})`, "https://home.example:6443"]);
    expect(fromHome.kubeconfig.getCurrentCluster()?.caFile).toBe(join(home(), ".kube", "pki", "ca.crt"));
  });
});

describe("KUBECONFIG is merged as kubectl merges it", () => {
  test("missing and empty files skipped; the first file to set a name or current-context wins; paths relative to each file", () => {
    const a = file("a/config", kubeconfigText(["shared", "a"], undefined, (n) => `https://a-${n}:6443`));
    const empty = file("empty/config", "");
    const b = file("b/config", kubeconfigText(["shared", "b"], "shared", (n) => `https://b-${n}:6443`));
    const c = file("c/config", kubeconfigText(["c"], "c"));
    const missing = join(dir, "missing", "config");
    const r = resolveKubeconfig({ env: { KUBECONFIG: ["", missing, a, empty, b, a, c].join(":") }, home: home() });
    expect(r.source).toBe(`KUBECONFIG (${a}, ${empty}, ${b}, ${c})`);
    expect(r.kubeconfig.getCurrentContext()).toBe("shared"); // b is the first to set current-context
    expect(server(r)).toBe("https://a-shared:6443"); // a is the first to define the cluster "shared"
    expect(r.kubeconfig.getCurrentUser()).toMatchObject({ name: "shared", token: "token-shared" });
    expect(r.kubeconfig.getClusters().map((x) => [x.name, x.server, x.caFile])).toEqual([
      ["shared", "https://a-shared:6443", join(dir, "a", "pki", "ca.crt")],
      ["a", "https://a-a:6443", join(dir, "a", "pki", "ca.crt")],
      ["b", "https://b-b:6443", join(dir, "b", "pki", "ca.crt")],
      ["c", "https://c.example:6443", join(dir, "c", "pki", "ca.crt")],
    ]);
    expect(r.kubeconfig.getContexts().map((x) => x.name)).toEqual(["shared", "a", "b", "c"]);
  });

  test("KUBECONFIG naming no existing file: ~/.kube/config is not read instead (as kubectl)", () => {
    file("home/.kube/config", kubeconfigText(["home"], "home"));
    const e = discoveryError(() => resolveKubeconfig({ env: { KUBECONFIG: "/nowhere/1:/nowhere/2" }, home: home() }));
    expect(e.reasons[2]).toBe("KUBECONFIG: lists /nowhere/1, /nowhere/2, none of which is a file (kubectl then reads no other file either); point it at your kubeconfig files: export KUBECONFIG=/path/to/kubeconfig");
    expect(e.reasons[3]).toContain("not read, as KUBECONFIG is set");
  });
});

describe("resolveKubeconfig refuses", () => {
  test("nothing set: the four places in order, each with how to set it", () => {
    const e = discoveryError(() => resolveKubeconfig({ override: "", providerConfig: "", env: { KUBECONFIG: "" }, home: home() }));
    expect(e.message).toBe(
      [
        "no kubeconfig to read the cluster with; looked in this order (4 problems):",
        "  - cluster-maintenance:kubeconfig: not set; set it with: pulumi config set --secret cluster-maintenance:kubeconfig < your-kubeconfig",
        "  - kubernetes:kubeconfig: not set; set it to a kubeconfig file's path (or its text) with: pulumi config set kubernetes:kubeconfig /path/to/kubeconfig",
        "  - KUBECONFIG: not set; export KUBECONFIG=/path/to/kubeconfig (several files: separated by ':', merged as kubectl merges them)",
        `  - ~/.kube/config (${join(home(), ".kube", "config")}): no such file; copy a kubeconfig for the cluster there (on kubeadm clusters \`kubeadm kubeconfig user\` on a control-plane node writes one)`,
      ].join("\n"),
    );
  });

  test("a kubeconfig that is not YAML: the reason and line, never its text", () => {
    const text = kubeconfigText(["x"], "x", undefined, "-SECRET") + "users: [\n";
    const e = discoveryError(() => resolveKubeconfig({ override: text, env: {}, home: home() }));
    expect(e.message).toMatch(/^the kubeconfig from cluster-maintenance:kubeconfig \(stack secret\) cannot be used: it is not a valid kubeconfig: .+ \(line \d+\); check it with KUBECONFIG=<the file> kubectl config view$/);
    expect(e.message).not.toContain("SECRET");
  });

  test("no current-context, one naming no context, a context whose cluster is missing", () => {
    const none = discoveryError(() => resolveKubeconfig({ override: kubeconfigText(["a", "b"], undefined), env: {}, home: home() }));
    expect(none.reasons[0]).toBe("it sets no current-context; choose one with: kubectl config use-context NAME (contexts: a, b)");
    const wrong = discoveryError(() => resolveKubeconfig({ override: kubeconfigText(["a"], "zz"), env: {}, home: home() }));
    expect(wrong.reasons[0]).toBe('its current-context "zz" is not one of its contexts (a); choose one with: kubectl config use-context NAME');
    const orphan = kubeconfigText(["a"], "a").replace("    cluster: a\n    user: a", "    cluster: gone\n    user: a");
    const e = discoveryError(() => resolveKubeconfig({ override: orphan, env: {}, home: home() }));
    expect(e.reasons[0]).toBe('the cluster of its current-context "a" is missing or has no server; add it: kubectl config set-cluster NAME --server=https://HOST:6443');
  });
});
