/**
 * The Pulumi program: stack config -> ClusterUpgrade (one NodeUpgrade per node, with the
 * remote commands that carry the plan out) -> stack outputs.
 * `pulumi preview` logs the plan; `npm run plan` prints the same plan offline.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrade } from "./components/cluster-upgrade";
import { sshConnection } from "./components/ssh-connection";
import { readPulumiConfig } from "./config/pulumi-source";
import { executionOptions, hostsOf, parseStackConfig, PROJECT, toClusterSpec } from "./config/stack-config";

const config = parseStackConfig(readPulumiConfig(), pulumi.getStack());
const privateKey = new pulumi.Config(PROJECT).requireSecret("sshPrivateKey");
const hosts = hostsOf(config);
const upgrade = new ClusterUpgrade(config.clusterName, {
  cluster: toClusterSpec(config),
  target: config.target,
  catalogue: config.catalogue,
  execution: executionOptions(config),
  connection: (node) => sshConnection(config.ssh, hosts.get(node)!, privateKey),
});

/** The upgrade plan as text. */
export const plan = upgrade.planText;
/** The version of each hop, in order. */
export const hops = upgrade.hops;
export const targetVersion = config.target.toString();
export const warnings = upgrade.plan.warnings.map((w) => w.message);
