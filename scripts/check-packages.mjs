#!/usr/bin/env node
// `pnpm check:packages [--root <dir>] [--only <name>[,<name>...]] [--skip-publint]`
//
// Conformance check for every package under packages/. Prints one line per problem,
// `@luzts/<pkg>: <rule>: <detail>`, and exits 1; otherwise prints a one-line summary and exits 0.
// Usage errors exit 2. Plain Node ESM: no build step needed for this script itself, but the
// publint rule lints the built package (run `pnpm build` first).
//
// Rules (the names are what appears in the output):
//   package-json  package.json exists, parses, and is named @luzts/<folder>
//   readme        README.md exists
//   entry         src/index.ts exists
//   tests         at least one src/**/*.test.ts
//   typedoc       typedoc.json exists and is valid JSON
//   scripts       build, typecheck, test and lint scripts exist (turbo skips a missing one silently)
//   exports       "." export with `@luzts/source` (first, an existing src/*.ts file), `types`
//                 (dist/*.d.ts) and `import`/`default` (dist/*.js) matching that source file;
//                 every other subpath the same; a "./package.json" export
//   type-module   "type": "module"
//   side-effects  "sideEffects": false
//   files         "files" includes dist
//   peer-core     @luzts/core is a peerDependency (a semver range, not workspace:) and a
//                 workspace: devDependency -- except core itself and the packages core depends on
//   cycle         no dependency cycle among workspace packages (dependencies, peerDependencies,
//                 optionalDependencies and devDependencies all count)
//   publint       publint --strict finds nothing (errors, warnings and suggestions);
//                 "not built: run pnpm build" when dist/ is missing
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SCOPE = '@luzts/';
const CORE = '@luzts/core';
const SOURCE_CONDITION = '@luzts/source';
const REQUIRED_SCRIPTS = ['build', 'typecheck', 'test', 'lint'];

function usage(message) {
  console.error(`check-packages: ${message}`);
  console.error('usage: node scripts/check-packages.mjs [--root <dir>] [--only <name>[,<name>...]] [--skip-publint]');
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      root: { type: 'string' },
      only: { type: 'string', multiple: true },
      'skip-publint': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  }).values;
} catch (error) {
  usage(error.message);
}
if (args.help) {
  console.log('usage: node scripts/check-packages.mjs [--root <dir>] [--only <name>[,<name>...]] [--skip-publint]');
  process.exit(0);
}

