// How `changeset version` bumps packages under this repository's .changeset/config.json
// (independent versions, onlyUpdatePeerDependentsWhenOutOfRange). Each case builds a minimal
// pnpm workspace in a temporary folder, commits it, writes one changeset and runs the root's
// changesets CLI there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, run, tempDir, writeFiles } from './test-helpers.js';

const changesetBin = join(repoRoot, 'node_modules/@changesets/cli/bin.js');
const realConfig = JSON.parse(readFileSync(join(repoRoot, '.changeset/config.json'), 'utf8'));

type Manifest = { name: string; version: string; [field: string]: unknown };

const core = (version = '0.1.0', extra: Partial<Manifest> = {}): Manifest => ({ name: '@luzts/core', version, ...extra });
/** A callback package as `pnpm new-callback` makes it: peer + workspace dev dependency on core. */
const callback = (name: string, coreRange = '^0.1.0', version = '0.1.0'): Manifest => ({
  name: `@luzts/${name}`,
  version,
  peerDependencies: { '@luzts/core': coreRange },
  devDependencies: { '@luzts/core': 'workspace:^' },
});

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

/**
 * Makes a workspace with `packages`, the real changesets config (or `config` over it) and a
 * private stub for each package the config ignores, commits it, adds one changeset
 * (`release`: package name → bump) and runs `changeset version`. Returns the new manifests.
 */
