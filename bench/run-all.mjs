// `pnpm bench`: every benchmark, one after the other; each prints its figures side by side and
// writes bench/results/<name>.json.
import { spawnSync } from 'node:child_process';

for (const script of ['loop-overhead.mjs', 'mixup-overhead.mjs', 'kernels/run.mjs', 'training.mjs']) {
  console.log(`\n### ${script}`);
  const r = spawnSync(process.execPath, [new URL(script, import.meta.url).pathname], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
