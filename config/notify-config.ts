/**
 * The notification webhook's config: one secret key, `cluster-maintenance:notificationWebhookUrl`,
 * a Slack-compatible incoming-webhook URL (https://api.slack.com/messaging/webhooks). The URL is
 * the webhook's only credential ("keep it secret": the same page), so it is a Pulumi secret like
 * `sshPrivateKey` and `kubeconfig` (config/stack-file.ts SECRET_KEYS, Pulumi.yaml `secret: true`),
 * and every problem below names the key and never the value.
 *
 * Why one top-level key rather than `notifications: { webhookUrl }`: a Pulumi.yaml config
 * declaration types only string, integer, boolean and arrays of those (pulumi/pulumi
 * sdk/go/common/workspace/project.json `configTypeDeclaration`), so `secret: true`, which makes
 * the CLI refuse a plain value (pkg/workspace/config.go `validateStackConfigValue`), can only hold
 * a top-level key; and config/stack-file.ts refuses a secret nested in a plain key.
 */
import { InputProblem } from "../planning/errors";

/** The config key (under the project's namespace). */
export const NOTIFY_WEBHOOK_KEY = "notificationWebhookUrl";

/** How to set it. */
export const NOTIFY_WEBHOOK_FIX = `pulumi config set --secret ${NOTIFY_WEBHOOK_KEY} https://hooks.example/services/...`;

/** Longest URL taken (Slack's are about 80 characters). */
export const WEBHOOK_URL_MAX_CHARS = 2048;

/** The webhook URL, checked; `href` is the secret. */
export interface WebhookUrl {
  readonly href: string;
}

/**
 * Checks a webhook URL: an absolute `https:` URL with a host, no user or password part, at most
 * {@link WEBHOOK_URL_MAX_CHARS} characters, no whitespace. https only: the URL and the messages
 * must not cross the network in the clear.
 * @returns the URL, or the problem (key, "(secret, not shown)", what is wrong, the fix).
 */
export function parseWebhookUrl(value: unknown, key = `cluster-maintenance:${NOTIFY_WEBHOOK_KEY}`): WebhookUrl | InputProblem {
  const problem = (what: string): InputProblem => ({ key, value: "(secret, not shown)", problem: what, fix: `run: ${NOTIFY_WEBHOOK_FIX}` });
  if (typeof value !== "string" || value.trim() === "") return problem("is not a URL (empty or not text)");
  if (value.length > WEBHOOK_URL_MAX_CHARS) return problem(`is longer than ${WEBHOOK_URL_MAX_CHARS} characters`);
  if (/\s/.test(value)) return problem("contains whitespace");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem("is not an absolute URL");
  }
  if (url.protocol !== "https:") return problem(`uses ${url.protocol.replace(/:$/, "")}, not https (the URL is a credential and the messages would travel in the clear)`);
  if (url.hostname === "") return problem("has no host");
  if (url.username !== "" || url.password !== "") return problem("carries a user or password part (an incoming webhook needs none)");
  return { href: url.href };
}

/** True when `v` is a problem rather than a URL. */
export function isProblem(v: WebhookUrl | InputProblem): v is InputProblem {
  return (v as InputProblem).problem !== undefined;
}
