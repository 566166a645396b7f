/**
 * The line `npm run up` takes the wave from is the one the program logs: the real program
 * (index.ts) under Pulumi mocks, reading the shared v1.31 cluster (test/discovery/static-api.ts),
 * logs "this update: ..." (components/cluster-upgrade.ts), and cli/up-events.ts `announcedWave`
 * reads from it exactly the `wave` stack output and the number of `wavesLeft`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { announcedWave, WAVE_LOG_PREFIX } from "../../cli/up-events";
import { PROJECT } from "../../config/stack-config";
import { recordingMocks, Registered, RegisterRequest, setStackConfig, watchRequests } from "../helpers/pulumi-mocks";
import { kubeconfigFileFor, startStaticApi, StaticApi } from "../discovery/static-api";

let api: StaticApi;
beforeAll(async () => {
  api = await startStaticApi();
});
afterAll(() => api.close());

const BLOCKERS = [
  "pod-with-local-data/shop/cache-5f4dfd484-nbr6n",
  "pod-without-controller/shop/debug-shell",
  "removed-api-requested/flowschemas.v1beta3.flowcontrol.apiserver.k8s.io",
  "removed-api-requested/prioritylevelconfigurations.v1beta3.flowcontrol.apiserver.k8s.io",
];

it("the program's wave announcement gives the wave output and the waves left", async () => {
  const logged: string[] = [];
  let outputs: { wave: string; wavesLeft: readonly string[] } | undefined;
  process.setMaxListeners(Math.max(process.getMaxListeners(), 32));
  await jest.isolateModulesAsync(async () => {
    const sdk: typeof pulumi = await import("@pulumi/pulumi");
    const { MockMonitor } = await import("@pulumi/pulumi/runtime/mocks");
    let current: RegisterRequest | undefined;
    watchRequests(MockMonitor, (req) => (current = req));
    const registered: Registered[] = [];
    await sdk.runtime.setMocks(recordingMocks(registered, () => current), PROJECT, "dev", false);
    setStackConfig(
      { targetVersion: "1.32", controlPlane: {}, pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: 1 }], ssh: { insecureIgnoreHostKey: true }, maxNodesPerUpdate: 2, acknowledge: BLOCKERS },
      undefined, sdk, { "kubernetes:kubeconfig": kubeconfigFileFor(api.url) },
    );
    jest.spyOn(sdk.log, "info").mockImplementation((msg: string) => (logged.push(msg), Promise.resolve()));
    outputs = await (await import("../../index")).default();
  });
  const announcements = logged.filter((m) => m.startsWith(WAVE_LOG_PREFIX));
  expect(announcements).toHaveLength(1);
  expect(outputs!.wave).toMatch(/^wave 1 \(next pulumi up\): /);
  expect(announcedWave(announcements[0]!)).toEqual({ label: outputs!.wave, wavesAfter: outputs!.wavesLeft.length, nothingLeft: false });
  expect(outputs!.wavesLeft.length).toBeGreaterThan(0);
});
