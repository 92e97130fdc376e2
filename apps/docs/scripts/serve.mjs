#!/usr/bin/env node
// A tiny static file server (node:http) for the built site, bound to 127.0.0.1.
// usage: node scripts/serve.mjs [dir = site] [port = 8080]
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the files under `root` on 127.0.0.1. `/` and folders serve their `index.html`; anything
 * outside `root` or missing is a 404. Every request is recorded in `requests` (`{ path, status }`).
 * @param {string} root
 * @param {number} [port] 0 (default) picks a free port
 * @returns {Promise<{ url: string, port: number, requests: Array<{ path: string, status: number }>, close: () => Promise<void> }>}
 */
export async function serveStatic(root, port = 0) {
  const base = resolve(root);
  /** @type {Array<{ path: string, status: number }>} */
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    let file = normalize(join(base, path));
    let status = 200;
    try {
      if (file !== base && !file.startsWith(base + sep)) throw new Error('outside the root');
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!statSync(file).isFile()) throw new Error('not a file');
    } catch {
      status = 404;
    }
    requests.push({ path, status });
    if (status === 404) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`404 Not Found: ${path}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', () => ok(undefined)));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    requests,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok(undefined)); }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const docsDir = resolve(fileURLToPath(import.meta.url), '../..');
  const dir = process.argv[2] ?? join(docsDir, 'site');
  const { url } = await serveStatic(dir, Number(process.argv[3] ?? 8080));
  console.log(`Serving ${dir} at ${url} (Ctrl-C to stop)`);
}
