/** export-resources.sh on a lab control-plane node: one YAML file per listable type, Secrets excluded or encrypted, events skipped. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLab, LAB_EXPORTED_FILES, LAB_SECRET_MARKERS, type Lab } from "../lab/node-kit";
import { callsDuring, cp, expectExit, lines, realMachinePaths } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(): Lab {
  const l = createLab({ nodes: [cp("cp-1"), { name: "w-1", role: "worker", version: "1.34.6" }] });
  labs.push(l);
  return l;
}
const keys = fs.mkdtempSync(path.join(os.tmpdir(), "cm-export-keys-"));
afterAll(() => {
  labs.forEach((l) => l.cleanup());
  fs.rmSync(keys, { recursive: true, force: true });
  expect(realMachinePaths()).toEqual(realBefore);
});

const OUT = "/var/lib/cluster-maintenance/resource-exports";
const root = (l: Lab) => l.env("cp-1").CM_NODE_ROOT!;
/** The one timestamped export directory under OUT on cp-1. */
function exportDir(l: Lab): string {
  const base = path.join(root(l), OUT);
  const runs = fs.readdirSync(base);
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatch(/^\d{8}T\d{6}Z$/);
  return path.join(base, runs[0]!);
}
function openssl(args: string[]): string {
  const r = spawnSync("openssl", args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("export-resources.sh", () => {
  test("exclude: one YAML file per listable type from api-resources, Secrets and events absent, a summary line", async () => {
    const l = lab();
    const { result, calls } = await callsDuring(l, () => l.runScript("cp-1", "export-resources.sh", [OUT, "exclude"]));
    expectExit(result, 0);
    const dir = exportDir(l);
    expect(fs.readdirSync(dir).sort()).toEqual(LAB_EXPORTED_FILES);
    // The kept discovery's 53 listable types (as real kubectl api-resources lists them), events and Secrets skipped.
    expect(LAB_EXPORTED_FILES).toHaveLength(50);
    expect(LAB_EXPORTED_FILES).toEqual(
      expect.arrayContaining(["clusterroles.rbac.authorization.k8s.io.yaml", "configmaps.yaml", "customresourcedefinitions.apiextensions.k8s.io.yaml", "namespaces.yaml", "widgets.example.com.yaml", "nodes.yaml", "pods.yaml"]),
    );
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const widgets = fs.readFileSync(path.join(dir, "widgets.example.com.yaml"), "utf8");
    expect(widgets).toContain("kind: Widget");
    expect(widgets).toContain("name: blue");
    expect(fs.readFileSync(path.join(dir, "clusterroles.rbac.authorization.k8s.io.yaml"), "utf8")).toContain("kind: ClusterRole");
    expect(fs.readFileSync(path.join(dir, "customresourcedefinitions.apiextensions.k8s.io.yaml"), "utf8")).toContain("name: widgets.example.com");
    for (const f of fs.readdirSync(dir)) for (const m of LAB_SECRET_MARKERS) expect(fs.readFileSync(path.join(dir, f), "utf8")).not.toContain(m);
    expect(result.stdout).toMatch(
      new RegExp(`^cluster-maintenance: export-resources\\.sh: cp-1: exported ${LAB_EXPORTED_FILES.length} resource types to ${OUT}/\\d{8}T\\d{6}Z \\(secrets excluded; skipped: events events\\.events\\.k8s\\.io secrets\\)\\n$`),
    );
    const kubectl = lines(calls).filter((c) => c.startsWith("cp-1 kubectl"));
    expect(kubectl[0]).toBe("cp-1 kubectl --request-timeout=120s api-resources --verbs=list -o name");
    expect(kubectl.slice(1).sort()).toEqual(
      LAB_EXPORTED_FILES.map((f) => `cp-1 kubectl --request-timeout=120s get ${f.replace(/\.yaml$/, "")} -A -o yaml`).sort(),
    );
    expect(kubectl.join("\n")).not.toMatch(/get (all|secrets|events)\b/);
  });

  test("encrypt: Secrets only as secrets.cms that the recipient's key decrypts; no plain Secret YAML anywhere", async () => {
    const l = lab();
    const key = path.join(keys, "recipient.key");
    const cert = path.join(keys, "recipient.pem");
    openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=cluster-maintenance-test"]);
    const onNode = "/etc/cluster-maintenance/export-recipient.pem";
    fs.mkdirSync(path.join(root(l), path.dirname(onNode)), { recursive: true });
    fs.copyFileSync(cert, path.join(root(l), onNode));

    const r = await l.runScript("cp-1", "export-resources.sh", [OUT, `encrypt:${onNode}`]);
    expectExit(r, 0);
    const dir = exportDir(l);
    expect(fs.readdirSync(dir).sort()).toEqual([...LAB_EXPORTED_FILES, "secrets.cms"].sort());
    const cms = path.join(dir, "secrets.cms");
    const raw = fs.readFileSync(cms);
    for (const m of LAB_SECRET_MARKERS) expect(raw.includes(m)).toBe(false);
    const plain = openssl(["cms", "-decrypt", "-inform", "DER", "-in", cms, "-recip", cert, "-inkey", key]);
    expect(plain).toContain("kind: Secret");
    expect(plain).toContain("token: bGFiLXNlY3JldC12YWx1ZQ==");
    for (const f of LAB_EXPORTED_FILES) for (const m of LAB_SECRET_MARKERS) expect(fs.readFileSync(path.join(dir, f), "utf8")).not.toContain(m);
    expect(r.stdout).toContain(`(secrets encrypted for ${onNode}; skipped: events events.events.k8s.io)`);
  });

  test("refuses bad arguments (exit 2) with a clear line, before calling kubectl", async () => {
    const l = lab();
    const cases: [string[], string][] = [
      [[OUT], "usage: export-resources.sh OUT_DIR exclude|encrypt:"],
      [["relative/dir", "exclude"], "OUT_DIR must be an absolute path"],
      [[OUT, "plain"], "SECRETS must be exclude or encrypt:<absolute path of a recipient certificate>, not 'plain'"],
      [[OUT, "encrypt:/etc/missing.pem"], "the recipient certificate /etc/missing.pem does not exist"],
    ];
    for (const [args, message] of cases) {
      const { result, calls } = await callsDuring(l, () => l.runScript("cp-1", "export-resources.sh", args));
      expectExit(result, 2);
      expect(result.stderr).toContain(`cluster-maintenance: export-resources.sh: cp-1: ${message}`);
      expect(lines(calls).filter((c) => c.includes("kubectl"))).toEqual([]);
    }
    expect(fs.existsSync(path.join(root(l), OUT))).toBe(false);
  });

  test("a type that cannot be exported fails the run (exit 1) naming it; the others are kept, no partial file", async () => {
    const l = lab();
    l.injectFailure("cp-1", "get widgets.example.com");
    const r = await l.runScript("cp-1", "export-resources.sh", [OUT, "exclude"]);
    expectExit(r, 1);
    expect(r.stderr).toContain(`cluster-maintenance: export-resources.sh: cp-1: exporting these types failed: widgets.example.com (the other ${LAB_EXPORTED_FILES.length - 1} are in `);
    expect(fs.readdirSync(exportDir(l)).sort()).toEqual(LAB_EXPORTED_FILES.filter((f) => !f.startsWith("widgets")));
  });

  test("listing the API resource types fails: exit 1 with a clear line", async () => {
    const l = lab();
    l.injectFailure("cp-1", "api-resources");
    const r = await l.runScript("cp-1", "export-resources.sh", [OUT, "exclude"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("cluster-maintenance: export-resources.sh: cp-1: listing the API resource types failed");
  });
});
