/**
 * Pulumi mocks for program tests: records every resource registration and refuses any
 * provider function call. Call {@link installMocks} before importing the program.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { readStackFiles } from "../../config/stack-file";
import { PROJECT } from "../../config/stack-config";

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
  /** The parent's URN ("" for none). */
  readonly parent: string;
  /** URNs of the resources it `dependsOn`. */
  readonly dependsOn: readonly string[];
  /** Its `ignoreChanges` option. */
  readonly ignoreChanges: readonly string[];
}

/** What the mocks learn from a registration request beyond MockResourceArgs. */
export interface RegisterRequest {
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
}

/**
 * Makes `monitor` (a MockMonitor class, of this or of a freshly loaded @pulumi/pulumi) hand
 * each registration request to `seen` first: the mock's newResource is called synchronously
 * inside registerResource, so the last request seen is the one being registered.
 */
export function watchRequests(monitor: typeof MockMonitor, seen: (req: RegisterRequest) => void): void {
  const register = monitor.prototype.registerResource;
  monitor.prototype.registerResource = function (this: MockMonitor, req: RegisterRequest, callback: (err: unknown, response: unknown) => void) {
    seen(req);
    return register.call(this, req, callback);
  };
}

/**
 * Mocks that record every registration into `registered` (with the parent and dependencies of
 * `current()`, the request being registered) and refuse provider function calls.
 */
export function recordingMocks(registered: Registered[], current: () => RegisterRequest | undefined): pulumi.runtime.Mocks {
  return {
    newResource: (args) => {
      const req = current();
      registered.push({
        type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false,
        parent: req?.getParent() ?? "", dependsOn: req?.getDependenciesList() ?? [], ignoreChanges: req?.getIgnorechangesList() ?? [],
      });
      return { id: `${args.name}-id`, state: { ...args.inputs, ...providerOutputs(args) } };
    },
    call: (args) => {
      throw new Error(`unexpected provider call ${args.token}`);
    },
  };
}

let current: RegisterRequest | undefined;
watchRequests(MockMonitor, (req) => (current = req));

/** A join line as `kubeadm token create --print-join-command` prints it (a fake token and hash). */
export const FAKE_JOIN_LINE = `kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${"0f".repeat(32)}`;

/**
 * Outputs a provider would add to a resource's state (the mocks otherwise return the inputs
 * as the state): a join command's stdout, a launch template's latest version, IAM names.
 */
export function providerOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  switch (args.type) {
    case "command:remote:Command":
      return String(args.inputs.create ?? "").includes("join-command.sh") ? { stdout: FAKE_JOIN_LINE, stderr: "" } : {};
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { latestVersion: 1 };
    case "aws:iam/role:Role":
    case "aws:iam/instanceProfile:InstanceProfile":
      return { name: `${args.name}-0a1b2c3`, arn: `arn:aws:iam::123456789012:role/${args.name}-0a1b2c3` };
    default:
      return {};
  }
}

/** Installs mocks for `stack` (preview mode by default) and returns the live list of registrations. */
export function installMocks(stack: string, preview = true): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(recordingMocks(registered, () => current), PROJECT, stack, preview);
  return registered;
}

/** A stand-in private key for program tests (the mocks never dial). */
export const TEST_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-not-real\n-----END OPENSSH PRIVATE KEY-----";

/**
 * Loads a stack file's plain config into Pulumi's config, as the Pulumi CLI hands it over,
 * plus `sshPrivateKey` as a secret and `other` (full keys of other namespaces, e.g. `kubernetes:kubeconfig`) as plain values.
 * @param sdk the @pulumi/pulumi instance the program will load (one from jest.isolateModules).
 */
export function setStackConfig(raw: Record<string, unknown>, privateKey = TEST_PRIVATE_KEY, sdk: typeof pulumi = pulumi, other: Record<string, string> = {}): void {
  const flat: Record<string, string> = { ...other, [`${PROJECT}:sshPrivateKey`]: privateKey };
  for (const [k, v] of Object.entries(raw)) flat[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  sdk.runtime.setAllConfig(flat, [`${PROJECT}:sshPrivateKey`]);
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
/** What was registered, copied (a test's beforeEach empties the live list), with lookups by type; `one` expects exactly one of the type. */
export interface RegisteredView {
  readonly all: Registered[];
  byType(t: string): Registered[];
  one(t: string): Registered;
}

/** A {@link RegisteredView} of `registered` as it is now. */
export function viewOf(registered: readonly Registered[]): RegisteredView {
  const all = [...registered];
  const byType = (t: string) => all.filter((r) => r.type === t);
  const one = (t: string) => {
    const found = byType(t);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  return { all, byType, one };
}

export async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Pulumi's wire marker of a secret value (`rpc.specialSigKey` / `specialSecretSig`). */
const SECRET = { sig: "4dabf18193072939515e22adb298388d", secret: "1b47061264138c4ac30d75fd1eb44270" };

/** The value inside a secret input as the mocks receive it. @throws when the input is not a secret. */
export function secretValue(input: unknown): Record<string, unknown> {
  const wrapped = input as Record<string, unknown>;
  if (wrapped?.[SECRET.sig] !== SECRET.secret) throw new Error(`expected a secret, got ${JSON.stringify(input)}`);
  return wrapped.value as Record<string, unknown>;
}
