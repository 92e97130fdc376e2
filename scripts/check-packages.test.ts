// Tests of scripts/check-packages.mjs on fixture workspaces written to a temporary folder.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { problemLines, runScript, tempDir, writeFiles } from './test-helpers.js';

/** package.json of a conformant fixture package; `extra` is merged over it. */
function manifest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const isCore = name === 'core';
  return {
    name: `@luzts/${name}`,
    version: '0.1.0',
    description: `Fixture ${name}.`,
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': { '@luzts/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'src', '!src/**/*.test.ts', 'README.md'],
    scripts: { build: 'tsc', typecheck: 'tsc --noEmit', test: 'vitest run', lint: 'publint --strict' },
    ...(isCore ? {} : { peerDependencies: { '@luzts/core': '^0.1.0' }, devDependencies: { '@luzts/core': 'workspace:^' } }),
    ...extra,
  };
}

/** Writes a conformant, "built" fixture package packages/<name>. */
function writePackage(root: string, name: string, extra: Record<string, unknown> = {}): string {
  const dir = join(root, 'packages', name);
  writeFiles(dir, {
    'package.json': manifest(name, extra),
    'README.md': `# @luzts/${name}\n`,
    'typedoc.json': { entryPoints: ['src/index.ts'] },
    'src/index.ts': 'export const answer = 42;\n',
    'src/index.test.ts': "import { expect, it } from 'vitest';\nit('works', () => expect(1).toBe(1));\n",
    'dist/index.js': 'export const answer = 42;\n',
    'dist/index.d.ts': 'export declare const answer = 42;\n',
  });
  return dir;
}

