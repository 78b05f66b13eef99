import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

/** The embedded MQTT broker of `npm start`: aedes in-process, MQTT 3.1.1, loopback only. */
export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  private boundPort: number | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly opts: { port: number; host: string; logger: Logger }) {}

  get url(): string {
    if (this.boundPort === undefined) throw new Error('embedded broker is not started');
    return `mqtt://${this.opts.host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    this.broker = broker;
    this.server = server;
    this.boundPort = await listen(server, this.opts.port, this.opts.host).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' || this.opts.port === 0) throw err;
      // Another broker already owns the port (a local Mosquitto, say): take a free one rather than fail.
      this.opts.logger.warn({ port: this.opts.port }, 'MQTT port in use; the embedded broker takes a free port instead');
      return listen(server, 0, this.opts.host);
    });
    this.opts.logger.info({ url: this.url }, 'embedded MQTT broker (aedes) listening');
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    this.server = undefined;
    this.broker = undefined;
    // The broker first: it disconnects its clients. server.close() alone would wait for every outside client
    // (an MQTT explorer, say) to hang up, and Ctrl-C would hang with it.
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
