/**
 * Stack config `backup.volumes` (config/volume-config.ts parseVolumeBackup): the defaults, and
 * every refused value with its key, the value and the fix, read alone and inside `backup`; and the
 * parser refuses exactly what node-scripts/volume-snapshot.sh refuses of its arguments.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptText } from "../components/node-scripts";
import { FieldReader } from "../config/fields";
import { executionOptions, parseStackConfig } from "../config/stack-config";
import { CSI_DRIVER, MAX_VOLUME_CLASSES, MAX_VOLUME_NAMESPACES, parseVolumeBackup, VOLUME_DEFAULTS, VolumeBackupConfig } from "../config/volume-config";
import { volumeSnapshotArgs } from "../planning/commands";
import { InputProblem, ProblemList } from "../planning/errors";
import { inputErrorOf } from "./helpers/errors";
import { stackConfig } from "./helpers/pulumi-mocks";

function read(value: unknown): { config: VolumeBackupConfig | undefined; problems: InputProblem[] } {
  const list = new ProblemList();
  const config = parseVolumeBackup(new FieldReader(list), value);
  let problems: InputProblem[] = [];
  try {
    list.throwIfAny("t");
  } catch (e) {
    problems = [...(e as { problems: InputProblem[] }).problems];
  }
  return { config, problems };
}

describe("defaults", () => {
  it("absent: undefined, no problem", () => {
    expect(read(undefined)).toEqual({ config: undefined, problems: [] });
  });

  it("{}: every bound PVC of every namespace, each driver's default class, keep 3, 600 s, required", () => {
    expect(read({})).toEqual({ config: { namespaces: [], classes: {}, keep: 3, readyTimeoutSeconds: 600, required: true }, problems: [] });
    expect(VOLUME_DEFAULTS).toEqual({ keep: 3, readyTimeoutSeconds: 600, required: true });
  });

  it("takes every key as the issue's example writes it", () => {
    const { config, problems } = read({ namespaces: ["shop", "billing"], selector: "app=db,tier!=cache,backup,!scratch", classes: { "ebs.csi.aws.com": "ebs-snap" }, keep: 5, readyTimeoutSeconds: 900, required: false });
    expect(problems).toEqual([]);
    expect(config).toEqual({
      namespaces: ["shop", "billing"],
      selector: {
        text: "app=db,tier!=cache,backup,!scratch",
        requirements: [{ key: "app", op: "=", value: "db" }, { key: "tier", op: "!=", value: "cache" }, { key: "backup", op: "exists" }, { key: "scratch", op: "!exists" }],
      },
      classes: { "ebs.csi.aws.com": "ebs-snap" },
      keep: 5, readyTimeoutSeconds: 900, required: false,
    });
  });

  it("takes the bounds of keep (1, 100) and readyTimeoutSeconds (30, 86400), digits as text too", () => {
    expect(read({ keep: 1, readyTimeoutSeconds: 30 }).config).toMatchObject({ keep: 1, readyTimeoutSeconds: 30 });
    expect(read({ keep: 100, readyTimeoutSeconds: 86400 }).config).toMatchObject({ keep: 100, readyTimeoutSeconds: 86400 });
    expect(read({ keep: "7" }).config).toMatchObject({ keep: 7 });
  });

  it("takes an empty namespaces list as every namespace, and a 63-character driver name", () => {
    const driver = `${"d".repeat(30)}.${"e".repeat(32)}`;
    expect(driver).toHaveLength(63);
    expect(read({ namespaces: [], classes: { [driver]: "c" } }).config).toMatchObject({ namespaces: [], classes: { [driver]: "c" } });
  });
});

describe("schedule (scheduled volume snapshots, issue 13 item 4)", () => {
  it("absent: no schedule; a cron schedule or macro is taken as backup.schedule takes it", () => {
    expect(read({}).config).not.toHaveProperty("schedule");
    expect(read({ schedule: "30 2 * * *" })).toEqual({ config: expect.objectContaining({ schedule: "30 2 * * *" }), problems: [] });
    expect(read({ schedule: "@daily" }).config).toMatchObject({ schedule: "@daily" });
    expect(read({ schedule: "0  */6 * * mon-fri" }).config).toMatchObject({ schedule: "0 */6 * * mon-fri" });
  });
  it("refuses what backup.schedule refuses, naming the key, the value and the fix", () => {
    for (const bad of ["every day", "60 * * * *", "* * * *", 5]) {
      const { config, problems } = read({ schedule: bad });
      expect(config).toBeUndefined();
      expect(problems).toHaveLength(1);
      expect(JSON.stringify(problems[0])).toContain("backup.volumes.schedule");
      expect(JSON.stringify(problems[0])).toContain("cron schedule");
    }
  });
});