describe('check-packages', () => {
  let root: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir: root, cleanup } = tempDir('check'));
    writeFiles(root, { 'package.json': { name: 'fixture-root', private: true }, 'pnpm-workspace.yaml': 'packages:\n  - "packages/*"\n' });
    writePackage(root, 'core');
    writePackage(root, 'good');
  });
  afterEach(() => cleanup());

  const check = (...args: string[]) => runScript('check-packages.mjs', ['--root', root, ...args]);

  it('passes conformant packages (publint included) with a one-line summary and exit 0', () => {
    const result = check();
    expect(result.status, result.output).toBe(0);
    expect(result.stdout.trim()).toMatch(/^check-packages: 2 package\(s\) conform \(.*publint\)\.$/);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('fails with one clear line when a package has no README', () => {
    rmSync(join(root, 'packages/good/README.md'));
    const result = check();
    expect(result.status).toBe(1);
    expect(problemLines(result)).toEqual(['@luzts/good: readme: no README.md (what it does, install, a usage example, options)']);
  });

  it('fails with one clear line when a package has no test file', () => {
    rmSync(join(root, 'packages/good/src/index.test.ts'));
    const result = check();
    expect(result.status).toBe(1);
    expect(problemLines(result)).toEqual(['@luzts/good: tests: no src/**/*.test.ts test file (tests live beside the code)']);
  });

  it('finds tests in nested folders of src/', () => {
    rmSync(join(root, 'packages/good/src/index.test.ts'));
    writeFiles(root, { 'packages/good/src/deep/er/thing.test.ts': "import { it } from 'vitest';\nit('x', () => {});\n" });
    expect(check('--skip-publint').status).toBe(0);
  });

  it('reports a package that is not built instead of linting it', () => {
    rmSync(join(root, 'packages/good/dist'), { recursive: true });
    const result = check();
    expect(result.status).toBe(1);
    expect(problemLines(result)).toEqual(['@luzts/good: publint: not built: run pnpm build']);
  });

  it('reports what publint finds in the built package', () => {
    rmSync(join(root, 'packages/good/dist/index.d.ts'));
    const lines = problemLines(check());
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.startsWith('@luzts/good: publint: '))).toBe(true);
    expect(lines.join('\n')).toMatch(/FILE_DOES_NOT_EXIST.*index\.d\.ts/);
  });

  it('reports missing entry, typedoc.json, scripts, type, sideEffects and dist in files, one line each', () => {
    rmSync(join(root, 'packages/good/typedoc.json'));
    writeFiles(root, {
      'packages/good/package.json': manifest('good', {
        type: 'commonjs',
        sideEffects: true,
        files: ['src'],
        scripts: { build: 'tsc', typecheck: 'tsc --noEmit' },
        exports: { '.': { '@luzts/source': './src/main.ts', types: './dist/main.d.ts', default: './dist/main.js' }, './package.json': './package.json' },
      }),
      'packages/good/src/main.ts': 'export {};\n',
    });
    rmSync(join(root, 'packages/good/src/index.ts'));
    const lines = problemLines(check('--skip-publint'));
    expect(lines).toEqual([
      '@luzts/good: entry: no src/index.ts',
      '@luzts/good: typedoc: no typedoc.json',
      '@luzts/good: scripts: missing script(s) test, lint in package.json',
      '@luzts/good: type-module: "type" is "commonjs"; expected "module"',
      '@luzts/good: side-effects: "sideEffects" is true; expected false',
      '@luzts/good: files: "files" ["src"] does not include "dist"',
    ]);
  });

  it('checks the exports map: source condition, dist targets, their order and ./package.json', () => {
    writeFiles(root, {
      'packages/good/package.json': manifest('good', {
        exports: {
          '.': { types: './dist/other.d.ts', default: './lib/index.js', '@luzts/source': './src/missing.ts' },
          './extra': { '@luzts/source': './src/index.ts', default: './dist/index.js' },
        },
      }),
    });
    const lines = problemLines(check('--skip-publint'));
    expect(lines).toEqual([
      '@luzts/good: exports: exports["."]["@luzts/source"] points at ./src/missing.ts, which does not exist',
      '@luzts/good: exports: exports["."]: "@luzts/source" must be the first condition (conditions match in order), found "types" first',
      '@luzts/good: exports: exports["."].default is "./lib/index.js"; expected ./dist/**/*.js',
      '@luzts/good: exports: exports["./extra"] has no "types" condition pointing at dist/*.d.ts',
      '@luzts/good: exports: exports["./package.json"] must be "./package.json" (tools read it), got undefined',
    ]);
  });

  it('requires the dist targets to match the source file', () => {
    writeFiles(root, {
      'packages/good/package.json': manifest('good', {
        exports: {
          '.': { '@luzts/source': './src/index.ts', types: './dist/other.d.ts', import: './dist/other.js' },
          './package.json': './package.json',
        },
      }),
    });
    expect(problemLines(check('--skip-publint'))).toEqual([
      '@luzts/good: exports: exports["."].types is "./dist/other.d.ts" but the source is "./src/index.ts"; expected "./dist/index.d.ts"',
      '@luzts/good: exports: exports["."].import is "./dist/other.js" but the source is "./src/index.ts"; expected "./dist/index.js"',
    ]);
  });

  it('requires @luzts/core as a peer dependency, except for core and the packages core depends on', () => {
    writePackage(root, 'kernels', { peerDependencies: {}, devDependencies: {} });
    writePackage(root, 'orphan', { peerDependencies: {}, devDependencies: {} });
    writePackage(root, 'pinned', { dependencies: { '@luzts/core': '^0.1.0' }, peerDependencies: { '@luzts/core': 'workspace:^' } });
    writePackage(root, 'registry', { devDependencies: { '@luzts/core': '^0.1.0' } });
    writeFiles(root, { 'packages/core/package.json': manifest('core', { dependencies: { '@luzts/kernels': 'workspace:^' } }) });
    expect(problemLines(check('--skip-publint'))).toEqual([
      '@luzts/orphan: peer-core: "@luzts/core" is not in peerDependencies (add "@luzts/core": "^<core version>")',
      '@luzts/pinned: peer-core: peerDependencies["@luzts/core"] is "workspace:^"; use a semver range such as "^0.1.0"',
      '@luzts/pinned: peer-core: "@luzts/core" is in dependencies; it must be a peerDependency (one core per app)',
      '@luzts/registry: peer-core: devDependencies["@luzts/core"] is "^0.1.0"; expected "workspace:^" so tests use the local core',
    ]);
  });

  it('reports a dependency cycle once, with the path and the fields that make it', () => {
    writePackage(root, 'kernels', { peerDependencies: {}, devDependencies: { '@luzts/core': 'workspace:^' } });
    writeFiles(root, { 'packages/core/package.json': manifest('core', { dependencies: { '@luzts/kernels': 'workspace:^' } }) });
    expect(problemLines(check('--skip-publint'))).toEqual([
      '@luzts/core: cycle: dependency cycle @luzts/core -(dependencies)-> @luzts/kernels -(devDependencies)-> @luzts/core',
    ]);
  });

  it('checks the package name against its folder', () => {
    writeFiles(root, { 'packages/good/package.json': manifest('good', { name: '@luzts/better' }) });
    expect(problemLines(check('--skip-publint'))).toEqual([
      '@luzts/good: package-json: "name" is "@luzts/better"; expected "@luzts/good" (the folder name, scoped)',
    ]);
  });

  it('--only limits the check to the named packages', () => {
    rmSync(join(root, 'packages/core/README.md'));
    rmSync(join(root, 'packages/good/README.md'));
    expect(problemLines(check('--only', 'good', '--skip-publint'))).toEqual([expect.stringMatching(/^@luzts\/good: readme: /)]);
    const ok = check('--only', '@luzts/core,good', '--skip-publint');
    expect(problemLines(ok)).toHaveLength(2);
  });

  it('exits 2 with a usage message on bad arguments', () => {
    const unknown = check('--only', 'nope');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--only nope: no package folder packages/nope');
    const badFlag = check('--frobnicate');
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toMatch(/usage: node scripts\/check-packages\.mjs/);
  });

  it('reports a package.json that does not parse', () => {
    writeFileSync(join(root, 'packages/good/package.json'), '{ "name": ');
    const lines = problemLines(check('--skip-publint'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^@luzts\/good: package-json: package\.json does not parse/);
  });
});
