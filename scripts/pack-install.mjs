#!/usr/bin/env node
// `node scripts/pack-install.mjs [package]` (default mixup): packs the package and the workspace
// packages it depends on with `pnpm pack` (workspace ranges become real versions), installs the
// tarballs with plain npm into an empty folder, and runs a 20-line training script there.
// Packages must be built first (`pnpm build`). Prints the folder and the script's output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? 'mixup';

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_yes: 'true' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The workspace packages `name` needs at runtime (dependencies and peer dependencies), itself included. */
function closure(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (dep.startsWith('@luzts/')) closure(dep.slice('@luzts/'.length), seen);
  }
  return seen;
}

const work = mkdtempSync(join(tmpdir(), 'luzts-pack-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);
try {
  const packages = [...closure(target)];
  const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
  for (const name of packages) sh('npx', ['--yes', pnpm, 'pack', '--pack-destination', tarballs], join(root, 'packages', name));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
  sh('npm', ['install', '--no-audit', '--no-fund', ...files], app);
  writeFileSync(
    join(app, 'train.mjs'),
    `import * as tf from '@tensorflow/tfjs';
import { setup, fit, luzMetricSet } from '@luzts/core';
import { nnCrossEntropyLoss } from '@luzts/losses';
import { luzCallbackMixup } from '@luzts/mixup';

const x = tf.randomNormal([256, 8], 0, 1, 'float32', 1);
const y = x.slice([0, 0], [256, 1]).reshape([256]).greater(0).toInt();
const module = setup(
  () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }), tf.layers.dense({ units: 2 })] }),
  { loss: nnCrossEntropyLoss({ reduction: 'none' }), optimizer: () => tf.train.adam(0.01) },
);
const fitted = await fit(module, [x, y], {
  epochs: 3, validData: 0.25, seed: 1, verbose: false, dataloaderOptions: { batchSize: 32 },
  callbacks: [luzCallbackMixup({ autoLoss: true })],
});
console.log('backend', tf.getBackend());
console.log('epochs', fitted.records.metrics.train.length, 'valid loss', fitted.records.metrics.valid.at(-1).loss.toFixed(4));
`,
  );
  const out = sh(process.execPath, ['train.mjs'], app);
  const installed = readdirSync(join(app, 'node_modules', '@luzts')).sort();
  console.log(JSON.stringify({ folder: app, packed: packages.map((p) => `@luzts/${p}`).sort(), installed: installed.map((p) => `@luzts/${p}`), output: out.trim() }, null, 2));
} finally {
  if (!process.env.KEEP_PACK_DIR) rmSync(work, { recursive: true, force: true });
}
