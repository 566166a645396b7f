/**
 * cli/webhook.ts against a local HTTPS receiver: the JSON body as Slack takes it, bounded
 * attempts and time, and errors that never carry the URL.
 */
import { postJson } from "../../cli/webhook";
import { Receiver, startReceiver } from "./receiver";

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

const SECRET_PATH = "/services/T0AAA/B0BBB/Zz9SeCrEtKeY";
const url = () => ({ href: `${receiver.origin}${SECRET_PATH}` });
const fast = (extra = {}) => ({ ca: receiver.ca, retryDelaysMs: [10, 10], ...extra });

describe("postJson", () => {
  it("posts the payload as JSON once, and reports the 200", async () => {
    const r = await postJson(url(), { text: "hello & <bye>" }, fast());
    expect(r).toEqual({ ok: true, status: 200, attempts: 1 });
    expect(receiver.received).toEqual([{ method: "POST", path: SECRET_PATH, contentType: "application/json; charset=utf-8", body: '{"text":"hello & <bye>"}' }]);
  });

  it("tries again after a 5xx and a 429 (its Retry-After, bounded), at most `attempts` times", async () => {
    receiver.answers.push({ status: 503 }, { status: 429, headers: { "retry-after": "0" } });
    expect(await postJson(url(), { text: "x" }, fast())).toEqual({ ok: true, status: 200, attempts: 3 });
    receiver.answers.push({ status: 500 }, { status: 500 }, { status: 500 });
    expect(await postJson(url(), { text: "x" }, fast())).toEqual({ ok: false, error: "HTTP 500: error", attempts: 3 });
    expect(receiver.received).toHaveLength(6);
  });

  it("does not try again after another 4xx (a revoked or wrong URL)", async () => {
    receiver.answers.push({ status: 404, body: "no_service" });
    expect(await postJson(url(), { text: "x" }, fast())).toEqual({ ok: false, error: "HTTP 404: no_service", attempts: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  it("gives up on a receiver that never answers after timeoutMs per attempt", async () => {
    receiver.answers.push("hang", "hang");
    const started = Date.now();
    const r = await postJson(url(), { text: "x" }, fast({ timeoutMs: 300, attempts: 2 }));
    expect(r).toEqual({ ok: false, error: "no answer within 300 ms", attempts: 2 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("reports a refused connection and an untrusted certificate by their code, never the URL", async () => {
    const trustless = await postJson(url(), { text: "x" }, { attempts: 1 });
    expect(trustless.ok).toBe(false);
    expect(!trustless.ok && trustless.error).toMatch(/^[A-Z_]+$/);
    const origin = receiver.origin;
    await receiver.close();
    const refused = await postJson({ href: `${origin}${SECRET_PATH}` }, { text: "x" }, { attempts: 2, retryDelaysMs: [10] });
    expect(refused).toEqual({ ok: false, error: "ECONNREFUSED", attempts: 2 });
    receiver = await startReceiver(); // for afterEach
  });
});
