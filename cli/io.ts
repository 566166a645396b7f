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
