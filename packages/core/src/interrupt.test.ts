import { spawn, spawnSync } from 'node:child_process';
import { statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');

/** Builds dist when it is missing or older than a source file (the child runs the built package). */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  let built = 0;
  try {
    built = statSync(join(pkg, 'dist/index.js')).mtimeMs;
  } catch {
    /* not built */
  }
  if (built < newest(join(pkg, 'src'))) {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: pkg, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  }
}

describe('Ctrl-C', () => {
  beforeAll(ensureBuilt, 120_000);

  it('SIGINT during fit prints the interrupt, returns the completed epochs, and exits 0', async () => {
    const child = spawn(process.execPath, [join(here, 'test-utils/sigint-child.mjs')], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      out += String(d);
      if (!sent && out.includes('EPOCH 2 DONE')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 30);
      }
    });
    child.stderr.on('data', (d) => (out += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toContain('Interrupt received');
    expect(out).toMatch(/Training interrupted at epoch 3 \(iteration \d+\)/);
    expect(out).toContain('RETURNED 2 EPOCHS');
    expect(out).not.toContain('EPOCH 3 DONE');
  }, 60_000);
});
