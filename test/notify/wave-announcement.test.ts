/**
 * The line `npm run up` takes the wave from is the one the program logs: the real program
 * (index.ts) under Pulumi mocks, reading the shared v1.31 cluster (test/discovery/static-api.ts),
 * logs "this update: ..." (components/cluster-upgrade.ts), and cli/up-events.ts `announcedWave`
 * reads from it exactly the `wave` stack output and the number of `wavesLeft`.
 */
import { announcedWave, WAVE_LOG_PREFIX } from "../../cli/up-events";
import { programRun } from "../helpers/program-runs";
import { kubeconfigFileFor, SHARED_HOP_BLOCKERS, startStaticApi, StaticApi } from "../discovery/static-api";

let api: StaticApi;
beforeAll(async () => {
  api = await startStaticApi();
});
afterAll(() => api.close());

it("the program's wave announcement gives the wave output and the waves left", async () => {
  const { logged, outputs: out } = await programRun(
    { targetVersion: "1.32", controlPlane: {}, pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: 1 }], ssh: { insecureIgnoreHostKey: true }, maxNodesPerUpdate: 2, acknowledge: SHARED_HOP_BLOCKERS },
    "dev", { "kubernetes:kubeconfig": kubeconfigFileFor(api.url) },
  );
  const outputs = out as { wave: string; wavesLeft: readonly string[] };
  const announcements = logged.filter((m) => m.startsWith(WAVE_LOG_PREFIX));
  expect(announcements).toHaveLength(1);
  expect(outputs.wave).toMatch(/^wave 1 \(next pulumi up\): /);
  expect(announcedWave(announcements[0]!)).toEqual({ label: outputs.wave, wavesAfter: outputs.wavesLeft.length, nothingLeft: false });
  expect(outputs.wavesLeft.length).toBeGreaterThan(0);
});
