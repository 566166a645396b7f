/** OS patching: it shares an upgrade's drain, or runs after the hops, in batches; nothing changes a version. */
import { executionOptions, parseStackConfig, planFromConfig } from "../config/stack-config";
import { commandKey, planCommands, scheduledRebootBootId } from "../planning/commands";
import { stackConfig } from "./helpers/pulumi-mocks";

const raw = stackConfig("dev") as Record<string, any>;
const now = new Date("2026-11-21");
const withPatch = (overrides: Record<string, unknown>) => {
  const config = parseStackConfig({ ...raw, ...overrides }, "dev");
  const plan = planFromConfig(config, now);
  return { plan, commands: planCommands(plan, executionOptions(config)).commands };
};
const general = { ...raw.pools[0], osPatchRevision: "2026-11" };
const batch = raw.pools[1];

describe("with an upgrade", () => {
  const { plan, commands } = withPatch({ pools: [general, batch], controlPlane: { ...raw.controlPlane, osPatchRevision: "2026-11" } });

  it("patches each node inside its first drain, between the kubelet upgrade and the wait for Ready", () => {
    const patchedSteps = plan.steps.filter((s) => s.actions.some((a) => a.kind === "os-patch"));
    expect(patchedSteps.map((s) => s.id)).toEqual([
      "v1.35/cp-1/kubelet-upgrade", "v1.35/cp-2/kubelet-upgrade", "v1.35/cp-3/kubelet-upgrade",
      "v1.35/general-1/worker-upgrade", "v1.35/general-2/worker-upgrade", "v1.35/general-3/worker-upgrade", "v1.35/general-4/worker-upgrade",
    ]);
    expect(patchedSteps[3]!.actions.map((a) => a.kind)).toEqual([
      "switch-repository", "upgrade-kubeadm", "kubeadm-upgrade-node", "drain", "upgrade-kubelet", "os-patch", "wait-ready", "uncordon",
    ]);
  });

  it("patches no blue-green pool (they are patched by replacement) and adds no separate patch steps", () => {
    expect(plan.maintenance).toEqual([]);
    expect(plan.steps.some((s) => s.kind === "os-patch")).toBe(false);
  });

  it("waits for the reboot that os-patch.sh scheduled, with the boot id it printed", () => {
    const wait = commands.find((c) => c.node === "general-1" && c.name === "v1.35.9-wait-ready")!;
    expect(wait.bootIdFrom).toBe("general-1/v1.35.9-os-patch");
    const patch = commands.find((c) => commandKey(c) === wait.bootIdFrom)!;
    expect([patch.runsOn, patch.script, patch.args]).toEqual(["general-1", "os-patch.sh", ["2026-11"]]);
    expect(commands.filter((c) => c.name === "v1.36.4-wait-ready").every((c) => c.bootIdFrom === undefined)).toBe(true);
  });
});

describe("without an upgrade", () => {
  const atTarget = (pool: Record<string, any>) =>
    pool.nodes ? { ...pool, nodes: pool.nodes.map((n: Record<string, unknown>) => ({ ...n, version: "1.37.1" })) } : { ...pool, version: "1.37.1" };
  const controlPlane = { ...atTarget(raw.controlPlane), osPatchRevision: "2026-12" };
  const { plan, commands } = withPatch({ controlPlane, pools: [atTarget(general), atTarget(batch)] });

  it("plans no hop, and patches the control plane one node at a time, then each pool in batches of maxUnavailable", () => {
    expect(plan.hops).toEqual([]);
    expect(plan.steps.map((s) => [s.id, s.batch?.index, s.stage])).toEqual([
      ["os-2026-12/cp-1/os-patch", 1, 1], ["os-2026-12/cp-2/os-patch", 2, 2], ["os-2026-12/cp-3/os-patch", 3, 3],
      ["os-2026-11/general-1/os-patch", 1, 4], ["os-2026-11/general-2/os-patch", 1, 4],
      ["os-2026-11/general-3/os-patch", 2, 5], ["os-2026-11/general-4/os-patch", 2, 5],
    ]);
    expect(plan.steps[0]!.actions.map((a) => a.kind)).toEqual(["drain", "os-patch", "wait-ready", "uncordon"]);
    expect(plan.steps.flatMap((s) => s.stateAfter.changedFrom(plan.initialState))).toEqual([]);
  });

  it("names each command after the revision, so a new revision is a new set of commands", () => {
    expect(commands.filter((c) => c.node === "general-1").map((c) => [c.name, c.runsOn, c.script, c.args])).toEqual([
      ["os-2026-11-drain", "cp-1", "drain.sh", ["general-1", "any", "600", "false", "false", "false"]],
      ["os-2026-11-os-patch", "general-1", "os-patch.sh", ["2026-11"]],
      ["os-2026-11-wait-ready", "cp-1", "wait-ready.sh", ["general-1", "1.37.1", "600"]],
      ["os-2026-11-uncordon", "cp-1", "uncordon.sh", ["general-1"]],
    ]);
  });

  it("has nothing to do when no revision is set", () => {
    expect(withPatch({ controlPlane: atTarget(raw.controlPlane), pools: [atTarget(raw.pools[0]), atTarget(raw.pools[1])] }).plan.steps).toEqual([]);
  });
});

it("reads the pre-reboot boot id from os-patch.sh's output, and nothing else", () => {
  expect(scheduledRebootBootId("patched\nreboot-scheduled 0f8fad5b-d9cb-469f-a165-70867728950e\n")).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
  expect(scheduledRebootBootId("patched, no reboot needed\n")).toBe("");
  expect(scheduledRebootBootId("reboot-scheduled $(rm -rf /)\n")).toBe("");
});

it("refuses a revision that is not a plain label", () => {
  expect(() => parseStackConfig({ ...raw, pools: [{ ...general, osPatchRevision: "2026 11; reboot" }] }, "dev")).toThrow(/pools\[0\]\.osPatchRevision: is not a revision label/);
});
