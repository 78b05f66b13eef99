import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { childSide } from './alerts-ipc.js';

/**
 * Child process: webhook receivers on 127.0.0.1, in a process of their own so their work does not share the event
 * loop of the API under test. Each answers 204 once it has the whole body (what a receiver that queues the message
 * would do) and notes the arrival: webhook-id, wall time, and what the body says (station, kind, firingAt).
 */
export interface ReceiversJob {
  receivers: number;
}

/** Arrivals as columns: 100,000 of them cross IPC as a few arrays, not 100,000 objects. */
export interface Arrivals {
  id: string[];
  at: number[];
  receiver: number[];
  station: string[];
  kind: string[];
  /** The alert's firingAt (the decision in the API), epoch ms; NaN when the body has none. */
  firingAt: number[];
  /** Requests whose body was not a linewatch webhook. */
  malformed: number;
}

export type ReceiversIn = { type: 'expect'; unique: number } | { type: 'collect' };
export type ReceiversOut =
  | { type: 'ready'; urls: string[] }
  | { type: 'complete'; at: number; unique: number }
  | { type: 'arrivals'; arrivals: Arrivals; unique: number };

interface WebhookBody {
  alerts?: { kind?: string; labels?: { station?: string }; firingAt?: string | null }[];
}

const side = childSide<ReceiversIn, ReceiversOut>();

function empty(): Arrivals {
  return { id: [], at: [], receiver: [], station: [], kind: [], firingAt: [], malformed: 0 };
}

async function main(): Promise<void> {
  const job = side.job<ReceiversJob>();
  let got = empty();
  const seen = new Set<string>();
  let expect = Number.POSITIVE_INFINITY;
  let told = false;

  const note = (receiver: number, id: string, body: string): void => {
    const at = Date.now();
    let alert: NonNullable<WebhookBody['alerts']>[number] | undefined;
    try {
      alert = (JSON.parse(body) as WebhookBody).alerts?.[0];
    } catch {
      alert = undefined;
    }
    if (!alert) got.malformed++;
    got.id.push(id);
    got.at.push(at);
    got.receiver.push(receiver);
    got.station.push(alert?.labels?.station ?? '');
    got.kind.push(alert?.kind ?? '');
    got.firingAt.push(alert?.firingAt ? Date.parse(alert.firingAt) : Number.NaN);
    seen.add(id);
    if (!told && seen.size >= expect) {
      told = true;
      void side.send({ type: 'complete', at, unique: seen.size });
    }
  };

  const urls: string[] = [];
  for (let r = 0; r < job.receivers; r++) {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        note(r, String(req.headers['webhook-id'] ?? ''), Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  }

  side.on((m) => {
    if (m.type === 'expect') {
      expect = m.unique;
      told = false;
      seen.clear();
      got = empty();
    } else {
      void side.send({ type: 'arrivals', arrivals: got, unique: seen.size });
    }
  });
  await side.send({ type: 'ready', urls });
}

main().catch((err: unknown) => {
  void side.send({ type: 'error', message: String((err as Error)?.stack ?? err) }).then(() => process.exit(1));
});
