/**
 * EC2 in the lab: the engine's create and delete hooks for launch templates and instances.
 * Creating an instance boots a simulated machine from its launch template's user data
 * ({@link Lab.bootNode}) in the background, as EC2 returns before the machine has booted;
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
  const templates = new Map<string, string>();
  const nodeOfInstance = new Map<string, string>();
  const boots = new Map<string, Promise<RunResult>>();
  const launched: Ec2Lab["launched"] = [];
  const terminated: Ec2Lab["terminated"] = [];
  const hooks: Ec2Lab["hooks"] = {
    onCreate: (resource, id) => {
      if (resource.type === "aws:ec2/launchTemplate:LaunchTemplate") {
        templates.set(id, Buffer.from(String(resource.inputs.userData), "base64").toString("utf8"));
      } else if (resource.type === "aws:ec2/instance:Instance") {
        const node = String(resource.inputs.tags.Name);
        const userData = templates.get(String(resource.inputs.launchTemplate.id));
        if (userData === undefined) throw new Error(`lab: instance ${resource.name}: unknown launch template ${resource.inputs.launchTemplate.id}`);
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
