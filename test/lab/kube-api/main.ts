/**
 * The double as its own process (so that nothing in the process that starts it, a busy Jest
 * worker, can hold up an answer): `node --import tsx test/lab/kube-api/main.ts --dir DIR --host
 * HOST --port PORT [--seed FILE] [--cluster FILE] [--lab-dir DIR] [--log FILE]` (index.ts runs
 * it compiled: compiledMain).
 * DIR holds token, apiserver.crt and apiserver.key (index.ts prepares them); --seed is a JSON
 * array of objects, --cluster a ClusterSpec (JSON) for clusterObjects, --lab-dir the lab whose
 * nodes back Nodes, Leases and Pods. Once listening it writes DIR/url (the https URL) and prints
 * "listening URL". It exits on SIGTERM or SIGINT, and by itself when the process that started
 * it is gone or the lab directory is removed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { clusterObjects, type ClusterSpec } from "./cluster";
import { LabState } from "./lab-state";
import { createApiServer } from "./server";
import { ApiState } from "./state";
import { Store } from "./store";
import type { KubeObject } from "./types";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const dir = option("dir");
const host = option("host") ?? "127.0.0.1";
const port = Number(option("port") ?? "0");
if (dir === undefined) {
  console.error("usage: main.ts --dir DIR [--host HOST] [--port PORT] [--seed FILE] [--cluster FILE] [--lab-dir DIR] [--log FILE]");
  process.exit(2);
}
const read = (file: string) => fs.readFileSync(file, "utf8");
const seed: KubeObject[] = [];
const seedFile = option("seed");
if (seedFile) seed.push(...(JSON.parse(read(seedFile)) as KubeObject[]));
const clusterFile = option("cluster");
if (clusterFile) seed.push(...clusterObjects(JSON.parse(read(clusterFile)) as ClusterSpec));
const labDir = option("lab-dir");
const logFile = option("log");
const lab = labDir ? new LabState(labDir) : undefined;

const server = createApiServer({
  cert: read(path.join(dir, "apiserver.crt")),
  key: read(path.join(dir, "apiserver.key")),
  token: read(path.join(dir, "token")).trim(),
  state: new ApiState(new Store(seed), lab),
  metricsFile: path.join(dir, "metrics.txt"),
  ...(logFile ? { log: (line: string) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`) } : {}),
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent || (labDir !== undefined && !fs.existsSync(labDir))) stop();
}, 1000).unref();

server.on("error", (err) => {
  console.error(`kube-api: ${err.message}`);
  process.exit(1);
});
server.listen({ host, port }, () => {
  const { port: bound } = server.address() as { port: number };
  const url = `https://${host.includes(":") ? `[${host}]` : host}:${bound}`;
  fs.writeFileSync(path.join(dir, "url.part"), url);
  fs.renameSync(path.join(dir, "url.part"), path.join(dir, "url"));
  console.log(`listening ${url}`);
});
