/** Console output that works in Node and browsers. @internal */
interface MaybeProcess {
  stdout?: { write?: (s: string) => boolean; isTTY?: boolean; columns?: number };
}

function nodeStdout(): MaybeProcess['stdout'] | undefined {
  const p = (globalThis as { process?: MaybeProcess }).process;
  return p?.stdout && typeof p.stdout.write === 'function' ? p.stdout : undefined;
}

/** True when stdout is an interactive terminal (Node only). */
export function isTTY(): boolean {
  return nodeStdout()?.isTTY === true;
}

/** Terminal width, 80 when unknown. */
export function terminalWidth(): number {
  return nodeStdout()?.columns ?? 80;
}

/** Prints one line. */
export function writeLine(line: string): void {
  const out = nodeStdout();
  if (out) out.write!(`${line}\n`);
  else console.log(line);
}

/** Rewrites the current terminal line (TTY only). */
export function rewriteLine(line: string): void {
  nodeStdout()?.write!(`\r${line}\x1b[K`);
}
