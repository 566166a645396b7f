/**
 * The real program (index.ts) run under Pulumi mocks with the dev stack's config: the
 * components it registers and the stack outputs it exports.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, setStackConfig, settled, stackConfig, valueOf } from "./helpers/pulumi-mocks";
import { planFromConfig, parseStackConfig } from "../config/stack-config";
import { renderText } from "../planning/render";

const registered = installMocks("dev");
const raw = stackConfig("dev");
setStackConfig(raw);
const logged = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());

describe("the program on the dev stack", () => {
  let program: typeof import("../index");
  beforeAll(async () => {
    program = await import("../index");
    await settled();
  });

  it("registers one ClusterUpgrade named after the cluster and one NodeUpgrade per node", () => {
    const clusters = registered.filter((r) => r.type === "cluster-maintenance:upgrade:ClusterUpgrade");
    expect(clusters.map((c) => c.name)).toEqual(["dev"]);
    const nodes = registered.filter((r) => r.type === "cluster-maintenance:upgrade:NodeUpgrade").map((r) => r.name);
    expect(nodes).toEqual([
      "dev-cp-1", "dev-cp-2", "dev-cp-3",
      "dev-general-1", "dev-general-2", "dev-general-3", "dev-general-4",
      "dev-batch-1", "dev-batch-2", "dev-batch-3",
    ]);
    expect(registered).toHaveLength(11);
    expect(registered.every((r) => !r.custom)).toBe(true);
  });

  it("exports the same plan text that npm run plan prints", async () => {
    const expected = renderText(planFromConfig(parseStackConfig(raw, "dev")));
    const text = await valueOf(program.plan);
    expect(text).toBe(expected);
    expect(text).toContain("kubeadm upgrade apply v1.35.9 --yes");
  });

  it("logs the plan text on the ClusterUpgrade during preview", async () => {
    const text = await valueOf(program.plan);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]![0]).toBe(text);
  });

  it("exports the hops, the target and the warnings", async () => {
    expect(await valueOf(program.hops)).toEqual(["1.35.9", "1.36.4", "1.37.1"]);
    expect(program.targetVersion).toBe("1.37.1");
    expect(program.warnings.some((w) => w.includes("blue-green pool batch is replaced 1 time(s), at v1.37.1"))).toBe(true);
  });
});
