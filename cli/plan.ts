/**
 * `npm run plan`: the upgrade plan for a stack, offline (no Pulumi CLI, no cluster).
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml from the working directory, plans with the same
 * code the Pulumi program uses, prints text (default) or JSON. Exit code 1 with one clear
 * message on bad config or an impossible upgrade.
 */
import { Command } from "commander";
import { InputErrors, PlanningError } from "../planning/errors";
import { planToJson, renderText } from "../planning/render";
import { executionOptions, parseStackConfig, planFromConfig } from "../config/stack-config";
import { planCommands } from "../planning/commands";
import { readStackFiles } from "../config/stack-file";
import { CliIo, parseArgs, processIo } from "./io";

export interface PlanIo extends CliIo {
  /** "Today" for end-of-life warnings. @default new Date() */
  readonly now?: Date;
}

/**
 * Runs the plan command.
 * @param args the arguments after the program name, e.g. `["--stack", "prod", "--json"]`.
 * @returns the exit code: 0 planned, 1 bad config or impossible upgrade, 2 bad usage.
 */
export function runPlan(args: readonly string[], io: PlanIo): number {
  const program = new Command("npm run plan --")
    .description("Print the upgrade plan for a stack, offline.")
    .option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to read", "dev")
    .option("--json", "print the whole plan as JSON", false);
  const usage = parseArgs(program, args, io);
  if (usage !== undefined) return usage;
  const { stack, json } = program.opts<{ stack: string; json: boolean }>();
  try {
    const files = readStackFiles(io.cwd, stack);
    const config = parseStackConfig(files.raw, stack);
    const plan = planFromConfig(config, io.now);
    const { commands } = planCommands(plan, executionOptions(config));
    io.out(json ? `${JSON.stringify(planToJson(plan, commands), null, 2)}\n` : renderText(plan, commands));
    return 0;
  } catch (e) {
    if (e instanceof InputErrors || e instanceof PlanningError) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = runPlan(process.argv.slice(2), processIo());
}
