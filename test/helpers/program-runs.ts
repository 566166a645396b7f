/**
 * Runs the real program (index.ts) under Pulumi mocks once per call, each time with a fresh
 * @pulumi/pulumi (as each `pulumi up` is a new process), and returns what it registered:
 * for comparing the programs of two configs (what a config change adds and removes).
 */
import type * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../config/stack-config";
import { recordingMocks, Registered, RegisterRequest, setStackConfig, watchRequests } from "./pulumi-mocks";

/** The resource name at the end of a URN. */
export function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** What one run of the program did: its registrations, its stack outputs, and what it logged with pulumi.log.info. */
export interface ProgramRun {
  readonly registered: Registered[];
  readonly outputs: Record<string, unknown>;
  readonly logged: readonly string[];
}

/**
 * One run of the program with `raw` as the stack config and `other` as other namespaces' keys
 * (not a preview); its registrations are collected in `registered` (so a test sees them when the
 * program fails, as the run then rejects).
 */
export async function programRun(raw: Record<string, unknown>, stack = "dev", other: Record<string, string> = {}, registered: Registered[] = []): Promise<ProgramRun> {
  const logged: string[] = [];
  let outputs: Record<string, unknown> = {};
  // Each fresh @pulumi/pulumi adds a process exit listener; a test file loads several.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 32));
  await jest.isolateModulesAsync(async () => {
    const sdk: typeof pulumi = await import("@pulumi/pulumi");
    const { MockMonitor } = await import("@pulumi/pulumi/runtime/mocks");
    let current: RegisterRequest | undefined;
    watchRequests(MockMonitor, (req) => (current = req));
    await sdk.runtime.setMocks(recordingMocks(registered, () => current), PROJECT, stack, false);
    setStackConfig(raw, undefined, sdk, other);
    jest.spyOn(sdk.log, "info").mockImplementation((msg: string) => (logged.push(msg), Promise.resolve()));
    outputs = { ...(await (await import("../../index")).default()) };
  });
  // Registrations arrive a few event-loop turns after the program ran: wait until they stop.
  for (let seen = -1; seen !== registered.length; ) {
    seen = registered.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { registered, outputs, logged };
}

/** Every registration of one {@link programRun}. */
export async function programRegistrations(raw: Record<string, unknown>, stack = "dev", other: Record<string, string> = {}, registered: Registered[] = []): Promise<Registered[]> {
  return (await programRun(raw, stack, other, registered)).registered;
}
