import { Writable } from 'node:stream';
import pino from 'pino';

/**
 * A real pino logger whose JSON lines land, parsed, in `logs`: a test reads what a component said (when it
 * reconnected, whether the broker kept its session) from its own log, as an operator would.
 */
export function capturedLogger<L extends { msg: string; time: number }>(level = 'info'): { logger: pino.Logger; logs: L[] } {
  const logs: L[] = [];
  const logger = pino({ level }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) logs.push(JSON.parse(text) as L);
      cb();
    },
  }));
  return { logger, logs };
}
