/**
 * The event log read as the engine writes it (cli/up-events.ts), the notices built from it
 * (cli/up-notices.ts) and the webhook URL's checks (config/notify-config.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isProblem, parseWebhookUrl } from "../../config/notify-config";
import { announcedWave, EngineEvent, EventLogFollower, EventLogParser, plainText, UpdateRecorder, urnName, urnType } from "../../cli/up-events";
import { endNotice, failureReason, redact, REASON_MAX_CHARS, slackBody, startedNotice } from "../../cli/up-notices";
import { cancel, clusterUrn, commandError, commandFailed, commandRan, commandUrn, opening, STACK_URN, summary } from "./engine-events";

const WAVE = "wave 2 (next pulumi up): hop 1 v1.34.6 -> v1.35.9, workers of general: 2 node(s), 14 step(s)";
const WAVE_LINE = `this update: ${WAVE}; 3 more wave(s) after it: run pulumi up again`;
const DRAIN_LINE = "sudo bash -c 's=$(cat) && exec bash -c \"$s\" \"$0\" \"$@\"' drain.sh 'general-1' '1.35.9' '600' 'false' 'false' 'false'";
const DRAIN_OUTPUT = "draining general-1\nnode/general-1 cordoned\nevicting pod shop/web-1\ncluster-maintenance: drain.sh: drain of general-1 did not finish within 600s\n  shop/web-1: PodDisruptionBudget web-pdb needs 2 healthy pods and has 2\n";

const stamp = (events: Omit<EngineEvent, "sequence" | "timestamp">[]): EngineEvent[] => events.map((e, i) => ({ sequence: i + 1, timestamp: 1767000000 + i, ...e }));

function failedRun(): EngineEvent[] {
  return stamp([
    ...opening("dev", ["general-1", "general-2"], WAVE_LINE),
    ...commandRan("dev", "general-1", "dev-general-1-v1.35.9-kubeadm"),
    ...commandFailed("dev", "general-1", "dev-general-1-v1.35.9-drain", commandError(4, DRAIN_LINE, DRAIN_OUTPUT), 6),
    // No error of the program's own follows: its pending registrations are never answered and the
    // language host interrupts it (pulumi v3.248: step.go CreateStep.Apply, host.go ReleaseContext).
    summary("failed", 95, { create: 6 }),
    cancel(),
  ]);
}

describe("the event log", () => {
  it("is parsed line by line, however the bytes arrive, and a line that is not JSON is skipped and counted", () => {
    const text = failedRun().map((e) => JSON.stringify(e)).join("\n") + "\nnot json\n";
    const parser = new EventLogParser();
    const events: EngineEvent[] = [];
    for (let i = 0; i < text.length; i += 37) events.push(...parser.push(text.slice(i, i + 37)));
    events.push(...parser.end());
    expect(events).toEqual(failedRun());
    expect(parser.skipped).toBe(1);
  });

  it("is followed while it grows: nothing before the file exists, then each poll the new whole lines, the last half line at finish", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "event-log-"));
    const file = path.join(dir, "events.jsonl");
    const follower = new EventLogFollower(file);
    expect(follower.poll()).toEqual([]);
    const [a, b, c] = failedRun();
    fs.writeFileSync(file, `${JSON.stringify(a)}\n${JSON.stringify(b).slice(0, 10)}`);
    expect(follower.poll()).toEqual([a]);
    fs.appendFileSync(file, `${JSON.stringify(b).slice(10)}\n${JSON.stringify(c)}`);
    expect(follower.poll()).toEqual([b]);
    expect(follower.finish()).toEqual([c]);
    fs.rmSync(dir, { recursive: true });
  });

  it("reads URNs' names and types, and diagnostics without Pulumi's color directives", () => {
    expect(urnName(commandUrn("dev-cp-1-v1.35.9-kubeadm"))).toBe("dev-cp-1-v1.35.9-kubeadm");
    expect(urnType(commandUrn("x"))).toBe("command:remote:Command");
    expect(urnType(clusterUrn("dev"))).toBe("cluster-maintenance:upgrade:ClusterUpgrade");
    expect(plainText("<{%reset%}>this update: x<{%reset%}>\n")).toBe("this update: x");
  });

  it("finds the wave ClusterUpgrade announces, with the waves after it, and 'nothing left'", () => {
    expect(announcedWave(`<{%reset%}>${WAVE_LINE}<{%reset%}>\n`)).toEqual({ label: WAVE, wavesAfter: 3, nothingLeft: false });
    expect(announcedWave(`this update: ${WAVE}`)).toEqual({ label: WAVE, wavesAfter: 0, nothingLeft: false });
    expect(announcedWave("this update: nothing left: the cluster is at v1.37.1")).toEqual({ label: "nothing left: the cluster is at v1.37.1", wavesAfter: 0, nothingLeft: true });
    expect(announcedWave("planning from the cluster at https://10.0.0.10:6443")).toBeUndefined();
  });

  it("records the failed step with its node (from its NodeUpgrade under the ClusterUpgrade) and the engine's message; other errors apart", () => {
    const recorder = new UpdateRecorder();
    const announced = failedRun().map((e) => recorder.add(e)).filter((w) => w !== undefined);
    expect(announced).toEqual([{ label: WAVE, wavesAfter: 3, nothingLeft: false }]);
    const record = recorder.record();
    expect(record.failed).toEqual([{
      urn: commandUrn("dev-general-1-v1.35.9-drain"), resource: "dev-general-1-v1.35.9-drain", type: "command:remote:Command", op: "create",
      node: "general-1", message: commandError(4, DRAIN_LINE, DRAIN_OUTPUT).trimEnd(),
    }]);
    expect(record.errors).toEqual([]);
    expect(record).toMatchObject({ result: "failed", durationSeconds: 95, resourceChanges: { create: 6 }, complete: true });
  });

  it("names the NodeUpgrade when the ClusterUpgrade's event is missing, and no node for a resource under another parent", () => {
    const recorder = new UpdateRecorder();
    for (const e of stamp([
      ...commandFailed("dev", "cp-1", "dev-cp-1-v1.35.9-kubeadm", "boom", 1),
      { resOpFailedEvent: { metadata: { op: "create", urn: "urn:pulumi:dev::cluster-maintenance::aws:ec2/instance:Instance::dev-batch-green-1", type: "aws:ec2/instance:Instance", new: { parent: STACK_URN } }, status: 0, steps: 1 } },
    ])) recorder.add(e);
    expect(recorder.record().failed.map((f) => [f.resource, f.node])).toEqual([["dev-cp-1-v1.35.9-kubeadm", "dev-cp-1"], ["dev-batch-green-1", undefined]]);
  });
});

describe("the reason a step failed", () => {
  it("is the script, its exit status and its last output lines, never the command line", () => {
    expect(failureReason(commandError(4, DRAIN_LINE, DRAIN_OUTPUT))).toBe(
      "drain.sh exited with status 4: node/general-1 cordoned | evicting pod shop/web-1 | cluster-maintenance: drain.sh: drain of general-1 did not finish within 600s | shop/web-1: PodDisruptionBudget web-pdb needs 2 healthy pods and has 2",
    );
    expect(failureReason(commandError(1, "sudo bash -c x upgrade-kubelet.sh '1.35.9'", ""))).toBe("upgrade-kubelet.sh exited with status 1 (no output)");
    expect(failureReason("<{%reset%}>error: ssh: handshake failed: host key mismatch\n<{%reset%}>")).toBe("ssh: handshake failed: host key mismatch");
  });

  it("has no secret: join tokens, PEM blocks, credential fields, URLs and the known values become [secret] or [url]; and it is bounded", () => {
    const url = "https://hooks.example/services/T0/B0/sEcReT";
    const out = [
      "kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:0f0f",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
      "token: eyJhbGciOi password=hunter2 Authorization: Bearer xyz",
      `posting to ${url} failed; path /services/T0/B0/sEcReT`,
    ].join("\n");
    const r = redact(out, [url, "/services/T0/B0/sEcReT"]);
    for (const s of ["abcdef.0123456789abcdef", "AAAA", "eyJhbGciOi", "hunter2", "xyz", "sEcReT", "hooks.example"]) expect(r).not.toContain(s);
    expect(r).toContain("--token [secret]");
    expect(failureReason(commandError(2, "join-command.sh", "x".repeat(5000))).length).toBe(REASON_MAX_CHARS);
  });
});

describe("the notices", () => {
  it("started: the stack, the wave and the waves after it, as Slack text", () => {
    const n = startedNotice("prod", WAVE, 3);
    expect(n).toEqual({ kind: "started", stack: "prod", wave: WAVE, wavesAfter: 3, failures: [] });
    expect(slackBody(n)).toEqual({ text: `cluster-maintenance prod: wave started: ${WAVE.replace("->", "-&gt;")}\nwaves after it: 3` });
  });

  it("finished: exit 0, the wave, the waves after it and the duration", () => {
    const recorder = new UpdateRecorder();
    for (const e of stamp([...opening("dev", ["general-1"], `this update: ${WAVE}`), summary("succeeded", 61, { create: 7 }), cancel()])) recorder.add(e);
    const n = endNotice("dev", recorder.record(), 0);
    expect(n).toEqual({ kind: "finished", stack: "dev", wave: WAVE, wavesAfter: 0, durationSeconds: 61, exitCode: 0, failures: [] });
    expect(slackBody(n).text.split("\n")).toEqual([`cluster-maintenance dev: wave finished: ${WAVE.replace("->", "-&gt;")}`, "no wave left after it", "duration: 61s"]);
    const none = endNotice("dev", { wave: { label: "nothing left: the cluster is at v1.37.1", wavesAfter: 0, nothingLeft: true }, failed: [], errors: [], complete: true }, 0);
    expect(slackBody(none).text.split("\n")[0]).toBe("cluster-maintenance dev: nothing left: the cluster is at v1.37.1");
  });

  it("failed: each failed step's node, reason and resource; the program's own errors left out when a step failed", () => {
    const recorder = new UpdateRecorder();
    for (const e of failedRun()) recorder.add(e);
    const n = endNotice("dev", recorder.record(), 255);
    expect(n.kind).toBe("failed");
    expect(n.failures).toEqual([{ node: "general-1", resource: "dev-general-1-v1.35.9-drain", reason: failureReason(commandError(4, DRAIN_LINE, DRAIN_OUTPUT)) }]);
    expect(n.error).toBeUndefined();
    expect(slackBody(n).text.split("\n")).toEqual([
      `cluster-maintenance dev: wave failed: ${WAVE.replace("->", "-&gt;")}`,
      `node general-1: ${n.failures[0]!.reason} (dev-general-1-v1.35.9-drain)`,
      "duration: 95s",
      "pulumi up exit code: 255",
      "the update stopped at the failure: fix it and run npm run up again",
    ]);
  });

  it("failed before any wave: the first error (redacted), or what the exit says", () => {
    const record = { failed: [], errors: ["Running program failed: NoGoError: hop 1 is no-go: pod-without-controller/shop/debug-shell (acknowledge it)"], complete: true };
    const n = endNotice("dev", record, 255);
    expect(n).toEqual({ kind: "failed", stack: "dev", failures: [], error: record.errors[0], exitCode: 255 });
    expect(slackBody(n).text.split("\n").slice(0, 2)).toEqual(["cluster-maintenance dev: update failed before any wave started", `error: ${record.errors[0]}`]);
    expect(endNotice("dev", { failed: [], errors: [], complete: false }, null).error).toBe("pulumi up was stopped by a signal");
    expect(endNotice("dev", { failed: [], errors: [], result: "canceled", complete: true }, 255).error).toBe("the update was canceled");
  });
});

describe("the webhook URL", () => {
  it("takes an https URL with a host", () => {
    expect(parseWebhookUrl("https://hooks.example/services/T0/B0/x")).toEqual({ href: "https://hooks.example/services/T0/B0/x" });
  });

  it.each([
    ["http://hooks.example/services/x", "uses http, not https"],
    ["hooks.example/services/x", "is not an absolute URL"],
    ["https://user:pw@hooks.example/x", "carries a user or password part"],
    ["https://hooks.example/a b", "contains whitespace"],
    ["", "is not a URL"],
    [42, "is not a URL"],
  ])("refuses %j, naming the key and never the value", (value, what) => {
    const p = parseWebhookUrl(value);
    expect(isProblem(p)).toBe(true);
    expect(p).toMatchObject({ key: "cluster-maintenance:notificationWebhookUrl", value: "(secret, not shown)", problem: expect.stringContaining(what) });
    if (typeof value === "string" && value) expect(JSON.stringify(p)).not.toContain(value);
  });
});