describe("refusals: each names the key, the value and the fix", () => {
  const long = "a".repeat(64);
  it.each<[string, unknown, string, unknown, RegExp, RegExp]>([
    ["not a mapping", "yes", "backup.volumes", "yes", /is not a mapping/, /namespaces: \["shop"\]/],
    ["an unknown key", { keepp: 3 }, "backup.volumes.keepp", 3, /is not a known key/, /namespaces, selector, classes, keep, readyTimeoutSeconds, required/],
    ["namespaces not a list", { namespaces: "shop" }, "backup.volumes.namespaces", "shop", /is not a list/, /\["shop", "billing"\]/],
    ["a namespace not a DNS label", { namespaces: ["Shop"] }, "backup.volumes.namespaces[0]", "Shop", /is not a namespace name \(a DNS label/, /give a namespace name such as "shop"/],
    ["a namespace with a dot", { namespaces: ["a.b"] }, "backup.volumes.namespaces[0]", "a.b", /DNS label/, /namespace name/],
    ["a namespace of 64 characters", { namespaces: [long] }, "backup.volumes.namespaces[0]", long, /at most 63/, /namespace name/],
    ["a namespace not text", { namespaces: [7] }, "backup.volumes.namespaces[0]", 7, /is not a namespace name/, /namespace name/],
    ["a namespace trying shell", { namespaces: ["a;id"] }, "backup.volumes.namespaces[0]", "a;id", /is not a namespace name/, /namespace name/],
    ['"*" as a namespace', { namespaces: ["*"] }, "backup.volumes.namespaces[0]", "*", /"\*" is not how every namespace is said here/, /leave namespaces out, or give \[\], for every namespace/],
    ["a namespace twice", { namespaces: ["a", "b", "a"] }, "backup.volumes.namespaces[2]", "a", /repeats backup\.volumes\.namespaces\[0\]/, /once/],
    ["selector not text", { selector: { app: "db" } }, "backup.volumes.selector", { app: "db" }, /is not text/, /equality-based label selector on the PVCs.*or leave it out for every bound PVC/],
    ["an empty selector", { selector: " " }, "backup.volumes.selector", " ", /^is empty$/, /leave it out for every bound PVC/],
    ["a set-based selector", { selector: "app in (db,web)" }, "backup.volumes.selector", "app in (db,web)", /not key=value, key!=value, key or !key|not a label key/, /e\.g\. selector: "app=db"/],
    ["a selector value with a quote", { selector: "app=d'b" }, "backup.volumes.selector", "app=d'b", /which is not a label value/, /selector/],
    ["classes not a mapping", { classes: ["ebs-snap"] }, "backup.volumes.classes", ["ebs-snap"], /is not a mapping/, /"ebs\.csi\.aws\.com": "ebs-snapshots"/],
    ["a driver in capitals", { classes: { "EBS.csi.aws.com": "c" } }, "backup.volumes.classes.EBS.csi.aws.com", "EBS.csi.aws.com", /is not a CSI driver name.*at most 63/, /spec\.csi\.driver/],
    ["a driver of 64 characters", { classes: { [`${"d".repeat(31)}.${"e".repeat(32)}`]: "c" } }, `backup.volumes.classes.${"d".repeat(31)}.${"e".repeat(32)}`, `${"d".repeat(31)}.${"e".repeat(32)}`, /is not a CSI driver name/, /spec\.csi\.driver/],
    ["a driver with '=' (the argument's separator)", { classes: { "a=b": "c" } }, "backup.volumes.classes.a=b", "a=b", /is not a CSI driver name/, /driver/],
    ["a driver ending in '-'", { classes: { "ebs-": "c" } }, "backup.volumes.classes.ebs-", "ebs-", /is not a CSI driver name/, /driver/],
    ["a class with ','", { classes: { "ebs.csi.aws.com": "a,b" } }, "backup.volumes.classes.ebs.csi.aws.com", "a,b", /is not a VolumeSnapshotClass name \(a DNS subdomain/, /whose driver is ebs\.csi\.aws\.com \(kubectl get volumesnapshotclass\)/],
    ["a class not text", { classes: { "ebs.csi.aws.com": true } }, "backup.volumes.classes.ebs.csi.aws.com", true, /is not a VolumeSnapshotClass name/, /VolumeSnapshotClass/],
    ["keep 0", { keep: 0 }, "backup.volumes.keep", 0, /is not a whole number from 1 to 100/, /leave it out for 3/],
    ["keep 101", { keep: 101 }, "backup.volumes.keep", 101, /from 1 to 100/, /for 3/],
    ["keep 2.5", { keep: 2.5 }, "backup.volumes.keep", 2.5, /from 1 to 100/, /for 3/],
    ["readyTimeoutSeconds 29", { readyTimeoutSeconds: 29 }, "backup.volumes.readyTimeoutSeconds", 29, /from 30 to 86400/, /leave it out for 600/],
    ["readyTimeoutSeconds 86401", { readyTimeoutSeconds: 86401 }, "backup.volumes.readyTimeoutSeconds", 86401, /from 30 to 86400/, /for 600/],
    ["readyTimeoutSeconds \"10m\"", { readyTimeoutSeconds: "10m" }, "backup.volumes.readyTimeoutSeconds", "10m", /from 30 to 86400/, /for 600/],
    ["required as text", { required: "true" }, "backup.volumes.required", "true", /is not true or false/, /write true .* or false .*leave it out for true/],
  ])("%s", (_what, value, key, got, problem, fix) => {
    const { config, problems } = read(value);
    expect(config).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe(key);
    expect(problems[0]!.value).toEqual(got);
    expect(problems[0]!.problem).toMatch(problem);
    expect(problems[0]!.fix).toMatch(fix);
  });

  it("refuses more namespaces and drivers than one argument may carry", () => {
    const namespaces = Array.from({ length: MAX_VOLUME_NAMESPACES + 1 }, (_, i) => `ns-${i}`);
    expect(read({ namespaces }).problems.map((p) => [p.key, p.problem])).toEqual([["backup.volumes.namespaces", "lists more than 1000 namespaces"]]);
    expect(read({ namespaces: namespaces.slice(1) }).problems).toEqual([]);
    const classes = Object.fromEntries(Array.from({ length: MAX_VOLUME_CLASSES + 1 }, (_, i) => [`d${i}.csi.example.com`, "c"]));
    expect(read({ classes }).problems.map((p) => [p.key, p.problem])).toEqual([["backup.volumes.classes", "has more than 100 drivers"]]);
  });

  it("reports every problem of one volumes mapping together", () => {
    const { problems } = read({ namespaces: ["A"], selector: "", classes: { X: "c" }, keep: 0, readyTimeoutSeconds: 1, required: 1 });
    expect(problems.map((p) => p.key)).toEqual([
      "backup.volumes.namespaces[0]", "backup.volumes.selector", "backup.volumes.classes.X", "backup.volumes.keep", "backup.volumes.readyTimeoutSeconds", "backup.volumes.required",
    ]);
  });
});

describe("CSI_DRIVER: the CSI spec's driver name in the DNS subdomain form a CSIDriver object's name takes", () => {
  it.each(["ebs.csi.aws.com", "pd.csi.storage.gke.io", "disk.csi.azure.com", "rbd.csi.ceph.com", "driver.longhorn.io", "hostpath.csi.k8s.io", "a"])("takes %s", (d) => {
    expect(CSI_DRIVER.test(d)).toBe(true);
  });
  it.each(["", "-a", "a-", "a..b", "a.-b", "A.b", "a_b", "a b", "a/b", "a=b", "a,b", "x".repeat(64)])("refuses %j", (d) => {
    expect(CSI_DRIVER.test(d)).toBe(false);
  });
});

describe("inside backup (config/backup-config.ts) and the execution options", () => {
  const backup = { bucket: "dev-etcd-backups", region: "eu-west-1", image: "example.org/etcd-backup:3.5" };

  it("is absent from the config and the options when backup has no volumes", () => {
    const config = parseStackConfig({ ...stackConfig("dev"), backup }, "dev");
    expect(config.backup!.volumes).toBeUndefined();
    expect(executionOptions(config).volumes).toBeUndefined();
  });

  it("reaches the execution options as parsed", () => {
    const config = parseStackConfig({ ...stackConfig("dev"), backup: { ...backup, volumes: { namespaces: ["shop"], keep: 2 } } }, "dev");
    expect(config.backup!.volumes).toEqual({ namespaces: ["shop"], classes: {}, keep: 2, readyTimeoutSeconds: 600, required: true });
    expect(executionOptions(config).volumes).toBe(config.backup!.volumes);
  });

  it("refuses the stack with the other problems of the config, in one message", () => {
    const e = inputErrorOf(() => parseStackConfig({ ...stackConfig("dev"), backup: { ...backup, region: "europe", volumes: { keep: 0, required: "no" } } }, "dev"));
    expect(e.message).toContain("invalid stack config for cluster-maintenance (3 problems)");
    expect(e.message).toContain("backup.region: is not an AWS region");
    expect(e.message).toContain("backup.volumes.keep: is not a whole number from 1 to 100 (got 0). give a whole number from 1 to 100, or leave it out for 3");
    expect(e.message).toContain('backup.volumes.required: is not true or false (got "no"). write true');
  });

  it("is not a key of its own outside backup", () => {
    expect(inputErrorOf(() => parseStackConfig({ ...stackConfig("dev"), volumes: {} }, "dev")).message).toContain("cluster-maintenance.volumes: is not a known key");
  });
});

describe("the parser and node-scripts/volume-snapshot.sh agree on every value (the script's exit 2 is its refusal of an argument)", () => {
  /** The script as it is sent, with `args`; kubectl is a stub that fails, so arguments it takes end in exit 1, never 2. */
  const scratch = mkdtempSync(join(tmpdir(), "cm-volume-args-"));
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "kubectl"), "#!/bin/sh\necho 'stub kubectl: no cluster' >&2\nexit 1\n", { mode: 0o755 });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const scriptTakes = (args: readonly string[]): boolean => {
    const r = spawnSync("bash", ["-c", scriptText("volume-snapshot.sh"), "volume-snapshot.sh", ...args], {
      encoding: "utf8", timeout: 20_000, env: { PATH: `${bin}:${process.env.PATH}`, CM_NODE_ROOT: join(scratch, "root"), HOME: scratch },
    });
    expect([args, r.status === 1 || r.status === 2, r.stderr]).toEqual([args, true, expect.stringContaining("cluster-maintenance: volume-snapshot.sh:")]);
    return r.status !== 2;
  };
  /** What the parser makes of `volumes`, as the command's arguments; undefined when refused. */
  const parsed = (volumes: Record<string, unknown>): string[] | undefined => {
    const config = read(volumes).config;
    return config && volumeSnapshotArgs("v1.35.9", config);
  };
  /** For a value the parser refuses, the script gets it as written (what the parser keeps from it reaching the node). */
  const raw = (volumes: Record<string, unknown>): string[] => {
    const base = ["v1.35.9", "3", "600", "true", "*", "-", "-"];
    if (volumes.keep !== undefined) base[1] = String(volumes.keep);
    if (volumes.readyTimeoutSeconds !== undefined) base[2] = String(volumes.readyTimeoutSeconds);
    if (volumes.required !== undefined) base[3] = String(volumes.required);
    if (volumes.namespaces !== undefined) base[4] = (volumes.namespaces as string[]).join(",");
    if (volumes.selector !== undefined) base[5] = String(volumes.selector);
    if (volumes.classes !== undefined) base[6] = Object.entries(volumes.classes as Record<string, string>).map(([d, c]) => `${d}=${c}`).join(",");
    return base;
  };

  it.each(["scheduled-20250101T000000Z", "Scheduled", "v1.35", "", "scheduled "])("LABEL %j is refused (only vX.Y.Z or scheduled)", (label) => {
    expect(scriptTakes([label, "3", "600", "true", "*", "-", "-"])).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["defaults", {}],
    ["namespaces", { namespaces: ["shop", "a", "x".repeat(63), "a-1"] }],
    ["a namespace in capitals", { namespaces: ["Shop"] }],
    ["a namespace of 64", { namespaces: ["x".repeat(64)] }],
    ["a namespace with '_'", { namespaces: ["a_b"] }],
    ["a namespace ending in '-'", { namespaces: ["a-"] }],
    ["a namespace with a space", { namespaces: ["a b"] }],
    ["a namespace twice", { namespaces: ["shop", "shop"] }],
    ["selector terms", { selector: "app=db,tier!=cache,backup,!scratch,example.com/role=primary,k=" }],
    ["a selector with spaces and ==", { selector: "app == db , !scratch" }],
    ["a selector value of 63", { selector: `k=${"v".repeat(63)}` }],
    ["a selector value of 64", { selector: `k=${"v".repeat(64)}` }],
    ["a selector value starting with '-'", { selector: "k=-v" }],
    ["a selector !k=v", { selector: "!k=v" }],
    ["a selector with an empty term", { selector: "a=b,,c" }],
    ["a selector with a trailing comma", { selector: "a=b," }],
    ["a selector in()", { selector: "app in (db)" }],
    ["a selector key with a bad prefix", { selector: "-x.com/k=v" }],
    ["a selector key name of 64", { selector: `${"k".repeat(64)}=v` }],
    ["classes", { classes: { "ebs.csi.aws.com": "ebs-snap", "pd.csi.storage.gke.io": "a.b-c" } }],
    ["a driver of 63", { classes: { [`${"d".repeat(30)}.${"e".repeat(32)}`]: "c" } }],
    ["a driver of 64", { classes: { [`${"d".repeat(31)}.${"e".repeat(32)}`]: "c" } }],
    ["a driver in capitals", { classes: { "EBS.csi.aws.com": "c" } }],
    ["a driver with '_'", { classes: { "a_b": "c" } }],
    ["a driver with '..'", { classes: { "a..b": "c" } }],
    ["a driver with '.-'", { classes: { "a.-b": "c" } }],
    ["a class of 253", { classes: { d: `${"c".repeat(63)}.${"c".repeat(63)}.${"c".repeat(63)}.${"c".repeat(61)}` } }],
    ["a class of 254", { classes: { d: `${"c".repeat(63)}.${"c".repeat(63)}.${"c".repeat(63)}.${"c".repeat(62)}` } }],
    ["a class with '_'", { classes: { d: "a_b" } }],
    ["a class with '='", { classes: { d: "a=b" } }],
    ["keep 1 and 100", { keep: 100 }],
    ["keep 0", { keep: 0 }],
    ["keep 101", { keep: 101 }],
    ["readyTimeoutSeconds 30", { readyTimeoutSeconds: 30 }],
    ["readyTimeoutSeconds 86400", { readyTimeoutSeconds: 86400 }],
    ["readyTimeoutSeconds 29", { readyTimeoutSeconds: 29 }],
    ["readyTimeoutSeconds 86401", { readyTimeoutSeconds: 86401 }],
    ["required false", { required: false }],
    ["required yes", { required: "yes" }],
    ["a schedule (not an argument of the script)", { schedule: "30 2 * * *" }],
  ])("%s", (_what, volumes) => {
    const args = parsed(volumes);
    if (args) expect(scriptTakes(["scheduled", ...args.slice(1)])).toBe(true); // the scheduled CronJob's LABEL
    expect([volumes, scriptTakes(args ?? raw(volumes))]).toEqual([volumes, args !== undefined]);
  });
});
