#!/usr/bin/env node
// Builds the luzts documentation site:
//   1. typedoc (apps/docs/typedoc.json): the API reference of every package found under packages/
//      (entryPointStrategy "packages"; each package's typedoc.json lists its entry points) merged
//      with the guides (guides/*.md) into one site with typedoc's offline search. Validation
//      (notExported, invalidLink, notDocumented) is on and warnings are errors.
//   2. the live page (live/): live/main.ts bundled with esbuild into one ESM file, plus the
//      tfjs wasm backend's .wasm files, copied to <out>/live/.
//
// usage: node scripts/build.mjs [--out <dir>] [--lenient] [--root <repo>] [--no-live]
//   --out      output folder (default: apps/docs/site)
//   --lenient  report typedoc warnings but still write the site (the browser test uses this and
//              checks the warnings separately); without it any warning fails the build
//   --root     a repository whose packages/* are documented instead of this one's (tests)
//   --no-live  skip the live page
// Prints one line per typedoc warning; the last line is a JSON summary
// `{"warnings":[...],"out":"...","typedocMs":...,"liveMs":...}`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const docsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(docsDir, 'package.json'));

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    lenient: { type: 'boolean', default: false },
    root: { type: 'string' },
    'no-live': { type: 'boolean', default: false },
  },
});
const out = resolve(values.out ?? join(docsDir, 'site'));

// ---- 1. typedoc -------------------------------------------------------------------------------
const typedocBin = join(dirname(require.resolve('typedoc/package.json')), 'bin/typedoc');
const args = [typedocBin, '--options', join(docsDir, 'typedoc.json'), '--out', out];
if (values.root) args.push('--entryPoints', join(resolve(values.root), 'packages/*'));
if (values.lenient) args.push('--treatWarningsAsErrors', 'false');
const t0 = performance.now();
const typedoc = spawnSync(process.execPath, args, { cwd: docsDir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
const typedocMs = Math.round(performance.now() - t0);
const output = `${typedoc.stdout ?? ''}${typedoc.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
const warnings = [];
const errors = [];
for (const line of output.split('\n')) {
  const m = /^\[(warning|error)\] (.*)$/.exec(line);
  if (!m || /^Found \d+ errors and \d+ warnings$/.test(m[2])) continue;
  (m[1] === 'warning' ? warnings : errors).push(m[2]);
}
for (const w of warnings) console.log(`docs: typedoc warning: ${w}`);
for (const e of errors) console.log(`docs: typedoc error: ${e}`);
const typedocOk = typedoc.status === 0 && existsSync(join(out, 'index.html'));
if (!typedocOk) {
  if (!warnings.length && !errors.length) console.log(output);
  console.log(
    values.lenient
      ? `docs: typedoc failed (exit ${typedoc.status}).`
      : `docs: typedoc failed (exit ${typedoc.status}): ${warnings.length} warning(s) and ${errors.length} error(s) above; warnings are errors in the docs build (validation: notExported, invalidLink, notDocumented).`,
  );
  console.log(JSON.stringify({ ok: false, warnings, errors, out, typedocMs }));
  process.exit(1);
}

// ---- 2. the live page -------------------------------------------------------------------------
let liveMs = 0;
if (!values['no-live']) {
  const t1 = performance.now();
  const liveOut = join(out, 'live');
  mkdirSync(liveOut, { recursive: true });
  const esbuild = await import(require.resolve('esbuild'));
  await esbuild.build({
    entryPoints: [join(docsDir, 'live/main.ts')],
    outfile: join(liveOut, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    // The packages' sources (the `@luzts/source` export condition): no package build needed.
    conditions: ['@luzts/source'],
    // tfjs-core's node-only code paths are never taken in a browser.
    external: ['node:*'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    legalComments: 'none',
  });
  copyFileSync(join(docsDir, 'live/index.html'), join(liveOut, 'index.html'));
  const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDist)) if (file.endsWith('.wasm')) copyFileSync(join(wasmDist, file), join(liveOut, file));
  liveMs = Math.round(performance.now() - t1);
}
writeFileSync(join(out, '.nojekyll'), '');
console.log(`docs: site written to ${out} (typedoc ${(typedocMs / 1000).toFixed(1)} s${values['no-live'] ? '' : `, live page ${(liveMs / 1000).toFixed(1)} s`}; ${warnings.length} typedoc warning(s)).`);
console.log(JSON.stringify({ ok: true, warnings, errors, out, typedocMs, liveMs }));
