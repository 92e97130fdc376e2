// Helpers for the docs site's tests: build the site, read typedoc's navigation, crawl links.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';

/** apps/docs. */
export const docsDir = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const repoRoot = join(docsDir, '../..');

/** What scripts/build.mjs reports on its last line. */
export interface BuildResult {
  ok: boolean;
  warnings: string[];
  errors: string[];
  out: string;
  typedocMs: number;
  liveMs?: number;
  /** Everything the build printed, for assertion messages. */
  output: string;
}

/** Runs scripts/build.mjs with `args` (e.g. `['--lenient', '--out', dir]`). */
export function buildSite(args: string[]): BuildResult {
  const env: Record<string, string | undefined> = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key];
  const run = spawnSync(process.execPath, [join(docsDir, 'scripts/build.mjs'), ...args], { cwd: docsDir, env, encoding: 'utf8', timeout: 280_000 });
  const output = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  const last = (run.stdout ?? '').trim().split('\n').at(-1) ?? '';
  try {
    return { ...(JSON.parse(last) as Omit<BuildResult, 'output'>), output };
  } catch {
    return { ok: false, warnings: [], errors: [`build.mjs exited ${run.status} without a summary`], out: '', typedocMs: 0, output };
  }
}

/** One entry of typedoc's navigation tree (assets/navigation.js). */
export interface NavItem {
  text: string;
  path?: string;
  kind?: number;
  children?: NavItem[];
}

/** Decodes `<site>/assets/navigation.js` (base64 of deflated JSON). */
export function readNavigation(site: string): NavItem[] {
  const js = readFileSync(join(site, 'assets/navigation.js'), 'utf8');
  const data = /"(?:data:application\/octet-stream;base64,)?([A-Za-z0-9+/=]+)"/.exec(js)?.[1];
  if (!data) throw new Error(`no navigation data in ${site}/assets/navigation.js`);
  return JSON.parse(inflateSync(Buffer.from(data, 'base64')).toString('utf8')) as NavItem[];
}

/** Every navigation entry, depth first. */
export function flattenNavigation(items: NavItem[]): NavItem[] {
  return items.flatMap((item) => [item, ...flattenNavigation(item.children ?? [])]);
}

/** The `name` of every package under `<root>/packages/`. */
export function packageNames(root = repoRoot): string[] {
  return listPackageDirs(root).map((dir) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name);
}

/** The folders under `<root>/packages/` that hold a package.json. */
export function listPackageDirs(root = repoRoot): string[] {
  const base = join(root, 'packages');
  return readdirSync(base)
    .sort()
    .map((name) => join(base, name))
    .filter((dir) => existsSync(join(dir, 'package.json')));
}

/** True when Chromium is where the tests expect it. */
export const chromiumPath = '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

/** Chromium's flags for the tests: headless, no sandbox (root in CI), nothing from the network. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A link found on a page. */
export interface FoundLink {
  from: string;
  to: string;
}

/** A broken link: the target answered `status`, or its `#fragment` has no element with that id. */
export interface BrokenLink extends FoundLink {
  problem: string;
}

const ATTR = /\s(?:href|src)\s*=\s*"([^"]*)"/gi;

/** The same-origin URLs an HTML page links to or loads (`href`/`src` attributes). */
export function linksIn(html: string, pageUrl: string): string[] {
  const origin = new URL(pageUrl).origin;
  const out: string[] = [];
  for (const [, raw] of html.matchAll(ATTR)) {
    const value = raw.replace(/&amp;/g, '&').trim();
    if (!value || /^(?:mailto|javascript|data|blob):/i.test(value)) continue;
    let url: URL;
    try {
      url = new URL(value, pageUrl);
    } catch {
      continue;
    }
    if (url.origin === origin) out.push(url.href);
  }
  return out;
}

/**
 * Crawls every same-origin link reachable from `seeds`: HTML pages are fetched and parsed, other
 * files are fetched once. Returns the pages visited and every broken link (non-200 answer, or a
 * `#fragment` naming no `id`/`name` in the target page).
 */
export async function crawl(seeds: FoundLink[]): Promise<{ visited: string[]; broken: BrokenLink[]; links: number }> {
  const queue: FoundLink[] = [...seeds];
  const fetched = new Map<string, { status: number; html?: string }>();
  const broken: BrokenLink[] = [];
  let links = 0;
  const anchors = new Map<string, Set<string>>();
  const pendingFragments: Array<FoundLink & { doc: string; fragment: string }> = [];
  while (queue.length) {
    const link = queue.shift()!;
    links += 1;
    const url = new URL(link.to);
    const fragment = decodeURIComponent(url.hash.slice(1));
    url.hash = '';
    const doc = url.href;
    if (!fetched.has(doc)) {
      const response = await fetch(doc);
      const type = response.headers.get('content-type') ?? '';
      const html = type.startsWith('text/html') ? await response.text() : undefined;
      if (!html) await response.arrayBuffer();
      fetched.set(doc, { status: response.status, html });
      if (html && response.status === 200) {
        anchors.set(doc, new Set([...html.matchAll(/\s(?:id|name)\s*=\s*"([^"]+)"/g)].map((m) => m[1])));
        for (const to of linksIn(html, doc)) queue.push({ from: doc, to });
      }
    }
    const { status } = fetched.get(doc)!;
    if (status !== 200) broken.push({ ...link, problem: `HTTP ${status}` });
    else if (fragment) pendingFragments.push({ ...link, doc, fragment });
  }
  for (const link of pendingFragments) {
    const ids = anchors.get(link.doc);
    if (ids && !ids.has(link.fragment)) broken.push({ from: link.from, to: link.to, problem: `no element with id "${link.fragment}"` });
  }
  const visited = [...fetched.entries()].filter(([, v]) => v.html !== undefined).map(([k]) => k);
  return { visited, broken, links };
}
