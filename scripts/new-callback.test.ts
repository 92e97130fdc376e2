// Tests of scripts/new-callback.mjs: the scaffold is run on a cheap scratch copy of the repository
// (root config files only; node_modules and packages/core are symlinks to this checkout's), then
// the new package is built, typechecked, checked for conformance and its own test is run.
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run, runScript, tempDir, writeFiles } from './test-helpers.js';

const bin = (name: string) => join(repoRoot, 'node_modules/.bin', name);
const ROOT_FILES = ['package.json', 'tsconfig.base.json', 'vitest.config.ts', 'typedoc.base.json', 'pnpm-workspace.yaml', '.changeset/config.json'];

/** A scratch repository: the root config files, with node_modules and packages/core linked to ours. */
function scratchRepo(dir: string): void {
  for (const file of ROOT_FILES) writeFiles(dir, { [file]: readFileSync(join(repoRoot, file), 'utf8') });
  mkdirSync(join(dir, 'packages'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  symlinkSync(join(repoRoot, 'packages/core'), join(dir, 'packages/core'), 'dir');
}

/** What `pnpm install` would link into a new callback package: @luzts/core and @tensorflow/tfjs. */
function linkDependencies(pkgDir: string): void {
  mkdirSync(join(pkgDir, 'node_modules/@luzts'), { recursive: true });
  mkdirSync(join(pkgDir, 'node_modules/@tensorflow'), { recursive: true });
  symlinkSync(join(repoRoot, 'packages/core'), join(pkgDir, 'node_modules/@luzts/core'), 'dir');
  const tfjs = realpathSync(join(repoRoot, 'packages/core/node_modules/@tensorflow/tfjs'));
  symlinkSync(tfjs, join(pkgDir, 'node_modules/@tensorflow/tfjs'), 'dir');
}

describe('new-callback', () => {
  let root: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir: root, cleanup } = tempDir('scaffold'));
    scratchRepo(root);
    // The new package's build compiles against core's declarations (dist/), as `pnpm build` does.
    if (!existsSync(join(repoRoot, 'packages/core/dist/index.d.ts'))) {
      const built = run(bin('turbo'), ['run', 'build', '--filter=@luzts/core...', '--concurrency=2', '--output-logs=errors-only']);
      expect(built.status, `building @luzts/core failed:\n${built.output}`).toBe(0);
    }
  });
  afterAll(() => cleanup());

  it('creates a package that builds, typechecks, passes conformance and its own test', () => {
    const created = runScript('new-callback.mjs', ['demo-thing', '--root', root]);
    expect(created.status, created.output).toBe(0);
    expect(created.stdout).toContain('Created packages/demo-thing (@luzts/demo-thing) and .changeset/demo-thing-initial.md.');

    const pkgDir = join(root, 'packages/demo-thing');
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    const coreVersion = JSON.parse(readFileSync(join(repoRoot, 'packages/core/package.json'), 'utf8')).version;
    expect(manifest.name).toBe('@luzts/demo-thing');
    expect(manifest.peerDependencies['@luzts/core']).toBe(`^${coreVersion}`);
    expect(readFileSync(join(pkgDir, 'src/index.ts'), 'utf8')).toContain('export const luzCallbackDemoThing = luzCallback<DemoThingOptions>({');
    expect(readFileSync(join(pkgDir, 'src/index.ts'), 'utf8')).not.toMatch(/__[A-Z_]+__/);
    expect(readFileSync(join(root, '.changeset/demo-thing-initial.md'), 'utf8')).toBe(
      '---\n"@luzts/demo-thing": minor\n---\n\nNew package @luzts/demo-thing: A luzts callback: demo thing.\n',
    );

    linkDependencies(pkgDir);
    const build = run(bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: pkgDir });
    expect(build.status, build.output).toBe(0);
    expect(existsSync(join(pkgDir, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(pkgDir, 'dist/index.test.js'))).toBe(false);

    const typecheck = run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { cwd: pkgDir });
    expect(typecheck.status, typecheck.output).toBe(0);

    const check = runScript('check-packages.mjs', ['--root', root, '--only', 'demo-thing']);
    expect(check.status, check.output).toBe(0);
    expect(check.stdout).toMatch(/^check-packages: 1 package\(s\) conform .*publint\)\.$/m);

    const test = run(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--config', '../../vitest.config.ts'], { cwd: pkgDir });
    expect(test.status, test.output).toBe(0);
    expect(test.stdout).toMatch(/Tests\s+1 passed \(1\)/);
  });

  it('takes --description and a scoped name', () => {
    const created = runScript('new-callback.mjs', ['@luzts/print-loss', '--description', 'Prints the loss.', '--root', root]);
    expect(created.status, created.output).toBe(0);
    const manifest = JSON.parse(readFileSync(join(root, 'packages/print-loss/package.json'), 'utf8'));
    expect(manifest.name).toBe('@luzts/print-loss');
    expect(manifest.description).toBe('Prints the loss.');
    expect(readFileSync(join(root, 'packages/print-loss/README.md'), 'utf8')).toContain('luzCallbackPrintLoss');
  });

  it.each([
    ['DemoThing'],
    ['demo_thing'],
    ['demo--thing'],
    ['demo-'],
    ['1demo'],
    ['@other/demo'],
    ['../escape'],
  ])('rejects the bad name %j with a clear message and creates nothing', (name) => {
    const result = runScript('new-callback.mjs', [name, '--root', root]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`new-callback: '${name}' is not a kebab-case package name`);
    expect(result.stderr).toContain('(e.g. "print-loss")');
  });

  it('rejects an existing folder with a clear message', () => {
    const result = runScript('new-callback.mjs', ['core', '--root', root]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('new-callback: packages/core already exists; pick another name or remove that folder.');
    expect(existsSync(join(root, '.changeset/core-initial.md'))).toBe(false);
  });

  it('rejects a missing name, extra names and unknown options with the usage line', () => {
    for (const args of [[], ['a-b', 'c-d'], ['a-b', '--frobnicate']]) {
      const result = runScript('new-callback.mjs', [...args, '--root', root]);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr).toContain('usage: pnpm new-callback <name>');
    }
    expect(existsSync(join(root, 'packages/a-b'))).toBe(false);
  });
});
