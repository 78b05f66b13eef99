import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from 'pino';
import type prom from 'prom-client';

export interface HttpDeps {
  port: number;
  host: string;
  registry: prom.Registry;
  /** Broker connected and storage not degraded; `checks` says which, other fields give detail. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, boolean | string> } & Record<string, unknown>>;
  logger: Logger;
}

/** /healthz (process up), /readyz (broker and store), /metrics (this detector's own registry). */
export class DetectorHttp {
  private server: Server | undefined;

  constructor(private readonly deps: HttpDeps) {}

  get port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : undefined;
  }

  async start(): Promise<void> {
    if (this.deps.port < 0) return;
    const app = express();
    app.disable('x-powered-by');
    app.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/readyz', async (_req, res) => {
      const result = await this.deps.ready().catch(() => ({ ready: false, checks: {} }));
      res.status(result.ready ? 200 : 503).json(result);
    });
    app.get('/metrics', async (_req, res) => {
      res.type(this.deps.registry.contentType).send(await this.deps.registry.metrics());
    });
    await new Promise<void>((resolve, reject) => {
      const server = app.listen(this.deps.port, this.deps.host, (err?: Error) => (err ? reject(err) : resolve()));
      server.once('error', reject);
      this.server = server;
    }).catch((err: unknown) => {
      throw new Error(`detector HTTP server cannot listen on port ${this.deps.port}`, { cause: err });
    });
    this.deps.logger.child({ module: 'http' }).info({ port: this.port }, 'detector HTTP listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
