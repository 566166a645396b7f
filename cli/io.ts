import { Command, CommanderError } from "commander";

/** What a command-line entry point reads and writes: injected, so tests run it in-process. */
export interface CliIo {
  /** The project directory (where Pulumi.yaml and the stack files are). */
  readonly cwd: string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The real process's directory, stdout and stderr. */
export function processIo(): CliIo {
  return { cwd: process.cwd(), out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
}

/**
 * Parses `args` with `program`, its help and errors written to `io`.
 * @returns undefined when the command should go on; else its exit code: 0 after --help, 2 on
 *   bad usage (commander has printed why).
 */
export function parseArgs(program: Command, args: readonly string[], io: CliIo): number | undefined {
  program.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    program.parse([...args], { from: "user" });
    return undefined;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
}
