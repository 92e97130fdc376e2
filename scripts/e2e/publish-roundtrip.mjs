#!/usr/bin/env node
// Publish round trip on a real registry, on loopback only:
//   1. start verdaccio 5 on 127.0.0.1 (temporary storage; `@luzts/*` is published here and never
//      looked up elsewhere; every other package is proxied to the registry this machine's npm uses,
//      read at run time from `npm config get registry`);
//   2. copy the repository to a temporary folder (without node_modules, .git and build outputs),
//      install it, apply the pending changesets (`changeset version`), build the packages and
//      publish every public package to verdaccio with `pnpm publish -r` (which rewrites the
//      `workspace:` ranges);
//   3. in an empty folder, `npm install @luzts/mixup` from verdaccio — nothing else by hand: npm 7+
//      installs the peer dependencies (@luzts/core, TensorFlow.js) — and run a short training script
//      with luzCallbackMixup that prints a loss.
// Starts and stops its own registry; exits 0 on success. Every step is time-bounded (the whole run
// takes a few minutes).
//
// usage: node scripts/e2e/publish-roundtrip.mjs [--keep]   (--keep leaves the temporary folder)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const keep = process.argv.includes('--keep');
const started = performance.now();
const timings = {};
const work = mkdtempSync(join(tmpdir(), 'luzts-publish-'));
let registryProcess;

const log = (message) => console.log(`publish-roundtrip: ${message}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function fail(message, output = '') {
  if (output) console.log(output.trim().split('\n').slice(-60).join('\n'));
  console.log(`publish-roundtrip: FAILED: ${message}`);
  console.log('0 passed, 1 failed');
  cleanup();
  process.exit(1);
}

function cleanup() {
  if (registryProcess && registryProcess.exitCode === null) registryProcess.kill('SIGTERM');
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
process.on('SIGINT', () => fail('interrupted'));

/** Runs a command (no shell), bounded in time; returns its output or fails the run. */
function run(step, command, args, { cwd, timeoutS = 180, env = {} } = {}) {
  const t0 = performance.now();
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', CI: 'true', npm_config_update_notifier: 'false', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  timings[step] = (timings[step] ?? 0) + (performance.now() - t0);
  if (result.error) fail(`${step}: ${result.error.message}`, output);
  if (result.status !== 0) fail(`${step}: \`${command} ${args.join(' ')}\` exited ${result.status}`, output);
  return output;
}

/** The pnpm to use: the one running this script (`pnpm test:e2e`), else the repository's pinned one. */
function pnpmCommand() {
  const execpath = process.env.npm_execpath ?? '';
  if (/pnpm/.test(execpath) && existsSync(execpath)) return [process.execPath, [execpath]];
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return ['pnpm', []];
  const { packageManager } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  return ['npx', ['--yes', packageManager]];
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, timeoutS) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      /* not up yet */
    }
    if (registryProcess.exitCode !== null) fail(`verdaccio exited with code ${registryProcess.exitCode}`);
    if (Date.now() > deadline) fail(`verdaccio did not answer on ${url} within ${timeoutS} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---- 1. the registry --------------------------------------------------------------------------
const upstream = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: work }).stdout.trim();
if (!/^https?:\/\//.test(upstream)) fail(`\`npm config get registry\` gave ${JSON.stringify(upstream)}`);
const requireFromDocs = createRequire(join(repo, 'apps/docs/package.json'));
let verdaccioBin;
try {
  verdaccioBin = join(dirname(requireFromDocs.resolve('verdaccio/package.json')), 'bin/verdaccio');
} catch {
  fail('verdaccio is not installed: run `pnpm install` (it is a devDependency of @luzts/docs)');
}
const port = await freePort();
const registry = `http://127.0.0.1:${port}/`;
const storage = join(work, 'registry');
mkdirSync(storage, { recursive: true });
const config = join(storage, 'config.yaml');
writeFileSync(
  config,
  [
    `storage: ${JSON.stringify(join(storage, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(storage, 'htpasswd'))}`,
    '    max_users: 10',
    'uplinks:',
    '  upstream:',
    `    url: ${JSON.stringify(upstream)}`,
    '    timeout: 60s',
    '    max_fails: 5',
    'packages:',
    "  '@luzts/*':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: upstream',
    'server:',
    '  keepAliveTimeout: 60',
    'security:',
    '  api:',
    '    legacy: true',
    'publish:',
    '  allow_offline: false',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n'),
);
let t0 = performance.now();
registryProcess = spawn(process.execPath, [verdaccioBin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
let registryLog = '';
registryProcess.stdout.on('data', (d) => (registryLog += d));
registryProcess.stderr.on('data', (d) => (registryLog += d));
await waitFor(`${registry}-/ping`, 60);
timings.registry = performance.now() - t0;
log(`verdaccio ${requireFromDocs('verdaccio/package.json').version} on ${registry} (other packages proxied to the npm registry configured on this machine)`);

// A publishing user (verdaccio's htpasswd auth; `npm adduser` does the same request).
const user = { name: 'luzts-e2e', password: 'luzts-e2e-password', email: 'e2e@luzts.invalid' };
const added = await fetch(`${registry}-/user/org.couchdb.user:${user.name}`, {
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ _id: `org.couchdb.user:${user.name}`, type: 'user', roles: [], date: new Date().toISOString(), ...user }),
});
const { token } = await added.json().catch(() => ({}));
if (!added.ok || !token) fail(`could not create a user on verdaccio (HTTP ${added.status})`, registryLog);
const npmrc = [`registry=${registry}`, `//127.0.0.1:${port}/:_authToken=${token}`, 'auto-install-peers=true', 'strict-peer-dependencies=false', ''].join('\n');

// ---- 2. copy, version, build, publish --------------------------------------------------------
t0 = performance.now();
const copy = join(work, 'repo');
const SKIP = new Set(['node_modules', '.git', '.turbo', 'dist', '.tmp', 'coverage', '.guide-examples']);
cpSync(repo, copy, {
  recursive: true,
  filter: (src) => {
    const rel = relative(repo, src);
    if (!rel) return true;
    const parts = rel.split(sep);
    if (parts.some((p) => SKIP.has(p))) return false;
    if (rel === join('apps', 'docs', 'site') || (parts[0] === 'packages' && parts[2] === 'docs')) return false;
    return true;
  },
});
// The copy's own .npmrc (the repository's settings + this registry) makes pnpm publish there.
writeFileSync(join(copy, '.npmrc'), `${existsSync(join(repo, '.npmrc')) ? readFileSync(join(repo, '.npmrc'), 'utf8').trimEnd() + '\n' : ''}${npmrc}`);
timings.copy = performance.now() - t0;

const [pnpm, pnpmArgs] = pnpmCommand();
// Installs from the machine's pnpm store where it can (the lockfile's registry URLs are not used
// for resolution by a frozen install of a registry that proxies the same packages).
log('installing the copy (pnpm install --frozen-lockfile)…');
run('install', pnpm, [...pnpmArgs, 'install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only'], { cwd: copy, timeoutS: 240 });
log('applying the pending changesets (changeset version)…');
run('version', pnpm, [...pnpmArgs, 'exec', 'changeset', 'version'], { cwd: copy, timeoutS: 60 });
const packages = readdirSync(join(copy, 'packages'))
  .filter((d) => existsSync(join(copy, 'packages', d, 'package.json')))
  .map((d) => JSON.parse(readFileSync(join(copy, 'packages', d, 'package.json'), 'utf8')))
  .filter((p) => !p.private);
log(`versions after changeset version: ${packages.map((p) => `${p.name}@${p.version}`).join(', ')}`);
log('building the packages…');
run('build', pnpm, [...pnpmArgs, 'exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--concurrency=2', '--output-logs=errors-only'], { cwd: copy, timeoutS: 300 });
log('publishing every package to verdaccio (pnpm publish -r)…');
run('publish', pnpm, [...pnpmArgs, 'publish', '-r', '--filter', './packages/*', '--no-git-checks', '--access', 'public', '--registry', registry], { cwd: copy, timeoutS: 240 });
for (const p of packages) {
  const response = await fetch(`${registry}${p.name.replace('/', '%2f')}`);
  const doc = response.ok ? await response.json() : undefined;
  if (!doc?.versions?.[p.version]) fail(`${p.name}@${p.version} is not on verdaccio after publishing`, registryLog);
  const manifest = doc.versions[p.version];
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) fail(`${p.name}@${p.version} was published with ${field}.${dep} = ${range}`);
    }
  }
}
log(`published ${packages.length} packages`);

