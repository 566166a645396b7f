/**
 * `pulumi up` of the real program (index.ts) in the lab: the program is loaded afresh with its
 * own @pulumi/pulumi (each `pulumi up` is a new process) under the lab's engine mocks, which
 * keep the state of earlier runs in the lab directory.
 */
import type * as pulumi from "@pulumi/pulumi";
import { nameOf } from "../helpers/program-runs";
import { setStackConfig, watchRequests } from "../helpers/pulumi-mocks";
import { labMocks, LabMocks, LabMocksOptions } from "./engine";
import { runRemote } from "./ssh-lab";

/**
 * Runs the program once with `raw` as the stack config and `privateKey` as sshPrivateKey. After
 * a failed step the program gets no answer to its pending registrations (engine.ts), as under
 * `pulumi up`; the run ends when it goes quiet.
 * @returns the run's record: resources, commands run, skipped, the engine's failure diagnostics
 * (`failed`) and the update's `result()`.
 */
export async function pulumiUp(
  labDir: string,
  raw: Record<string, unknown>,
  privateKey: string,
  hooks: Pick<LabMocksOptions, "onCreate" | "onDelete" | "continueOnError" | "parallel"> & {
    /** A new release of the node scripts: the text this run sends for each script. */
    readonly scriptText?: (name: string, text: string) => string;
    /** Stack config of other namespaces, full keys (e.g. { "kubernetes:kubeconfig": path }). */
    readonly otherConfig?: Record<string, string>;
  } = {},
): Promise<LabMocks> {
  const { scriptText, otherConfig, ...engine } = hooks;
  const run = labMocks({ stateFile: `${labDir}/pulumi-state.json`, runRemote, ...engine });
  // Each fresh @pulumi/pulumi adds a process exit listener; a test file loads several.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 32));
  await jest.isolateModulesAsync(async () => {
    const sdk: typeof pulumi = await import("@pulumi/pulumi");
    // The engine learns each resource's parent, dependencies and ignoreChanges from its registration request.
    const { MockMonitor } = await import("@pulumi/pulumi/runtime/mocks");
    watchRequests(MockMonitor, (req) =>
      run.noteRegistration(req.getName(), {
        parent: req.getParent() === "" ? "" : nameOf(req.getParent()),
        dependsOn: req.getDependenciesList().map(nameOf),
        ignoreChanges: req.getIgnorechangesList(),
      }),
    );
    if (scriptText) {
      const actual = jest.requireActual<typeof import("../../components/node-scripts")>("../../components/node-scripts");
      jest.doMock("../../components/node-scripts", () => ({ ...actual, scriptText: (name: string) => scriptText(name, actual.scriptText(name as never)) }));
    }
    await sdk.runtime.setMocks(run.mocks, "cluster-maintenance", "lab", false);
    setStackConfig(raw, privateKey, sdk, otherConfig);
    jest.spyOn(sdk.log, "info").mockImplementation(() => Promise.resolve());
    await (await import("../../index")).default();
  });
  // The engine registers resources a few event-loop turns after the program ran: wait for
  // the first before waiting for the run to go quiet.
  for (const deadline = Date.now() + 30_000; run.resources.length === 0 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await run.settled();
  await run.finish();
  return run;
}
