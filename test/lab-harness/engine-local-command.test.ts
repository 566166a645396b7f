/**
 * The lab engine and a `command:local:Command` with no create (a stage barrier of
 * components/cluster-upgrade.ts): created, kept and deleted without running anything and without
 * the create and delete hooks (pulumi-command local/commandController.go); a local command that
 * would run something is refused.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { labMocks, LOCAL_COMMAND, readLabState } from "../lab/engine";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-engine-local-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hooked: string[] = [];
const fresh = (file: string) => labMocks({
  stateFile: file,
  runRemote: () => Promise.reject(new Error("no remote command here")),
  onCreate: (r) => void hooked.push(`create ${r.name}`),
  onDelete: (name) => void hooked.push(`delete ${name}`),
});
const barrier = (inputs: Record<string, unknown> = {}) => ({ type: LOCAL_COMMAND, name: "lab-v1.37.1-web-batch-2", inputs, custom: true });

it("creates a local command with no create as a no-op, keeps it, and deletes it at the end without a hook", async () => {
  const file = path.join(dir, "state.json");
  const first = fresh(file);
  first.noteRegistration("lab-v1.37.1-web-batch-2", { dependsOn: [] });
  await first.mocks.newResource(barrier());
  expect(await first.finish()).toEqual([]);
  expect(readLabState(file).resources.map((r) => [r.name, r.type])).toEqual([["lab-v1.37.1-web-batch-2", LOCAL_COMMAND]]);
  const again = fresh(file);
  await again.mocks.newResource(barrier());
  expect(await again.finish()).toEqual([]);
  expect([again.ran, again.replaced, again.failed]).toEqual([[], [], []]);
  const gone = fresh(file);
  expect(await gone.finish()).toEqual(["lab-v1.37.1-web-batch-2"]);
  expect(readLabState(file).resources).toEqual([]);
  expect(hooked).toEqual([]);
});

it("refuses a local command that runs something", async () => {
  const run = fresh(path.join(dir, "refused.json"));
  await expect(run.mocks.newResource(barrier({ create: "echo hi" }))).rejects.toThrow("a local command that runs something is not emulated");
});
