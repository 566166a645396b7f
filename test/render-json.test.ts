/**
 * planning/render.ts planToJson: a rolling pool's order is one stage number per step, so the
 * plan's JSON grows linearly with the steps whatever maxUnavailable is (it listed the previous
 * batch's ids on every step of the next batch: k x k ids between two batches of k).
 */
import { planCommands, ExecutionOptions } from "../planning/commands";
import { planUpgrade } from "../planning/plan";
import { ReleaseCatalogue } from "../planning/releases";
import { planToJson } from "../planning/render";
import { cp, v, worker } from "./helpers/cluster-fixtures";

const execution: ExecutionOptions = {
  kubectlNode: "cp-1",
  drain: () => ({ timeoutSeconds: 300, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false }),
  etcd: { endpoint: "https://127.0.0.1:2379", caCert: "/ca.crt", cert: "/server.crt", key: "/server.key", backupDir: "/backups", verify: "restore", keep: 5 },
  readyTimeoutSeconds: 120,
};

/** The JSON text (as `npm run plan -- --json` prints it) of a 200-node pool upgraded in batches of `maxUnavailable`. */
function jsonText(maxUnavailable: number): string {
  const workers = Array.from({ length: 200 }, (_, i) => worker(`web-${i + 1}`, "web", "1.37.0"));
  const plan = planUpgrade(
    { name: "big", pools: [{ name: "web", strategy: "rolling", maxUnavailable }], nodes: [cp("cp-1", "1.37.0"), ...workers] },
    v("1.37.1"), { catalogue: ReleaseCatalogue.embedded(), now: new Date("2026-11-21") },
  );
  return JSON.stringify(planToJson(plan, planCommands(plan, execution).commands), null, 2);
}

describe("a 200-node pool: 2 batches of 100, or 200 batches of 1", () => {
  const wide = jsonText(100);
  const narrow = jsonText(1);

  it("names each step twice (its id, its phase's list), not once more per step of the next batch", () => {
    const json = JSON.parse(wide) as { steps: { id: string; stage: number }[] };
    expect(json.steps.slice(-200).map((s) => s.stage)).toEqual([...Array(100).fill(4), ...Array(100).fill(5)]);
    for (const id of ["v1.37/web-1/worker-upgrade", "v1.37/web-100/worker-upgrade", "v1.37/web-200/worker-upgrade"]) {
      expect([id, wide.split(`"${id}"`).length - 1]).toEqual([id, 2]);
    }
  });

  it("is as large at maxUnavailable 100 as at 1, within 2% (linear in the steps)", () => {
    expect(wide.length / narrow.length).toBeGreaterThan(0.98);
    expect(wide.length / narrow.length).toBeLessThan(1.02);
  });
});
