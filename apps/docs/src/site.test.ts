// The documentation site, end to end: build it (typedoc over every package under packages/, the
// guides, the live page), check typedoc's validation, serve it on 127.0.0.1 and drive Debian's
// Chromium with playwright-core: home page, the mixup API page, a guide, every internal link, the
// search box, and the live page training a model in the browser.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../scripts/serve.mjs';
import {
  buildSite,
  chromiumArgs,
  chromiumPath,
  crawl,
  flattenNavigation,
  hasChromium,
  listPackageDirs,
  packageNames,
  readNavigation,
  type BuildResult,
  type FoundLink,
  type NavItem,
} from './site-helpers.js';

// In CI the browser test must run: a missing Chromium is a failure there, not a skip.
const runBrowser = hasChromium || Boolean(process.env.CI);
if (!runBrowser) {
  console.warn(`docs site: SKIPPING the browser tests: ${chromiumPath} is missing. Install it with \`apt-get update && apt-get install -y chromium\` (in CI, where CI is set, they fail instead).`);
}

let out: string;
let build: BuildResult;
let nav: NavItem[];

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'luzts-docs-site-'));
  // --lenient: the site is written even when typedoc warns, so that the validation test below can
  // list every warning while the browser tests still run. `pnpm build` fails on any warning.
  build = buildSite(['--lenient', '--out', out]);
  expect(build.ok, `the site did not build:\n${build.output}`).toBe(true);
  nav = readNavigation(out);
  console.log(`docs site: typedoc ${(build.typedocMs / 1000).toFixed(1)} s, live bundle ${((build.liveMs ?? 0) / 1000).toFixed(1)} s`);
});

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the API reference', () => {
  it('typedoc reports no warnings: every export documented, every link valid, every referenced type exported', () => {
    expect(build.warnings, `typedoc warnings (validation: notExported, invalidLink, notDocumented):\n${build.warnings.join('\n')}`).toEqual([]);
  });

  it('has a module for every package under packages/, found automatically', () => {
    const modules = nav.map((item) => item.text);
    const names = packageNames();
    expect(names.length).toBeGreaterThan(1);
    for (const name of names) expect(modules, `${name} is missing from the site's navigation`).toContain(name);
  });

  it("documents every subpath a package exports (each `exports` entry is in the package's typedoc.json)", () => {
    const missing: string[] = [];
    for (const dir of listPackageDirs()) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; exports?: Record<string, unknown> };
      const typedoc = JSON.parse(readFileSync(join(dir, 'typedoc.json'), 'utf8')) as { entryPoints?: string[] };
      const entries = new Set((typedoc.entryPoints ?? ['src/index.ts']).map((e) => e.replace(/^\.\//, '')));
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        const source = target && typeof target === 'object' ? (target as Record<string, unknown>)['@luzts/source'] : undefined;
        if (typeof source !== 'string') continue;
        const file = source.replace(/^\.\//, '');
        if (!entries.has(file)) missing.push(`${manifest.name}: exports '${subpath}' (${file}) but its typedoc.json entryPoints are [${[...entries].join(', ')}]`);
      }
    }
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('has the guides in the navigation', () => {
    const documents = nav.filter((item) => item.path?.startsWith('documents/')).map((item) => item.text);
    expect(documents).toEqual(
      expect.arrayContaining(['Getting started', 'The training loop', 'Writing a callback', 'Callbacks', 'From R luz to luzts', 'Differences from R luz']),
    );
  });
});

describe.skipIf(!runBrowser)('the site in Chromium', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveStatic>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${chromiumPath} is missing and CI is set: install it with \`apt-get update && apt-get install -y chromium\`.`);
    const { chromium } = await import('playwright-core');
    server = await serveStatic(out);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
    const response = await page.goto(new URL(path, server.url).href);
    expect(response?.status(), path).toBe(200);
    return page;
  }

  /** The links of the rendered page (including the sidebar, which typedoc draws with JS). */
  async function renderedLinks(page: Page): Promise<FoundLink[]> {
    await page.waitForSelector('#tsd-nav-container a, .tsd-navigation a', { state: 'attached' });
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    return hrefs.filter((to) => to.startsWith(server.url)).map((to) => ({ from: page.url(), to }));
  }

  const navPath = (pred: (item: NavItem) => boolean, what: string): string => {
    const item = flattenNavigation(nav).find(pred);
    expect(item?.path, `${what} not found in the navigation`).toBeTruthy();
    return item!.path!;
  };

  it('opens the home page, the mixup API page and a guide', async () => {
    const home = await open('index.html');
    expect(await home.title()).toContain('luzts');
    await expect.poll(() => home.locator('#tsd-nav-container').textContent()).toContain('@luzts/mixup');
    expect(await home.locator('.tsd-panel, .col-content').first().textContent()).toContain('luzts');
    await home.close();

    const mixup = await open(navPath((i) => i.text === '@luzts/mixup', 'the @luzts/mixup module'));
    const mixupText = (await mixup.locator('.col-content').textContent()) ?? '';
    expect(mixupText).toContain('luzCallbackMixup');
    expect(mixupText).toContain('nnfMixup');
    await mixup.close();

    const guide = await open(navPath((i) => i.text === 'The training loop', 'the training-loop guide'));
    const guideText = (await guide.locator('.col-content').textContent()) ?? '';
    expect(guideText).toContain('onFitEnd');
    expect(guideText).toContain('onInterrupt');
    await guide.close();
    expect(pageErrors).toEqual([]);
  });

  it('has no broken internal links (every same-origin link crawled from the home page)', async () => {
    const seeds: FoundLink[] = [];
    for (const path of ['index.html', navPath((i) => i.text === 'Getting started', 'the getting-started guide')]) {
      const page = await open(path);
      seeds.push(...(await renderedLinks(page)));
      await page.close();
    }
    const { visited, broken, links } = await crawl(seeds);
    console.log(`docs site: crawled ${visited.length} pages, ${links} links, ${broken.length} broken`);
    expect(broken.map((b) => `${b.from} -> ${b.to}: ${b.problem}`)).toEqual([]);
    // Every package's module page, every guide and the live page were reached.
    const reached = new Set(visited.map((url) => new URL(url).pathname.slice(1)));
    for (const item of nav) if (item.path) expect(reached, item.path).toContain(item.path);
    expect(reached).toContain('live/index.html');
    expect(visited.length).toBeGreaterThan(nav.length);
  });

  it("finds luzCallbackMixup with typedoc's search box and opens it", async () => {
    const page = await open('index.html');
    await page.click('#tsd-search-trigger');
    await page.fill('#tsd-search-input', 'luzCallbackMixup');
    const result = page.locator('#tsd-search-results li a', { hasText: 'luzCallbackMixup' }).first();
    await result.waitFor();
    await result.click();
    await page.waitForURL(/luzCallbackMixup\.html/);
    expect(await page.locator('h1').textContent()).toContain('luzCallbackMixup');
    // The guides are searchable too.
    await page.click('#tsd-search-trigger');
    await page.fill('#tsd-search-input', 'Differences from R luz');
    await page.locator('#tsd-search-results li a', { hasText: 'Differences from R luz' }).first().waitFor();
    await page.close();
  });

  it('trains a model in the page (wasm backend, mixup): epoch metrics appear, then it finishes', async () => {
    const home = await open('index.html');
    // Reach the live page the way a reader does: the sidebar link.
    await home.click('a[data-live-link]');
    await home.waitForURL(/live\/index\.html$/);
    const firstEpoch = home.locator('#epochs tbody tr[data-epoch="1"]');
    await firstEpoch.waitFor({ timeout: 120_000 });
    const cells = await firstEpoch.locator('td').allTextContents();
    expect(cells[0]).toBe('1');
    // train loss, train acc, valid loss, valid acc: numbers, accuracies in [0, 1].
    const values = cells.slice(1).map(Number);
    expect(values.every((v) => Number.isFinite(v))).toBe(true);
    expect(values[1]).toBeGreaterThanOrEqual(0);
    expect(values[1]).toBeLessThanOrEqual(1);
    await home.waitForSelector('body[data-status="done"], body[data-status="error"]', { timeout: 150_000 });
    expect(await home.textContent('#status')).toMatch(/^done: 30 epochs/);
    expect(await home.title()).toBe('luzts live demo: done');
    expect(await home.textContent('#backend')).toBe('(backend: wasm)');
    const last = (await home.locator('#epochs tbody tr').last().locator('td').allTextContents()).map(Number);
    expect(last[0]).toBe(30);
    // Two spirals are learnable: the validation accuracy after 30 epochs is well above chance.
    expect(last[4]).toBeGreaterThan(0.7);
    await home.close();
    expect(pageErrors).toEqual([]);
    const missing = server.requests.filter((r) => r.status !== 200);
    expect(missing, 'requests the browser made that got no file').toEqual([]);
  });
});
