/** Ending the lab's background processes (sshd, etcd): bounded waits, SIGTERM then SIGKILL. */
import type { ChildProcess } from "node:child_process";

/** Waits (bounded) for a child process to exit; true if it did. */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops a child: SIGTERM, and SIGKILL if it has not exited within `ms` milliseconds. */
export async function stopProcess(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    if (!(await waitExit(child, ms))) {
      child.kill("SIGKILL");
      await waitExit(child, ms);
    }
  }
  child.stderr?.destroy();
}
