// A package made by `pnpm new-callback` appears in the site with no edit to the docs: the scaffold
// is run on a scratch copy of the repository (root config files; node_modules and packages/core are
// links to this checkout's), then the docs build (the same script and typedoc.json as
// `pnpm --filter @luzts/docs build`, pointed at the scratch copy's packages/*) is run on it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSite, flattenNavigation, readNavigation, repoRoot } from './site-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'luzts-docs-scaffold-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a package created by `pnpm new-callback`', () => {
  it('shows up in the built site: navigation, module page and its callback, fully documented', () => {
    for (const file of ['tsconfig.base.json', 'typedoc.base.json', 'package.json']) copyFileSync(join(repoRoot, file), join(root, file));
    mkdirSync(join(root, 'packages'));
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
    symlinkSync(join(repoRoot, 'packages/core'), join(root, 'packages/core'), 'dir');

    // Two new packages (a site of one package is not a multi-package site); the second stands for
    // the packages already there (the link to core is not followed by typedoc's glob, which keeps
    // this test fast).
    for (const name of ['demo-thing', 'print-loss']) {
      const scaffold = spawnSync(process.execPath, [join(repoRoot, 'scripts/new-callback.mjs'), name, '--root', root], { encoding: 'utf8' });
      expect(scaffold.status, `${scaffold.stdout}\n${scaffold.stderr}`).toBe(0);
      // What `pnpm install` would link into the new package.
      const pkg = join(root, 'packages', name);
      mkdirSync(join(pkg, 'node_modules/@luzts'), { recursive: true });
      mkdirSync(join(pkg, 'node_modules/@tensorflow'), { recursive: true });
      symlinkSync(join(repoRoot, 'packages/core'), join(pkg, 'node_modules/@luzts/core'), 'dir');
      symlinkSync(realpathSync(join(repoRoot, 'packages/core/node_modules/@tensorflow/tfjs')), join(pkg, 'node_modules/@tensorflow/tfjs'), 'dir');
    }

    const out = join(root, 'site');
    const build = buildSite(['--lenient', '--no-live', '--root', root, '--out', out]);
    expect(build.ok, build.output).toBe(true);

    const nav = readNavigation(out);
    const module = nav.find((item) => item.text === '@luzts/demo-thing');
    expect(module, `@luzts/demo-thing is not in the navigation: ${nav.map((i) => i.text).join(', ')}`).toBeDefined();
    const members = flattenNavigation(module!.children ?? []).map((item) => item.text);
    expect(members).toEqual(expect.arrayContaining(['luzCallbackDemoThing', 'DemoThingOptions']));
    expect(existsSync(join(out, module!.path!))).toBe(true);
    // The scaffold's output passes the docs' validation (every export documented, links valid).
    expect(build.warnings.filter((w) => /demo-thing|DemoThing/i.test(w))).toEqual([]);
  });
});
