/**
 * How long a wave takes (planning/duration.ts): per-action defaults, the config's bounds, a
 * batch counted once, stages added up, a blue-green replacement by its own estimate.
 */
import fc from "fast-check";
import { executionOptions, parseStackConfig, planFromConfig } from "../config/stack-config";
import { ClusterSpec } from "../planning/cluster";
import {
  ACTION_SECONDS, COMMAND_OVERHEAD_SECONDS, DRAIN_EXPECTED_SECONDS, DRAIN_OVERHEAD_SECONDS, DurationBounds, estimateStep, estimateWave, EXPORT_RESOURCES,
  formatDuration, REBOOT_SECONDS, UPLOAD_SNAPSHOT, volumeSnapshotSeconds, WAIT_READY_EXPECTED_SECONDS, WORKER_KUBEADM_UPGRADE_NODE,
} from "../planning/duration";
import { planUpgrade } from "../planning/plan";
import type { UpgradePlan } from "../planning/plan-types";
import { ReleaseCatalogue } from "../planning/releases";
import { planWaves, Wave } from "../planning/waves";
import { cp, v, worker } from "./helpers/cluster-fixtures";
import { CATALOGUE, upgradeCase } from "./helpers/plan-arbitraries";
import { stackConfig } from "./helpers/pulumi-mocks";

const catalogue = ReleaseCatalogue.embedded();
const NOW = new Date("2026-11-28");
const O = COMMAND_OVERHEAD_SECONDS;

/** 3 control-plane nodes at 1.35.9 and a rolling pool of `workers` nodes, `maxUnavailable` at once. */
function cluster(workers: number, maxUnavailable: number): ClusterSpec {
  return {
    name: "d",
    pools: [{ name: "general", strategy: "rolling", maxUnavailable }],
    nodes: [cp("cp-1", "1.35.9"), cp("cp-2", "1.35.9"), cp("cp-3", "1.35.9"), ...Array.from({ length: workers }, (_, i) => worker(`general-${i + 1}`, "general", "1.35.9"))],
  };
}

const bounds: DurationBounds = { drainTimeoutSeconds: () => 600, readyTimeoutSeconds: 600 };

function wavesOf(plan: UpgradePlan, maxNodes = 250): Wave[] {
  return planWaves(plan, { maxNodes });
}

/** Expected seconds of one rolling worker's minor upgrade (repository, kubeadm, kubeadm upgrade node, drain, kubelet, wait, uncordon). */
const WORKER_EXPECTED =
  ACTION_SECONDS["switch-repository"].expected + ACTION_SECONDS["upgrade-kubeadm"].expected + WORKER_KUBEADM_UPGRADE_NODE.expected +
  DRAIN_EXPECTED_SECONDS + ACTION_SECONDS["upgrade-kubelet"].expected + WAIT_READY_EXPECTED_SECONDS + ACTION_SECONDS.uncordon.expected + 7 * O;

