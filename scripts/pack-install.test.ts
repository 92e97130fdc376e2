// A user installs only the packed @luzts/mixup (and the packed luzts packages it depends on) into an
// empty folder with npm, and a 20-line training script with mixup runs there.
import { describe, expect, it } from 'vitest';
import { runScript } from './test-helpers.js';

describe('pack and install', () => {
  it('npm install of the packed @luzts/mixup and its packed dependencies trains with mixup in an empty folder', () => {
    const r = runScript('pack-install.mjs', ['mixup'], { timeout: 280_000 });
    expect(r.status, r.output).toBe(0);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(report.packed).toEqual(['@luzts/core', '@luzts/losses', '@luzts/mixup', '@luzts/wasm-kernels']);
    expect(report.installed).toEqual(report.packed);
    expect(report.output).toMatch(/^backend wasm\nepochs 3 valid loss \d+\.\d{4}$/);
  }, 300_000);
});
