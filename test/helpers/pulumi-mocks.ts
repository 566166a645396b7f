/**
 * Pulumi mocks for program tests: records every resource registration and refuses any
 * provider function call. Call {@link installMocks} before importing the program.
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackFiles } from "../../config/stack-file";
import { PROJECT } from "../../config/stack-config";

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
}

/** Installs mocks for `stack` (preview mode by default) and returns the live list of registrations. */
export function installMocks(stack: string, preview = true): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => {
        throw new Error(`unexpected provider call ${args.token}`);
      },
    },
    PROJECT,
    stack,
    preview,
  );
  return registered;
}

/** Loads a stack file's plain config into Pulumi's config, as the CLI would hand it over. */
export function setStackConfig(raw: Record<string, unknown>): void {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) flat[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(flat);
}

/** The project's config for `stack`, read from its Pulumi.<stack>.yaml. */
export function stackConfig(stack: string): Record<string, unknown> {
  return { ...readStackFiles(`${__dirname}/../..`, stack).raw };
}

/** Resolves an Output in a test (mocks resolve them even in preview). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Lets the mocked engine finish pending registrations (they complete in a few event-loop turns). */
export async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}
