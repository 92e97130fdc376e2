// The guides' examples run: every ```ts block whose first line is `// <name>.mjs` is a complete
// program; each is written to apps/docs/.guide-examples/ (so `@luzts/*` resolves to the packages'
// sources, like every test here) and imported. The stop-path script of "The training loop" must
// print exactly the table the guide shows.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { docsDir } from './site-helpers.js';

interface Example {
  guide: string;
  name: string;
  code: string;
}

/** Examples that need more than the tiny data of a test (real MNIST, minutes of training). */
const SKIP = new Set(['mnist-mixup.mjs']);

function examples(): Example[] {
  const dir = join(docsDir, 'guides');
  const out: Example[] = [];
  for (const guide of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
    const text = readFileSync(join(dir, guide), 'utf8');
    for (const m of text.matchAll(/```ts\n\/\/ ([\w-]+\.mjs)(?: [^\n]*)?\n([\s\S]*?)```/g)) {
      if (!SKIP.has(m[1])) out.push({ guide, name: m[1], code: m[2] });
    }
  }
  return out;
}

const scratch = join(docsDir, '.guide-examples');
mkdirSync(scratch, { recursive: true });
// What the examples write to the temporary folder (fixed names, so that readers can find them).
const WRITTEN = ['luzts-log.csv', 'luzts-logs', 'luzts-metrics.svg', 'luzts-run-1'];
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  for (const name of WRITTEN) rmSync(join(tmpdir(), name), { recursive: true, force: true });
});

async function runExample(example: Example): Promise<string[]> {
  const file = join(scratch, `${example.guide.replace(/\.md$/, '')}--${example.name}`);
  writeFileSync(file, example.code);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  });
  const table = vi.spyOn(console, 'table').mockImplementation((data: unknown) => {
    lines.push(JSON.stringify(data));
  });
  try {
    await import(/* @vite-ignore */ `${file}?t=${Date.now()}`);
  } finally {
    log.mockRestore();
    table.mockRestore();
  }
  return lines;
}

describe("the guides' examples", () => {
  const all = examples();
  afterEach(() => vi.restoreAllMocks());

  it('finds the runnable examples (one per callback package, and the loop and callback guides)', () => {
    const names = all.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['stop-paths.mjs', 'print-loss.mjs', 'mixup.mjs', 'early-stopping.mjs', 'lr-scheduler.mjs']));
    expect(names.length).toBeGreaterThanOrEqual(18);
  });

  it('the stop-path script prints the table of "The training loop"', async () => {
    const example = all.find((e) => e.name === 'stop-paths.mjs')!;
    const expected = [...example.code.matchAll(/^\/\/ ((?:normal|stopTraining|interrupt|skipEpoch|error) .*)$/gm)].map((m) => m[1].trimEnd());
    expect(expected).toHaveLength(5);
    const printed = (await runExample(example)).map((l) => l.trimEnd());
    expect(printed).toEqual(expected);
  });

  for (const example of all.filter((e) => e.name !== 'stop-paths.mjs')) {
    it(`${example.guide}: ${example.name} runs`, async () => {
      const printed = await runExample(example);
      expect(printed.length, `${example.name} printed nothing`).toBeGreaterThan(0);
    });
  }
});