function versionWith(packages: Manifest[], release: Record<string, 'patch' | 'minor' | 'major'>, config: object = realConfig) {
  const { dir, cleanup } = tempDir('changesets');
  cleanups.push(cleanup);
  const files: Record<string, string | object> = {
    'package.json': { name: 'scratch-workspace', private: true },
    'pnpm-workspace.yaml': 'packages:\n  - "packages/*"\n  - "ignored/*"\n',
    '.changeset/config.json': config,
  };
  for (const pkg of packages) files[`packages/${pkg.name.split('/')[1]}/package.json`] = pkg;
  for (const ignored of (config as { ignore?: string[] }).ignore ?? []) {
    files[`ignored/${ignored.split('/')[1]}/package.json`] = { name: ignored, version: '0.0.0', private: true };
  }
  writeFiles(dir, files);
  const git = (...args: string[]) => {
    const result = run('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], { cwd: dir });
    expect(result.status, result.output).toBe(0);
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'scratch');
  const frontmatter = Object.entries(release).map(([name, bump]) => `"${name}": ${bump}`).join('\n');
  writeFiles(dir, { '.changeset/one-change.md': `---\n${frontmatter}\n---\n\nOne change.\n` });

  const result = run(process.execPath, [changesetBin, 'version'], { cwd: dir });
  expect(result.status, result.output).toBe(0);
  const read = (name: string): Manifest => JSON.parse(readFileSync(join(dir, 'packages', name.split('/')[1], 'package.json'), 'utf8'));
  return {
    versions: Object.fromEntries(packages.map((p) => [p.name, read(p.name).version])),
    manifest: read,
    changelog: (name: string) => existsSync(join(dir, 'packages', name.split('/')[1], 'CHANGELOG.md')),
    changesetsLeft: readdirSync(join(dir, '.changeset')).filter((f) => f.endsWith('.md')),
  };
}

const workspace = () => [core(), callback('mixup'), callback('early-stopping'), { name: '@luzts/unrelated', version: '0.1.0' }];

describe('changeset version with the repository config', () => {
  it('a patch on a callback package bumps only that package', () => {
    const { versions, changelog, changesetsLeft } = versionWith(workspace(), { '@luzts/mixup': 'patch' });
    expect(versions).toEqual({ '@luzts/core': '0.1.0', '@luzts/mixup': '0.1.1', '@luzts/early-stopping': '0.1.0', '@luzts/unrelated': '0.1.0' });
    expect(changelog('@luzts/mixup')).toBe(true);
    expect(changelog('@luzts/core')).toBe(false);
    expect(changesetsLeft).toEqual([]);
  });

  it('a minor on a callback package bumps only that package', () => {
    const { versions } = versionWith(workspace(), { '@luzts/mixup': 'minor' });
    expect(versions).toEqual({ '@luzts/core': '0.1.0', '@luzts/mixup': '0.2.0', '@luzts/early-stopping': '0.1.0', '@luzts/unrelated': '0.1.0' });
  });

  it('a patch on core stays inside ^0.1.0: no dependent is released', () => {
    const { versions, manifest } = versionWith(workspace(), { '@luzts/core': 'patch' });
    expect(versions).toEqual({ '@luzts/core': '0.1.1', '@luzts/mixup': '0.1.0', '@luzts/early-stopping': '0.1.0', '@luzts/unrelated': '0.1.0' });
    expect(manifest('@luzts/mixup').peerDependencies).toEqual({ '@luzts/core': '^0.1.0' });
  });

  it('a minor on core that stays in range (1.x) does not force a major on dependents', () => {
    const pkgs = [core('1.0.0'), callback('mixup', '^1.0.0', '1.0.0'), { name: '@luzts/unrelated', version: '1.0.0' }];
    const { versions, manifest } = versionWith(pkgs, { '@luzts/core': 'minor' });
    expect(versions).toEqual({ '@luzts/core': '1.1.0', '@luzts/mixup': '1.0.0', '@luzts/unrelated': '1.0.0' });
    expect(manifest('@luzts/mixup').peerDependencies).toEqual({ '@luzts/core': '^1.0.0' });
  });

  it('without onlyUpdatePeerDependentsWhenOutOfRange the same minor would release dependents as a major (control)', () => {
    const { ___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH: _unsafe, ...plain } = realConfig;
    const pkgs = [core('1.0.0'), callback('mixup', '^1.0.0', '1.0.0')];
    const { versions } = versionWith(pkgs, { '@luzts/core': 'minor' }, plain);
    expect(versions).toEqual({ '@luzts/core': '1.1.0', '@luzts/mixup': '2.0.0' });
  });

  it('while core is 0.x, a minor on core leaves ^0.1.0 and releases every dependent as a major', () => {
    // This is why a non-breaking core change is a `patch` changeset before 1.0 (CONTRIBUTING.md).
    const { versions, manifest } = versionWith(workspace(), { '@luzts/core': 'minor' });
    expect(versions).toEqual({ '@luzts/core': '0.2.0', '@luzts/mixup': '1.0.0', '@luzts/early-stopping': '1.0.0', '@luzts/unrelated': '0.1.0' });
    expect(manifest('@luzts/mixup').peerDependencies).toEqual({ '@luzts/core': '^0.2.0' });
  });

  it("a bump of a package core depends on patches core only when core's range no longer matches", () => {
    const kernels = { name: '@luzts/wasm-kernels', version: '0.1.0' };
    const pkgs = () => [kernels, core('0.1.0', { dependencies: { '@luzts/wasm-kernels': 'workspace:^' } }), callback('mixup')];
    expect(versionWith(pkgs(), { '@luzts/wasm-kernels': 'patch' }).versions).toEqual({
      '@luzts/wasm-kernels': '0.1.1',
      '@luzts/core': '0.1.0',
      '@luzts/mixup': '0.1.0',
    });
    expect(versionWith(pkgs(), { '@luzts/wasm-kernels': 'minor' }).versions).toEqual({
      '@luzts/wasm-kernels': '0.2.0',
      '@luzts/core': '0.1.1',
      '@luzts/mixup': '0.1.0',
    });
  });
});

describe('the repository changesets', () => {
  /** Names of the workspace packages, from the globs in pnpm-workspace.yaml ("dir/*" or "dir"). */
  const workspaceNames = (): Set<string> => {
    const yaml = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
    const globs = [...yaml.matchAll(/^\s+-\s*["']?([^"'#\s]+)["']?/gm)].map((m) => m[1]).filter((g) => !g.startsWith('!'));
    const dirs = globs.flatMap((glob) => {
      if (!glob.endsWith('/*')) return [join(repoRoot, glob)];
      const parent = join(repoRoot, glob.slice(0, -2));
      return existsSync(parent) ? readdirSync(parent).map((entry) => join(parent, entry)) : [];
    });
    const names = new Set<string>();
    for (const dir of dirs) {
      const manifest = join(dir, 'package.json');
      if (existsSync(manifest)) names.add(JSON.parse(readFileSync(manifest, 'utf8')).name);
    }
    return names;
  };

  it('name only packages that exist (else `changeset version` refuses to run)', () => {
    const names = workspaceNames();
    const missingIgnored = (realConfig.ignore as string[]).filter((n) => !names.has(n));
    expect(missingIgnored, '.changeset/config.json "ignore" lists packages that are not in the workspace').toEqual([]);
    const changesetFiles = readdirSync(join(repoRoot, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    const unknown: string[] = [];
    for (const file of changesetFiles) {
      const front = readFileSync(join(repoRoot, '.changeset', file), 'utf8').split('---')[1] ?? '';
      for (const m of front.matchAll(/^\s*["']?([^"':]+)["']?\s*:\s*(patch|minor|major)\s*$/gm)) if (!names.has(m[1])) unknown.push(`${file}: ${m[1]}`);
    }
    expect(unknown, 'changesets that name unknown packages').toEqual([]);
  });
});
