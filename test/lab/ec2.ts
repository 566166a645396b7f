/**
 * EC2 in the lab: the engine's create and delete hooks for launch templates and instances.
 * Creating an instance boots a simulated machine from its user data ({@link Lab.bootNode}): the
 * instance's own `userDataBase64` when it has one (EC2: it overrides the template's), else its
 * launch template's, in the background, as EC2 returns before the machine has booted;
 * deleting it terminates the machine (its directory is removed; a Node object left behind
 * would go NotReady, as on AWS).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LabMocksOptions } from "./engine";
import type { BootOptions, Lab, RunResult } from "./node-kit";

export interface Ec2Lab {
  /** Pass to pulumiUp. */
  readonly hooks: Pick<LabMocksOptions, "onCreate" | "onDelete">;
  /** Every boot started, by node name (the latest boot of a name). */
  readonly boots: Map<string, Promise<RunResult>>;
  /** Instances launched and terminated, in order, with the time (epoch ms). */
  readonly launched: { readonly node: string; readonly ms: number }[];
  readonly terminated: { readonly node: string; readonly ms: number }[];
  /** Waits for every boot started so far. */
  booted(): Promise<void>;
}

/** @param bootOptions per node: e.g. `{ notReady: "..." }` for a machine that never becomes Ready. */
export function ec2Lab(lab: Lab, bootOptions: (node: string) => BootOptions = () => ({})): Ec2Lab {
  const templates = new Map<string, string | undefined>();
  const nodeOfInstance = new Map<string, string>();
  const boots = new Map<string, Promise<RunResult>>();
  const launched: Ec2Lab["launched"] = [];
  const terminated: Ec2Lab["terminated"] = [];
  const hooks: Ec2Lab["hooks"] = {
    onCreate: (resource, id) => {
      const decode = (b64: unknown) => (b64 === undefined ? undefined : Buffer.from(String(b64), "base64").toString("utf8"));
      if (resource.type === "aws:ec2/launchTemplate:LaunchTemplate") {
        templates.set(id, decode(resource.inputs.userData));
      } else if (resource.type === "aws:ec2/instance:Instance") {
        const node = String(resource.inputs.tags.Name);
        const template = String(resource.inputs.launchTemplate.id);
        if (!templates.has(template)) throw new Error(`lab: instance ${resource.name}: unknown launch template ${template}`);
        const userData = decode(resource.inputs.userDataBase64) ?? templates.get(template);
        if (userData === undefined) throw new Error(`lab: instance ${resource.name}: no user data (neither the instance's nor its launch template's)`);
        nodeOfInstance.set(resource.name, node);
        launched.push({ node, ms: Date.now() });
        const boot = lab.bootNode(node, userData, bootOptions(node));
        boot.catch(() => undefined); // a failed boot shows as a node that never joins
        boots.set(node, boot);
      }
    },
    onDelete: (name, type) => {
      if (type !== "aws:ec2/instance:Instance") return;
      const node = nodeOfInstance.get(name);
      if (!node) throw new Error(`lab: terminating ${name}, an instance the lab did not launch`);
      terminated.push({ node, ms: Date.now() });
      fs.rmSync(path.join(lab.dir, "nodes", node), { recursive: true, force: true });
    },
  };
  return {
    hooks, boots, launched, terminated,
    booted: async () => {
      await Promise.allSettled([...boots.values()]);
    },
  };
}