// ---- 3. install @luzts/mixup alone in an empty folder and train ---------------------------------
const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'luzts-e2e-app', private: true, type: 'module' }, null, 2)}\n`);
writeFileSync(join(app, '.npmrc'), `registry=${registry}\n`);
log('npm install @luzts/mixup (nothing else) in an empty folder…');
run('npm install', 'npm', ['install', '@luzts/mixup', '--registry', registry, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeoutS: 240 });
const installed = (scope) => (existsSync(join(app, 'node_modules', scope)) ? readdirSync(join(app, 'node_modules', scope)) : []);
log(`installed: @luzts/{${installed('@luzts').join(',')}} @tensorflow/{${installed('@tensorflow').join(',')}}`);
for (const needed of ['@luzts/core', '@luzts/losses', '@luzts/mixup', '@tensorflow/tfjs']) {
  if (!existsSync(join(app, 'node_modules', needed, 'package.json'))) fail(`installing @luzts/mixup did not bring ${needed}`);
}
const direct = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies ?? {};
if (Object.keys(direct).join() !== '@luzts/mixup') fail(`the app depends on ${Object.keys(direct).join(', ')}, expected @luzts/mixup only`);

writeFileSync(
  join(app, 'train.mjs'),
  `// Trains a tiny classifier with mixup from the published packages.
import * as tf from '@tensorflow/tfjs';
import { fit, setup } from '@luzts/core';
import { luzCallbackMixup } from '@luzts/mixup';

const x = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
const y = x.sum(1).greater(0).toInt(); // two classes, 0-based int32 labels
const perSampleCrossEntropy = (pred, target) =>
  tf.losses.softmaxCrossEntropy(tf.oneHot(target, 2), pred, undefined, undefined, tf.Reduction.NONE);
const module = setup(
  () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), tf.layers.dense({ units: 2 })] }),
  { loss: perSampleCrossEntropy, optimizer: () => tf.train.adam(0.05) },
);
const fitted = await fit(module, [x, y], { epochs: 3, seed: 1, verbose: false, callbacks: [luzCallbackMixup({ alpha: 0.4, autoLoss: true })] });
const loss = fitted.records.metrics.train.at(-1).loss;
if (!Number.isFinite(loss)) throw new Error('the loss is not finite: ' + loss);
console.log('backend ' + tf.getBackend() + ', loss after 3 epochs: ' + loss.toFixed(4));
`,
);
const trained = run('train', process.execPath, ['train.mjs'], { cwd: app, timeoutS: 120 });
const line = trained.split('\n').find((l) => l.startsWith('backend '));
if (!line) fail('train.mjs printed no loss', trained);
log(`train.mjs: ${line}`);

cleanup();
const total = performance.now() - started;
log(`timings: ${Object.entries(timings).map(([k, v]) => `${k} ${seconds(v)}`).join(', ')}; total ${seconds(total)}`);
log('PASSED');
console.log('1 passed, 0 failed');
