#!/usr/bin/env node
// `pnpm new-callback <name> [--description "..."] [--root <dir>]`: creates packages/<name>
// (@luzts/<name>), a working callback package that passes the conformance check
// (scripts/check-packages.mjs) and its own test, plus .changeset/<name>-initial.md.
// --root points it at another copy of the repository (the tests use a scratch copy).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = 'usage: pnpm new-callback <name> [--description "One sentence."] [--root <repo dir>]   (name in kebab-case, e.g. "print-loss")';

function fail(message) {
  console.error(`new-callback: ${message}`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      description: { type: 'string' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
} catch (error) {
  fail(`${error.message}\n${USAGE}`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length === 0) fail(USAGE);
if (positionals.length > 1) fail(`expected one package name, got ${positionals.length}: ${positionals.join(' ')}\n${USAGE}`);

const scriptsDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(values.root ?? join(scriptsDir, '..'));
// "@luzts/print-loss" is accepted and means "print-loss".
const name = positionals[0].startsWith('@luzts/') ? positionals[0].slice('@luzts/'.length) : positionals[0];
const description = values.description;

if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
  fail(`'${positionals[0]}' is not a kebab-case package name: use lower-case letters and digits in words joined by single hyphens, starting with a letter (e.g. "print-loss").`);
}
if (name.length > 50) fail(`'${name}' is ${name.length} characters long; keep package names under 50.`);
if (description !== undefined && (description.trim() === '' || /[\r\n]/.test(description))) {
  fail('--description must be one non-empty line.');
}
if (!existsSync(join(root, 'packages'))) fail(`${root} has no packages/ folder (is --root the repository root?).`);
const corePackageJson = join(root, 'packages/core/package.json');
if (!existsSync(corePackageJson)) fail(`${corePackageJson} not found: new packages peer-depend on @luzts/core.`);
const dir = join(root, 'packages', name);
if (existsSync(dir)) fail(`packages/${name} already exists; pick another name or remove that folder.`);
const changeset = join(root, '.changeset', `${name}-initial.md`);
if (existsSync(changeset)) fail(`.changeset/${name}-initial.md already exists; remove it or pick another name.`);

const words = name.split('-');
const pascal = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
const vars = {
  NAME: name,
  PASCAL: pascal,
  FACTORY: `luzCallback${pascal}`,
  SNAKE: `${words.join('_')}_callback`,
  DESCRIPTION: description ?? `A luzts callback: ${words.join(' ')}.`,
  CORE_VERSION: JSON.parse(readFileSync(corePackageJson, 'utf8')).version,
};
const fill = (text) => text.replace(/__([A-Z_]+)__/g, (m, k) => (k in vars ? vars[k] : m));
// Templates come from this script's own folder, so --root copies need not carry them.
const templates = join(scriptsDir, 'templates/callback');
const files = {
  'package.json': 'package.json.tmpl',
  'tsconfig.json': 'tsconfig.json.tmpl',
  'tsconfig.build.json': 'tsconfig.build.json.tmpl',
  'typedoc.json': 'typedoc.json.tmpl',
  'README.md': 'README.md.tmpl',
  'src/index.ts': 'index.ts.tmpl',
  'src/index.test.ts': 'index.test.ts.tmpl',
};
for (const [target, template] of Object.entries(files)) {
  const path = join(dir, target);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, fill(readFileSync(join(templates, template), 'utf8')));
}
mkdirSync(dirname(changeset), { recursive: true });
writeFileSync(changeset, `---\n"@luzts/${name}": minor\n---\n\nNew package @luzts/${name}: ${vars.DESCRIPTION}\n`);
console.log(`Created packages/${name} (@luzts/${name}) and .changeset/${name}-initial.md.`);
console.log(`Next: pnpm install, then \`pnpm --filter @luzts/${name} test\` and \`pnpm check:packages --only ${name}\` (after \`pnpm --filter @luzts/${name}... build\`).`);
