/**
 * Fast start for the command-line entry points: `node cli/run.js <name> [args...]` runs
 * cli/<name>.ts (`npm run plan` is `node cli/run.js plan`, `npm run restore` is
 * `node cli/run.js restore`). Plain JavaScript, so node starts it without a TypeScript loader.
 *
 * The first start bundles cli/<name>.ts, the project sources and the packages it imports into
 * one CommonJS file with esbuild (one file to load: a third faster than resolving each package's
 * files at every start), in the git-ignored cache node_modules/.cache/cluster-maintenance-cli/
 * (<name>.js, and <name>.json: every source's mtime at the build, packages' files included). Later starts check those mtimes (one stat per source) and run the cached file
 * with plain node; a source whose mtime differs (edited, or checked out), a missing cache or a
 * changed launcher rebuilds first. No install script and no committed build output: npm runs
 * no install scripts, and the cache is built on first use.
 *
 * esbuild transpiles as `tsx` does (tsx is esbuild underneath) and checks no types, as `tsx`
 * did not: `npm test` runs tsc. The build carries an inline source map, read only when asked
 * (parsing it costs a tenth of the start): `NODE_OPTIONS=--enable-source-maps npm run plan`
 * shows an unexpected error's stack in the .ts sources.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "cluster-maintenance-cli");
const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * True when the cached build of an entry exists and every source it was built from has the mtime
 * recorded at the build.
 * @param {string} manifestFile the entry's <name>.json: `{ "inputs": { "<path from ROOT>": mtimeMs } }`.
 */
function fresh(manifestFile) {
  let inputs;
  try {
    inputs = JSON.parse(fs.readFileSync(manifestFile, "utf8")).inputs;
  } catch {
    return false;
  }
  return Object.entries(inputs).every(([file, mtimeMs]) => fs.statSync(path.join(ROOT, file), { throwIfNoEntry: false })?.mtimeMs === mtimeMs);
}

/**
 * Bundles `entry` into `out` and writes its manifest; both appear whole (written aside, then
 * renamed), so a start running at the same time reads the old build or the new one.
 * A source changed during the build is recorded with mtime -1: the next start builds again.
 */
function build(entry, out, manifestFile) {
  const esbuild = require("esbuild");
  const started = Date.now();
  const tmp = `${out}.${process.pid}.tmp`;
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    // The bundle runs as node's main module would: its `if (require.main === module)` runs the command.
    define: { "require.main": "module" },
    sourcemap: "inline",
    sourcesContent: false,
    metafile: true,
    logLevel: "error",
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), path.relative(ROOT, __filename)]) {
    const mtimeMs = fs.statSync(path.join(ROOT, file)).mtimeMs;
    inputs[file] = mtimeMs < started ? mtimeMs : -1;
  }
  fs.renameSync(tmp, out);
  fs.writeFileSync(`${manifestFile}.${process.pid}.tmp`, JSON.stringify({ inputs }));
  fs.renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);
}

function main() {
  const [name, ...args] = process.argv.slice(2);
  const entry = name && NAME.test(name) ? path.join("cli", `${name}.ts`) : undefined;
  if (!entry || !fs.existsSync(path.join(ROOT, entry))) {
    process.stderr.write(`usage: node cli/run.js <name> [args...], where cli/<name>.ts exists (got ${JSON.stringify(name ?? "")})\n`);
    process.exitCode = 2;
    return;
  }
  const out = path.join(CACHE, `${name}.js`);
  const manifestFile = path.join(CACHE, `${name}.json`);
  if (!fresh(manifestFile)) {
    fs.mkdirSync(CACHE, { recursive: true });
    try {
      build(entry, out, manifestFile);
    } catch (e) {
      // esbuild has printed the errors, with file and line.
      process.stderr.write(`cli/run.js: cannot compile ${entry}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}\n`);
      process.exitCode = 1;
      return;
    }
  }
  process.argv = [process.argv[0], out, ...args];
  require(out);
}

main();
