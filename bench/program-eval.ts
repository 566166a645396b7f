/**
 * One evaluation of the program (index.ts) under Pulumi's mocks, as one `pulumi up` would
 * evaluate it, for bench/live-bench.ts: `node --import tsx bench/program-eval.ts CONFIG.json`,
 * CONFIG.json `{ "stack": "...", "config": { full key: value text } }` (the kubeconfig among
 * them). Prints one JSON line: the resources registered and the seconds from process start
 * until the registrations stopped.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";

async function main(): Promise<void> {
  const { stack, config } = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as { stack: string; config: Record<string, string> };
  let registered = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered++;
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => {
        throw new Error(`unexpected provider call ${args.token}`);
      },
    },
    "cluster-maintenance",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config, ["cluster-maintenance:sshPrivateKey"]);
  const program = (await import("../index")).default;
  const outputs = await program();
  // Registrations reach the mocks a few event-loop turns after the program returns.
  for (let seen = -1; seen !== registered; ) {
    seen = registered;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const wave = await new Promise<string>((resolve) => pulumi.output(outputs.wave).apply(resolve));
  console.log(JSON.stringify({ registered, seconds: process.uptime(), wave }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
