// A webhook receiver on a loopback port that records every request and answers as told.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './wait.ts';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Responder = (req: Received) => number | 'hang' | 'reset' | Promise<number>;

export class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  respond: Responder = () => 200;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(r);
        void Promise.resolve(this.respond(r)).then((status) => {
          if (status === 'hang') return;
          if (status === 'reset') return req.socket.destroy();
          res.writeHead(status).end();
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async waitFor(n: number, timeoutMs = 15_000, path?: string): Promise<Received[]> {
    const got = () => (path ? this.received.filter((r) => r.path === path) : this.received);
    const what = `${n} deliveries${path ? ` to ${path}` : ''}`;
    return waitUntil(what, () => (got().length >= n ? got() : undefined), timeoutMs).catch(() => {
      throw new Error(`expected ${what}, got ${got().length}`);
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