const root = resolve(args.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const packagesDir = join(root, 'packages');
if (!existsSync(packagesDir)) usage(`no packages/ folder in ${root}`);

/** @typedef {{ dir: string, folder: string, name: string, json: any, selected: boolean }} Pkg */

const problems = [];
/** @param {string} name @param {string} rule @param {string} detail */
const report = (name, rule, detail) => problems.push(`${name}: ${rule}: ${detail}`);

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

const isDir = (path) => existsSync(path) && statSync(path).isDirectory();
const isFile = (path) => existsSync(path) && statSync(path).isFile();

/** Every folder directly under packages/ (symlinked folders included). */
const folders = readdirSync(packagesDir)
  .filter((f) => !f.startsWith('.') && isDir(join(packagesDir, f)))
  .sort();

// --only accepts folder names or package names, comma-separated or repeated.
const only = (args.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
const selectedFolders = only.length
  ? only.map((o) => {
      const folder = o.startsWith(SCOPE) ? o.slice(SCOPE.length) : o;
      if (!folders.includes(folder)) usage(`--only ${o}: no package folder packages/${folder}`);
      return folder;
    })
  : folders;

/** @type {Pkg[]} */
const packages = [];
for (const folder of folders) {
  const dir = join(packagesDir, folder);
  const expected = SCOPE + folder;
  const selected = selectedFolders.includes(folder);
  let json;
  try {
    json = readJson(join(dir, 'package.json'));
  } catch (error) {
    if (selected) {
      const why = existsSync(join(dir, 'package.json')) ? `package.json does not parse (${error.message})` : 'no package.json';
      report(expected, 'package-json', why);
    }
    continue;
  }
  if (selected && json.name !== expected) {
    report(expected, 'package-json', `"name" is ${JSON.stringify(json.name)}; expected "${expected}" (the folder name, scoped)`);
  }
  packages.push({ dir, folder, name: json.name ?? expected, json, selected });
}
const byName = new Map(packages.map((p) => [p.name, p]));

// ---------------------------------------------------------------------------------------------
// Static rules

/** Lists files under `dir` recursively (relative paths with forward slashes). */
function listFiles(dir, prefix = '') {
  if (!isDir(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(join(dir, entry.name), rel) : [rel];
  });
}

const normalize = (p) => (typeof p === 'string' ? p.replace(/^\.\//, '') : p);

/** Checks one subpath's conditions; returns the problems as strings. */
function checkExportEntry(pkg, subpath, entry) {
  const out = [];
  const where = `exports["${subpath}"]`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return [`${where} must be an object of conditions ({ "${SOURCE_CONDITION}", "types", "default" }), got ${JSON.stringify(entry)}`];
  }
  const keys = Object.keys(entry);
  const source = entry[SOURCE_CONDITION];
  const types = entry.types;
  const runtimeKey = 'import' in entry ? 'import' : 'default' in entry ? 'default' : undefined;
  const runtime = runtimeKey ? entry[runtimeKey] : undefined;

  let stem;
  if (typeof source !== 'string') {
    out.push(`${where} has no "${SOURCE_CONDITION}" condition pointing at its src/*.ts file`);
  } else if (!/^(\.\/)?src\/.+\.ts$/.test(source) || source.endsWith('.d.ts')) {
    out.push(`${where}["${SOURCE_CONDITION}"] is "${source}"; expected a ./src/**/*.ts file`);
  } else if (!isFile(join(pkg.dir, source))) {
    out.push(`${where}["${SOURCE_CONDITION}"] points at ${source}, which does not exist`);
  } else {
    stem = normalize(source).slice('src/'.length, -'.ts'.length);
  }
  if (typeof source === 'string' && keys[0] !== SOURCE_CONDITION) {
    out.push(`${where}: "${SOURCE_CONDITION}" must be the first condition (conditions match in order), found "${keys[0]}" first`);
  }

  if (typeof types !== 'string') {
    out.push(`${where} has no "types" condition pointing at dist/*.d.ts`);
  } else if (!/^(\.\/)?dist\/.+\.d\.ts$/.test(types)) {
    out.push(`${where}.types is "${types}"; expected ./dist/**/*.d.ts`);
  } else if (stem !== undefined && normalize(types) !== `dist/${stem}.d.ts`) {
    out.push(`${where}.types is "${types}" but the source is "${source}"; expected "./dist/${stem}.d.ts"`);
  }

  if (typeof runtime !== 'string') {
    out.push(`${where} has no "import" or "default" condition pointing at dist/*.js`);
  } else if (!/^(\.\/)?dist\/.+\.js$/.test(runtime)) {
    out.push(`${where}.${runtimeKey} is "${runtime}"; expected ./dist/**/*.js`);
  } else if (stem !== undefined && normalize(runtime) !== `dist/${stem}.js`) {
    out.push(`${where}.${runtimeKey} is "${runtime}" but the source is "${source}"; expected "./dist/${stem}.js"`);
  }
  if (typeof types === 'string' && runtimeKey && keys.indexOf('types') > keys.indexOf(runtimeKey)) {
    out.push(`${where}: "types" must come before "${runtimeKey}"`);
  }
  return out;
}

function checkExports(pkg) {
  const { exports } = pkg.json;
  if (exports === undefined) return ['no "exports" map'];
  if (exports === null || typeof exports !== 'object' || Array.isArray(exports)) {
    return [`"exports" must be an object keyed by subpath, got ${JSON.stringify(exports)}`];
  }
  const out = [];
  if (!('.' in exports)) out.push('exports has no "." entry');
  for (const [subpath, entry] of Object.entries(exports)) {
    if (!subpath.startsWith('.')) {
      out.push(`exports key "${subpath}" is a condition, not a subpath; put the conditions under "."`);
      continue;
    }
    if (subpath === './package.json') continue;
    out.push(...checkExportEntry(pkg, subpath, entry));
  }
  if (exports['./package.json'] !== './package.json') {
    out.push(`exports["./package.json"] must be "./package.json" (tools read it), got ${JSON.stringify(exports['./package.json'])}`);
  }
  return out;
}

const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

/** Workspace packages (all of them, from pnpm-workspace.yaml) for the cycle check. */
function workspacePackages() {
  const found = new Map(packages.map((p) => [p.name, p.json]));
  const yamlPath = join(root, 'pnpm-workspace.yaml');
  if (!existsSync(yamlPath)) return found;
  const globs = [];
  let inPackages = false;
  for (const line of readFileSync(yamlPath, 'utf8').split('\n')) {
    if (/^packages:\s*$/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    else if (inPackages) {
      const m = line.match(/^\s*-\s*["']?([^"'#]+?)["']?\s*(#.*)?$/);
      if (m) globs.push(m[1]);
    }
  }
  for (const glob of globs) {
    if (glob.startsWith('!')) continue;
    const dirs = glob.endsWith('/*')
      ? (isDir(join(root, glob.slice(0, -2))) ? readdirSync(join(root, glob.slice(0, -2))).map((d) => join(root, glob.slice(0, -2), d)) : [])
      : [join(root, glob)];
    for (const dir of dirs) {
      try {
        const json = readJson(join(dir, 'package.json'));
        if (json.name && !found.has(json.name)) found.set(json.name, json);
      } catch {
        // not a package
      }
    }
  }
  return found;
}

const workspace = workspacePackages();
/** name -> workspace dependency names (all dependency fields). */
const graph = new Map(
  [...workspace].map(([name, json]) => [
    name,
    [...new Set(DEP_FIELDS.flatMap((f) => Object.keys(json[f] ?? {})).filter((d) => workspace.has(d)))].sort(),
  ]),
);

/** Packages core depends on (transitively, runtime fields only): they cannot peer-depend on core. */
function coreDependencyClosure() {
  const closure = new Set();
  const stack = [CORE];
  while (stack.length) {
    const json = workspace.get(stack.pop());
    if (!json) continue;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dep of Object.keys(json[field] ?? {})) {
        if (workspace.has(dep) && !closure.has(dep) && dep !== CORE) {
          closure.add(dep);
          stack.push(dep);
        }
      }
    }
  }
  return closure;
}
const coreDeps = coreDependencyClosure();

for (const pkg of packages.filter((p) => p.selected)) {
  const { dir, name, json } = pkg;
  if (!isFile(join(dir, 'README.md'))) report(name, 'readme', 'no README.md (what it does, install, a usage example, options)');
  if (!isFile(join(dir, 'src/index.ts'))) report(name, 'entry', 'no src/index.ts');
  const tests = listFiles(join(dir, 'src')).filter((f) => f.endsWith('.test.ts'));
  if (tests.length === 0) report(name, 'tests', 'no src/**/*.test.ts test file (tests live beside the code)');
  if (!isFile(join(dir, 'typedoc.json'))) report(name, 'typedoc', 'no typedoc.json');
  else {
    try {
      readJson(join(dir, 'typedoc.json'));
    } catch (error) {
      report(name, 'typedoc', `typedoc.json does not parse (${error.message})`);
    }
  }
  const missingScripts = REQUIRED_SCRIPTS.filter((s) => typeof json.scripts?.[s] !== 'string');
  if (missingScripts.length) report(name, 'scripts', `missing script(s) ${missingScripts.join(', ')} in package.json`);
  for (const detail of checkExports(pkg)) report(name, 'exports', detail);
  if (json.type !== 'module') report(name, 'type-module', `"type" is ${JSON.stringify(json.type)}; expected "module"`);
  if (json.sideEffects !== false) report(name, 'side-effects', `"sideEffects" is ${JSON.stringify(json.sideEffects)}; expected false`);
  const files = Array.isArray(json.files) ? json.files : undefined;
  if (!files) report(name, 'files', '"files" is missing; expected a list that includes "dist"');
  else if (!files.some((f) => /^(\.\/)?dist(\/(\*\*(\/\*)?)?)?$/.test(f))) {
    report(name, 'files', `"files" ${JSON.stringify(files)} does not include "dist"`);
  }
  if (name !== CORE && !coreDeps.has(name)) {
    const peer = json.peerDependencies?.[CORE];
    const dev = json.devDependencies?.[CORE];
    if (peer === undefined) report(name, 'peer-core', `"${CORE}" is not in peerDependencies (add "${CORE}": "^<core version>")`);
    else if (peer.startsWith('workspace:')) report(name, 'peer-core', `peerDependencies["${CORE}"] is "${peer}"; use a semver range such as "^0.1.0"`);
    if (json.dependencies?.[CORE] !== undefined) report(name, 'peer-core', `"${CORE}" is in dependencies; it must be a peerDependency (one core per app)`);
    if (peer !== undefined && !dev?.startsWith('workspace:')) {
      report(name, 'peer-core', `devDependencies["${CORE}"] is ${JSON.stringify(dev)}; expected "workspace:^" so tests use the local core`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cycles (Tarjan's strongly connected components; one line per cycle, reported on its first member)

function findCycles() {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  const visit = (v) => {
    indices.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)));
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) visit(v);
  return components;
}

/** A concrete path start -> ... -> start inside one component (breadth-first: a shortest one). */
function cyclePath(component) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}

function whichFields(from, to) {
  const json = workspace.get(from);
  return DEP_FIELDS.filter((f) => json?.[f]?.[to] !== undefined);
}

for (const component of findCycles()) {
  const path = cyclePath(component);
  const involved = packages.filter((p) => p.selected && component.includes(p.name));
  if (involved.length === 0) continue;
  const hops = path.slice(0, -1).map((from, i) => `${from} -(${whichFields(from, path[i + 1]).join('+')})-> `).join('');
  report(involved[0].name, 'cycle', `dependency cycle ${hops}${path.at(-1)}`);
}

// ---------------------------------------------------------------------------------------------
// publint (on the built package; packs with npm so the "files" list is honoured)

async function runPublint(pkgs) {
  let publint;
  let formatMessage;
  try {
    ({ publint } = await import('publint'));
    ({ formatMessage } = await import('publint/utils'));
  } catch (error) {
    for (const pkg of pkgs) report(pkg.name, 'publint', `cannot load publint (${error.message}); run pnpm install`);
    return;
  }
  const queue = pkgs.filter((pkg) => {
    if (isDir(join(pkg.dir, 'dist'))) return true;
    report(pkg.name, 'publint', 'not built: run pnpm build');
    return false;
  });
  const worker = async () => {
    for (let pkg = queue.shift(); pkg; pkg = queue.shift()) {
      try {
        const { messages, pkg: manifest } = await publint({ pkgDir: pkg.dir, pack: 'npm', strict: true, level: 'suggestion' });
        for (const message of messages) {
          const text = (formatMessage(message, manifest, { color: false }) ?? message.code).replace(/\s+/g, ' ').trim();
          report(pkg.name, 'publint', `${message.type} ${message.code}: ${text}`);
        }
      } catch (error) {
        report(pkg.name, 'publint', `publint failed: ${String(error.message ?? error).split('\n')[0]}`);
      }
    }
  };
  const workers = Math.max(1, Math.min(4, availableParallelism()));
  await Promise.all(Array.from({ length: workers }, worker));
}

const checked = packages.filter((p) => p.selected);
if (!args['skip-publint']) await runPublint(checked.filter((p) => !problems.some((line) => line.startsWith(`${p.name}: package-json:`))));

// ---------------------------------------------------------------------------------------------

if (problems.length) {
  const order = new Map(selectedFolders.map((f, i) => [SCOPE + f, i]));
  const sorted = problems
    .map((line, i) => ({ line, i, pkg: order.get(line.slice(0, line.indexOf(':'))) ?? Infinity }))
    .sort((a, b) => a.pkg - b.pkg || a.i - b.i)
    .map((p) => p.line);
  for (const line of sorted) console.log(line);
  const failing = new Set(sorted.map((line) => line.slice(0, line.indexOf(':'))));
  console.error(
    `check-packages: ${sorted.length} problem(s) in ${failing.size} of ${selectedFolders.length} package(s) under ${relative(process.cwd(), packagesDir) || '.'}`,
  );
  process.exit(1);
}
console.log(
  `check-packages: ${checked.length} package(s) conform (readme, entry, tests, typedoc, scripts, exports, type-module, side-effects, files, peer-core, cycle${args['skip-publint'] ? '; publint skipped' : ', publint'}).`,
);
