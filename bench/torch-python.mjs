// Finds a Python with PyTorch (Debian's python3-torch; PyTorch is only an external reference in
// the benchmarks, never a dependency of luzts). Returns its path, or null.
import { execFileSync } from 'node:child_process';

export function findTorchPython() {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return null;
}