describe("a control-plane wave", () => {
  const plan = planUpgrade(cluster(4, 1), v("1.36.4"), { catalogue, now: NOW });
  const [controlPlane] = wavesOf(plan);

  it("adds up its stages: the snapshot, each kubeadm step, each kubelet, one after another", () => {
    const e = estimateWave(plan, controlPlane!, bounds);
    expect(e.stages.map((s) => s.steps.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const snapshot = ACTION_SECONDS["etcd-snapshot"].expected + O;
    const repoAndKubeadm = ACTION_SECONDS["switch-repository"].expected + ACTION_SECONDS["upgrade-kubeadm"].expected + 2 * O;
    const apply = repoAndKubeadm + ACTION_SECONDS["kubeadm-upgrade-apply"].expected + O;
    const node = repoAndKubeadm + ACTION_SECONDS["kubeadm-upgrade-node"].expected + O;
    const kubelet = DRAIN_EXPECTED_SECONDS + ACTION_SECONDS["upgrade-kubelet"].expected + WAIT_READY_EXPECTED_SECONDS + ACTION_SECONDS.uncordon.expected + 4 * O;
    expect(e.stages.map((s) => s.expectedSeconds)).toEqual([snapshot, apply, node, node, kubelet, kubelet, kubelet]);
    expect(e.expectedSeconds).toBe(snapshot + apply + 2 * node + 3 * kubelet);
    expect(e.expectedSeconds).toBe(1971); // 33 min: the defaults table in planning/duration.ts
    expect(e.boundSeconds).toBe(e.stages.reduce((sum, s) => sum + s.boundSeconds, 0));
  });

  it("bounds each drain by the pool's drain timeout and each wait by readyTimeoutSeconds", () => {
    const base = estimateWave(plan, controlPlane!, bounds);
    const longer = estimateWave(plan, controlPlane!, { drainTimeoutSeconds: (p) => (p === "control-plane" ? 1600 : 600), readyTimeoutSeconds: 900 });
    // 3 kubelet steps, each with one drain (+1000 s) and one wait (+300 s); the expected time is the same.
    expect(longer.boundSeconds - base.boundSeconds).toBe(3 * (1000 + 300));
    expect(longer.expectedSeconds).toBe(base.expectedSeconds);
    const kubeletStep = plan.steps.find((s) => s.id === "v1.36/cp-1/kubelet-upgrade")!;
    expect(estimateStep(kubeletStep, bounds).boundSeconds).toBe(600 + DRAIN_OVERHEAD_SECONDS + ACTION_SECONDS["upgrade-kubelet"].bound + 600 + ACTION_SECONDS.uncordon.bound + 4 * O);
  });

  it("counts the snapshot's upload and resource export when the backup config asks for them", () => {
    const more = estimateWave(plan, controlPlane!, { ...bounds, upload: true, exportResources: true });
    const base = estimateWave(plan, controlPlane!, bounds);
    expect(more.expectedSeconds - base.expectedSeconds).toBe(UPLOAD_SNAPSHOT.expected + EXPORT_RESOURCES.expected + 2 * O);
    expect(more.boundSeconds - base.boundSeconds).toBe(UPLOAD_SNAPSHOT.bound + EXPORT_RESOURCES.bound + 2 * O);
  });

  it("counts the volume snapshots with backup.volumes: up to readyTimeoutSeconds and the script's calls", () => {
    const volumes = estimateWave(plan, controlPlane!, { ...bounds, volumeReadyTimeoutSeconds: 900 });
    const base = estimateWave(plan, controlPlane!, bounds);
    expect(volumes.expectedSeconds - base.expectedSeconds).toBe(120 + O);
    expect(volumes.boundSeconds - base.boundSeconds).toBe(900 + 300 + O);
    expect(volumeSnapshotSeconds(60)).toEqual({ expected: 60, bound: 360 });
  });

});

describe("a workers wave", () => {
  it("counts a batch once: the steps of a stage run together", () => {
    const plan = planUpgrade(cluster(9, 3), v("1.36.4"), { catalogue, now: NOW });
    const workers = wavesOf(plan).find((w) => w.kind === "workers")!;
    const e = estimateWave(plan, workers, bounds);
    expect(e.stages.map((s) => s.steps.length)).toEqual([3, 3, 3]);
    expect(e.stages.map((s) => s.expectedSeconds)).toEqual([WORKER_EXPECTED, WORKER_EXPECTED, WORKER_EXPECTED]);
    expect(e.expectedSeconds).toBe(3 * WORKER_EXPECTED);
    // One node at a time: three times as long for the same nodes.
    const oneByOne = planUpgrade(cluster(9, 1), v("1.36.4"), { catalogue, now: NOW });
    expect(estimateWave(oneByOne, wavesOf(oneByOne).find((w) => w.kind === "workers")!, bounds).expectedSeconds).toBe(9 * WORKER_EXPECTED);
  });

  it("runs ceil(steps / parallel) rounds of a batch when the engine's parallelism is given", () => {
    const plan = planUpgrade(cluster(9, 9), v("1.36.4"), { catalogue, now: NOW });
    const workers = wavesOf(plan).find((w) => w.kind === "workers")!;
    expect(estimateWave(plan, workers, bounds).expectedSeconds).toBe(WORKER_EXPECTED);
    expect(estimateWave(plan, workers, { ...bounds, parallel: 4 }).expectedSeconds).toBe(3 * WORKER_EXPECTED);
  });

  it("are split by maxNodesPerUpdate, and the waves' stages add up to the plan's", () => {
    const plan = planUpgrade(cluster(40, 3), v("1.37.1"), { catalogue, now: NOW });
    const waves = wavesOf(plan, 10);
    const perWave = waves.map((w) => estimateWave(plan, w, bounds));
    const stages = new Set(plan.steps.map((s) => s.stage));
    expect(perWave.reduce((n, e) => n + e.stages.length, 0)).toBe(stages.size);
    expect(perWave[1]!.stages.map((s) => s.steps.length)).toEqual([3, 3, 3]);
  });

  it("refuses a wave of another plan", () => {
    const plan = planUpgrade(cluster(4, 1), v("1.36.4"), { catalogue, now: NOW });
    const other = { ...wavesOf(plan)[0]!, steps: ["v1.99/cp-1/control-plane-upgrade"] };
    expect(() => estimateWave(plan, other, bounds)).toThrow("wave 1 has step v1.99/cp-1/control-plane-upgrade, which is not in the plan");
  });
});

describe("OS patching", () => {
  it("counts the patch and a reboot in the wait after it", () => {
    const spec: ClusterSpec = { ...cluster(2, 1), osPatch: { general: "2026-11" } };
    const plan = planUpgrade(spec, v("1.35.9"), { catalogue, now: NOW });
    const [wave] = wavesOf(plan);
    expect(wave!.kind).toBe("os-patch");
    const e = estimateWave(plan, wave!, bounds);
    const one = DRAIN_EXPECTED_SECONDS + ACTION_SECONDS["os-patch"].expected + WAIT_READY_EXPECTED_SECONDS + REBOOT_SECONDS + ACTION_SECONDS.uncordon.expected + 4 * O;
    expect(e.expectedSeconds).toBe(2 * one);
  });

  it("caps an expected time at a bound shorter than it: a reboot's wait at readyTimeoutSeconds", () => {
    const spec: ClusterSpec = { ...cluster(1, 1), osPatch: { general: "2026-11" } };
    const plan = planUpgrade(spec, v("1.35.9"), { catalogue, now: NOW });
    const step = plan.steps.find((s) => s.kind === "os-patch")!;
    const short = estimateStep(step, { drainTimeoutSeconds: () => 30, readyTimeoutSeconds: 30 });
    const normal = estimateStep(step, bounds);
    expect(normal.expectedSeconds - short.expectedSeconds).toBe(WAIT_READY_EXPECTED_SECONDS + REBOOT_SECONDS - 30);
    expect(short.expectedSeconds).toBeLessThanOrEqual(short.boundSeconds);
  });
});

describe("a blue-green replacement", () => {
  it("is its replacement's own estimate (join, drains, soaks)", () => {
    const config = parseStackConfig(stackConfig("dev"), "dev");
    const plan = planFromConfig(config, new Date("2026-11-21"));
    const options = executionOptions(config);
    const b: DurationBounds = { drainTimeoutSeconds: (p) => options.drain(p).timeoutSeconds, readyTimeoutSeconds: options.readyTimeoutSeconds };
    const wave = wavesOf(plan).find((w) => w.kind === "replacement")!;
    const step = plan.steps.find((s) => s.id === wave.steps[0])!;
    const e = estimateWave(plan, wave, b);
    expect(e).toMatchObject({ expectedSeconds: step.replacement!.estimate.typicalSeconds, boundSeconds: step.replacement!.estimate.boundSeconds });
  });
});

describe("properties", () => {
  const drains = fc.func(fc.integer({ min: 30, max: 86_400 }));
  it("a wave's bound is at least its expected time, and both are its stages' sums", () => {
    fc.assert(
      fc.property(upgradeCase, drains, fc.integer({ min: 30, max: 86_400 }), fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }), (c, drain, ready, parallel) => {
        const plan = planUpgrade(c.cluster, c.target, { catalogue: CATALOGUE, now: NOW });
        const b: DurationBounds = { drainTimeoutSeconds: (p) => drain(p), readyTimeoutSeconds: ready, ...(parallel ? { parallel } : {}) };
        for (const w of wavesOf(plan, 1000)) {
          const e = estimateWave(plan, w, b);
          expect(e.boundSeconds).toBeGreaterThanOrEqual(e.expectedSeconds);
          expect(e.expectedSeconds).toBe(e.stages.reduce((s, x) => s + x.expectedSeconds, 0));
          expect(e.boundSeconds).toBe(e.stages.reduce((s, x) => s + x.boundSeconds, 0));
          expect(e.stages.flatMap((s) => s.steps)).toEqual(w.steps);
          for (const s of e.stages) expect(s.boundSeconds).toBeGreaterThanOrEqual(s.expectedSeconds);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("a batch counts once: a stage lasts as long as its longest step", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const plan = planUpgrade(c.cluster, c.target, { catalogue: CATALOGUE, now: NOW });
        const byId = new Map(plan.steps.map((s) => [s.id, s]));
        for (const w of wavesOf(plan, 1000)) {
          for (const s of estimateWave(plan, w, bounds).stages) {
            const each = s.steps.map((id) => estimateStep(byId.get(id)!, bounds));
            expect(s.expectedSeconds).toBe(Math.max(...each.map((x) => x.expectedSeconds)));
            expect(s.boundSeconds).toBe(Math.max(...each.map((x) => x.boundSeconds)));
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 s"], [45, "45 s"], [59.2, "1 min"], [60, "1 min"], [61, "2 min"], [3600, "1 h"], [5100, "1 h 25 min"], [1971, "33 min"], [93_900, "26 h 5 min"],
  ])("%p seconds is %p", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it("refuses a negative or infinite duration", () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(Infinity)).toThrow(RangeError);
  });
});
