/**
 * Runs the real program (index.ts) under Pulumi mocks once per call, each time with a fresh
 * @pulumi/pulumi (as each `pulumi up` is a new process), and returns what it registered:
 * for comparing the programs of two configs (what a config change adds and removes).
 */
import type * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../config/stack-config";
import { providerOutputs, Registered, setStackConfig } from "./pulumi-mocks";

interface RegisterRequest {
  getParent(): string;
  getDependenciesList(): string[];
}

/** The resource name at the end of a URN. */
export function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Every registration of one run of the program with `raw` as the stack config (not a preview). */
export async function programRegistrations(raw: Record<string, unknown>, stack = "dev"): Promise<Registered[]> {
  const registered: Registered[] = [];
  // Each fresh @pulumi/pulumi adds a process exit listener; a test file loads several.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 32));
  await jest.isolateModulesAsync(async () => {
    const sdk: typeof pulumi = await import("@pulumi/pulumi");
    const { MockMonitor } = await import("@pulumi/pulumi/runtime/mocks");
    let current: RegisterRequest | undefined;
    const register = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (this: unknown, req: RegisterRequest, callback: (err: unknown, response: unknown) => void) {
      current = req;
      return register.call(this, req, callback);
    };
    await sdk.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({
            type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false,
            parent: current?.getParent() ?? "", dependsOn: current?.getDependenciesList() ?? [],
          });
          return { id: `${args.name}-id`, state: { ...args.inputs, ...providerOutputs(args) } };
        },
        call: (args) => {
          throw new Error(`unexpected provider call ${args.token}`);
        },
      },
      PROJECT,
      stack,
      false,
    );
    setStackConfig(raw, undefined, sdk);
    jest.spyOn(sdk.log, "info").mockImplementation(() => Promise.resolve());
    await import("../../index");
  });
  // Registrations arrive a few event-loop turns after the program ran: wait until they stop.
  for (let seen = -1; seen !== registered.length; ) {
    seen = registered.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return registered;
}
