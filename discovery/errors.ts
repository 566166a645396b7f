/**
 * The error raised when the live cluster cannot be read or what it answers cannot be used:
 * no kubeconfig, an unreachable or refusing API server, an object whose versions cannot be
 * read. Each reason names the object or place, what is wrong and how to fix it.
 */
import { LISTED_MAX } from "../planning/errors";

/**
 * Thrown by discovery/ (kubeconfig resolution, reading the cluster, parsing what it answered).
 * `reasons` holds one line per problem; the message is `summary: reason` for one,
 * `summary (N problems):` and one indented line per reason (at most {@link LISTED_MAX}) for several.
 */
export class DiscoveryError extends Error {
  constructor(
    readonly summary: string,
    readonly reasons: readonly string[],
  ) {
    super(
      reasons.length === 1
        ? `${summary}: ${reasons[0]}`
        : `${summary} (${reasons.length} problems):\n${reasons.slice(0, LISTED_MAX).map((r) => `  - ${r}`).join("\n")}${
            reasons.length > LISTED_MAX ? `\n  ... and ${reasons.length - LISTED_MAX} more problems` : ""
          }`,
    );
    this.name = "DiscoveryError";
  }
}
