// Helpers for the tests of the repository scripts (scripts/*.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the parent of scripts/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for messages in failed assertions. */
  output: string;
}

/**
 * Runs a command synchronously without a shell. Variables that vitest sets for its own workers
 * are removed so that a nested vitest run behaves like one started from a terminal.
 */
export function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): RunResult {
  const env: Record<string, string | undefined> = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...options.env };
  for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key];
  const result = spawnSync(command, args, { cwd: options.cwd ?? repoRoot, env, encoding: 'utf8', timeout: options.timeout ?? 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

/** Runs one of the repository's `.mjs` scripts with the current Node. */
export function runScript(script: string, args: string[], options: { cwd?: string; timeout?: number } = {}): RunResult {
  return run(process.execPath, [join(repoRoot, 'scripts', script), ...args], options);
}

/** A fresh temporary folder; call the returned `cleanup` in afterAll/afterEach. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `luzts-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `files` (path relative to `dir` → text, or an object written as JSON) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string | object>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

/** The problem lines (`@luzts/<pkg>: <rule>: <detail>`) printed by check-packages. */
export function problemLines(result: RunResult): string[] {
  return result.stdout.split('\n').filter((line) => line.startsWith('@'));
}
