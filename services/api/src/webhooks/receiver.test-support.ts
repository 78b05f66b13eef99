import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test receiver got, with the status it answered (null while it has not answered). */
export interface ReceivedRequest {
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
  receivedAt: number;
  status: number | null;
}

/** How the receiver answers; tests swap it mid-run to move a receiver between healthy, failing and slow. */
export type Reply = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

export const replies = {
  status:
    (code: number): Reply =>
    (_req, res) => {
      res.writeHead(code).end();
    },
  /** Answers 200 after `ms`, or not at all if the client has gone by then. */
  slow:
    (ms: number): Reply =>
    (_req, res) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => (res.writeHead(200).end(), resolve()), ms);
        res.on('close', () => (clearTimeout(timer), resolve()));
      }),
  redirect:
    (location: string, code = 302): Reply =>
    (_req, res) => {
      res.writeHead(code, { location }).end('moved');
    },
};

/**
 * Answers `status` with a body of up to `bytes`, written with backpressure, so `sent` counts what the client
 * actually took (plus socket buffers): a client that stops reading leaves most of it unsent.
 */
export function bigReply(status: number, bytes: number): { reply: Reply; sent: () => number; cut: () => boolean } {
  let sent = 0;
  let cut = false;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const reply: Reply = (_req, res) =>
    new Promise<void>((resolve) => {
      res.on('close', () => {
        cut = !res.writableFinished;
        resolve();
      });
      res.writeHead(status, { 'content-type': 'text/plain' });
      const pump = (): void => {
        while (sent < bytes && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
  return { reply, sent: () => sent, cut: () => cut };
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** A real HTTP webhook receiver on 127.0.0.1 that records every request; it can go away and come back on its port. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: http.Server | undefined;
  private port = 0;

  constructor(public reply: Reply = replies.status(200)) {}

  static async start(reply?: Reply): Promise<TestReceiver> {
    const receiver = new TestReceiver(reply);
    await receiver.listen();
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The requests it answered with a 2xx, in arrival order. */
  accepted(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status !== null && r.status >= 200 && r.status < 300);
  }

  /** Listens again on the same port after `close()` (a receiver coming back from an outage). */
  async listen(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops open connections: from now on connections are refused. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const record: ReceivedRequest = { path: req.url ?? '', headers: flatHeaders(req), body, receivedAt: Date.now(), status: null };
      this.requests.push(record);
      await this.reply(record, res);
      // What the client was told, if anything: a 200 whose long body the client then cut off still counts.
      record.status = res.headersSent ? res.statusCode : null;
    } catch {
      // The client went away mid-request; nothing was answered.
      res.destroy();
    }
  }
}
