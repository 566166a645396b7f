/**
 * The lab's one state lock ($CM_LAB_DIR/.lock, flock), shared with the stand-ins' lab_lock
 * (test/lab/standins/lib/standin.bash): the double takes it, through the real flock(1), around
 * every change it makes to the lab's files, so that a kubelet starting (systemctl, a reboot, a
 * join) and an eviction never interleave.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

/** Runs `fn` (synchronous) while holding the lab's lock; rejects when the lock is not free within 60 s. */
export async function withLabLock<T>(labDir: string, fn: () => T): Promise<T> {
  const holder = spawn("flock", ["-w", "60", path.join(labDir, ".lock"), "-c", "echo locked; exec cat >/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  holder.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once("data", () => resolve());
    holder.once("error", reject);
    holder.once("exit", (code) => reject(new Error(`lab: state lock not taken (flock exit ${code}): ${stderr}`)));
  });
  try {
    return fn();
  } finally {
    holder.stdin.end();
  }
}
