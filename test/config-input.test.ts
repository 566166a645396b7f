/**
 * Config is plain data, bounded: a key `__proto__` is an unknown key (never a prototype),
 * `--stack` is a Pulumi stack name (never a path), more than 5,000 nodes is refused with one
 * message before any node is read, and no message echoes a huge value back.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPlan } from "../cli/plan";
import { MAX_NODES, parseStackConfig } from "../config/stack-config";
import { InputErrors } from "../planning/errors";
import { captured, scratchProject } from "./helpers/cli";
import { testHostKey } from "./helpers/host-keys";

const now = new Date("2026-11-21");
const run = (args: string[], cwd: string) => captured((io) => runPlan(args, { ...io, now, env: { HOME: "/nonexistent" } }), cwd);
const cp = `{ name: cp-1, host: 10.0.0.1, version: "1.34.6", hostKey: "${testHostKey("cp-1")}" }`;

function problemsOf(read: () => unknown): InputErrors {
  try {
    read();
  } catch (e) {
    if (e instanceof InputErrors) return e;
    throw e;
  }
  throw new Error("no InputErrors thrown");
}

describe("a key __proto__ is plain data", () => {
  it("top level in a stack file: refused as an unknown key, its targetVersion never used", async () => {
    const dir = scratchProject("proto", `config:\n  cluster-maintenance:__proto__:\n    targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [${cp}] }\n`);
    const r = await run(["--stack", "proto"], dir);
    expect([r.code, r.out]).toEqual([1, ""]);
    expect(r.err).toContain('cluster-maintenance.__proto__: is not a known key (got {"targetVersion":"1.35"})');
    expect(r.err).toContain("targetVersion: is required");
  });

  it("nested in a mapping: refused as an unknown key there", async () => {
    const dir = scratchProject("nested", `config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane:\n    __proto__: { nodes: [${cp}] }\n`);
    const r = await run(["--stack", "nested"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("controlPlane.__proto__: is not a known key");
  });

  it("as the program reads Pulumi config (JSON.parse): the same", async () => {
    const raw = JSON.parse(`{"__proto__": {"targetVersion": "1.35"}, "controlPlane": {"nodes": [{"name": "cp-1", "host": "10.0.0.1", "version": "1.34.6", "hostKey": "${testHostKey("cp-1")}"}]}}`) as Record<string, unknown>;
    const e = problemsOf(() => parseStackConfig(raw, "test"));
    expect(e.problems.map((p) => p.key)).toEqual(["cluster-maintenance.__proto__", "targetVersion"]);
  });

  it("inherited keys are never read", async () => {
    const raw = Object.create({ targetVersion: "1.35" }) as Record<string, unknown>;
    raw.controlPlane = { nodes: [{ name: "cp-1", host: "10.0.0.1", version: "1.34.6", hostKey: testHostKey("cp-1") }] };
    expect(problemsOf(() => parseStackConfig(raw, "test")).problems.map((p) => p.key)).toEqual(["targetVersion"]);
  });
});

describe("--stack is a Pulumi stack name", () => {
  it("a path is refused, and the file it points at outside the project is not read", async () => {
    const parent = mkdtempSync(join(tmpdir(), "cm-stack-path-"));
    const dir = join(parent, "project");
    mkdirSync(dir);
    mkdirSync(join(parent, "outside"));
    writeFileSync(join(dir, "Pulumi.yaml"), "name: cluster-maintenance\nruntime: nodejs\n");
    writeFileSync(join(parent, "outside", "evil.yaml"), `config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [${cp}] }\n`);
    for (const stack of ["/../../outside/evil", "../outside/evil", "a/b", "dev yaml", ""]) {
      const r = await run(["--stack", stack], dir);
      expect([stack, r.code, r.out]).toEqual([stack, 1, ""]);
      expect(r.err).toContain("--stack: is not a Pulumi stack name (letters, digits, '-', '_', '.'; at most 100)");
    }
  });

  it("letters, digits, '-', '_', '.' are a stack name", async () => {
    const dir = scratchProject("Prod_2.eu-west", `config:\n  cluster-maintenance:clusterName: prod\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [${cp}] }\n`);
    expect((await run(["--stack", "Prod_2.eu-west"], dir)).code).toBe(0);
  });
});

describe(`at most ${MAX_NODES} nodes`, () => {
  const workers = (n: number) => Array.from({ length: n }, (_, i) => `        - { name: w-${i}, host: 10.1.${i >> 8}.${i & 255}, version: "1.34.6" }`).join("\n");
  const stack = (n: number) => `config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }\n  cluster-maintenance:controlPlane: { nodes: [${cp}] }\n  cluster-maintenance:pools:\n    - name: web\n      nodes:\n${workers(n)}\n`;

  it(`${MAX_NODES} plan; one more is refused with one message`, async () => {
    expect((await run(["--stack", "max", "--json"], scratchProject("max", stack(MAX_NODES - 1)))).code).toBe(0);
    const r = await run(["--stack", "over"], scratchProject("over", stack(MAX_NODES)));
    expect([r.code, r.out]).toEqual([1, ""]);
    expect(r.err).toBe(
      `error: invalid stack config for cluster-maintenance: controlPlane.nodes, pools: has more than ${MAX_NODES} nodes, the most a Kubernetes cluster supports (https://kubernetes.io/docs/setup/best-practices/cluster-large/) (got "5001 nodes"). check the stack file: list the cluster's own nodes only\n`,
    );
  });

  it("70,000 nodes are refused before any is read: fast, one problem", async () => {
    const node = { name: "x", host: "not a host", version: "nope" };
    const raw = { targetVersion: "1.35", controlPlane: { nodes: [node] }, pools: [{ name: "web", nodes: Array.from({ length: 70_000 }, () => node) }] };
    const t0 = Date.now();
    const e = problemsOf(() => parseStackConfig(raw, "test"));
    expect(Date.now() - t0).toBeLessThan(500);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]!.problem).toContain(`has more than ${MAX_NODES} nodes`);
  });

  it("a blue-green pool's instances count too", async () => {
    const raw = { targetVersion: "1.35", controlPlane: { nodes: [] }, pools: Array.from({ length: 6 }, (_, i) => ({ name: `p${i}`, strategy: "blue-green", size: 1000 })) };
    expect(problemsOf(() => parseStackConfig(raw, "test")).problems.map((p) => p.value)).toEqual(["6000 nodes"]);
  });
});

describe("no message echoes a huge value back", () => {
  it("a 5 MB value is cut to its start and length", async () => {
    const huge = "v".repeat(5_000_000);
    const dir = scratchProject("huge", `config:\n  cluster-maintenance:targetVersion: "${huge}"\n  cluster-maintenance:clusterName: "${huge.slice(0, 1_000_000)}"\n  cluster-maintenance:controlPlane: { nodes: [${cp}] }\n`);
    const r = await run(["--stack", "huge"], dir);
    expect(r.code).toBe(1);
    expect(r.err.length).toBeLessThan(2500);
    expect(r.err).toContain("...(5000000 chars)");
    const key = "k".repeat(100_000);
    const e = problemsOf(() => parseStackConfig({ targetVersion: "1.35", controlPlane: { nodes: [] }, [key]: huge }, "test"));
    expect(e.problems.map((p) => p.key)).toContain(`cluster-maintenance.${key}`);
    expect(e.message.length).toBeLessThan(1500);
  });

  it("a long list of problems is cut after 100", async () => {
    const raw = { targetVersion: "1.35", controlPlane: { nodes: Array.from({ length: 300 }, (_, i) => ({ name: `n-${i}`, host: "bad host", version: "1.34.6" })) }, ssh: { insecureIgnoreHostKey: true } };
    const e = problemsOf(() => parseStackConfig(raw, "test"));
    expect(e.problems).toHaveLength(300);
    expect(e.message.split("\n")).toHaveLength(102);
    expect(e.message).toMatch(/\n {2}\.\.\. and 200 more problems$/);
  });

  it("a stack file past 8 MiB is not parsed", async () => {
    const dir = scratchProject("big", `# ${"x".repeat(9 * 1024 * 1024)}\nconfig: {}\n`);
    const r = await run(["--stack", "big"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: invalid input: Pulumi\.big\.yaml: has 94371\d\d bytes, more than 8388608 /);
  });
});
