/**
 * The Pulumi program: stack config -> ClusterUpgrade (one NodeUpgrade per node) -> outputs.
 * `pulumi preview` logs the plan; `npm run plan` prints the same plan offline.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrade } from "./components/cluster-upgrade";
import { readPulumiConfig } from "./config/pulumi-source";
import { parseStackConfig, toClusterSpec } from "./config/stack-config";

const config = parseStackConfig(readPulumiConfig(), pulumi.getStack());
const upgrade = new ClusterUpgrade(config.clusterName, {
  cluster: toClusterSpec(config),
  target: config.target,
  catalogue: config.catalogue,
});

/** The upgrade plan as text. */
export const plan = upgrade.planText;
/** The version of each hop, in order. */
export const hops = upgrade.hops;
export const targetVersion = config.target.toString();
export const warnings = upgrade.plan.warnings.map((w) => w.message);
