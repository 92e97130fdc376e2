/** A running static server (see serve.mjs). */
export interface StaticServer {
  url: string;
  port: number;
  requests: Array<{ path: string; status: number }>;
  close(): Promise<void>;
}
/** Serves the files under `root` on 127.0.0.1 (port 0: a free one). */
export function serveStatic(root: string, port?: number): Promise<StaticServer>;
