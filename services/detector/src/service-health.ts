import { topics, type ServiceHealth } from '@linewatch/protocol';
import type { Logger } from 'pino';
import type { StorageHealth } from './store-writer.js';

export interface HealthReporterDeps {
  instance: string;
  line: string;
  storage: () => StorageHealth;
  publish: (topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }) => void;
  logger: Logger;
  /** How often the state is looked at. */
  checkMs?: number;
  /** While degraded, the journal's figures are republished this often. */
  degradedRepeatMs?: number;
}

/**
 * Publishes the detector's health (ServiceHealth), retained, so the API and the page can say "storage degraded"
 * or "detector offline" instead of showing stale health as if all were well. Published on every connect, on every
 * change of state, and every few seconds while degraded; the broker publishes the last will (`offline`) when it
 * loses the detector without a clean stop.
 */
export class HealthReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastState: ServiceHealth['state'] | undefined;
  private lastAt = 0;
  readonly topic: string;

  constructor(private readonly deps: HealthReporterDeps) {
    this.topic = topics.health('detector', deps.instance);
  }

  /** The message the broker publishes for us if the connection dies without a clean stop. */
  will(): { topic: string; payload: string; qos: 1; retain: true } {
    return { topic: this.topic, payload: JSON.stringify(this.message('offline', 'connection to the broker lost without a clean stop')), qos: 1, retain: true };
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.deps.checkMs ?? 1000);
    this.timer.unref();
  }

  /** After every (re)connect: the retained message may be the last will from an earlier run. */
  connected(): void {
    this.report();
  }

  /** A clean stop says so, rather than leaving `ok` retained. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.deps.publish(this.topic, JSON.stringify(this.message('offline', 'stopped')), { qos: 1, retain: true });
  }

  private check(): void {
    const state = this.deps.storage().state === 'ok' ? 'ok' : 'degraded';
    const repeat = state === 'degraded' && Date.now() - this.lastAt >= (this.deps.degradedRepeatMs ?? 5000);
    if (state !== this.lastState || repeat) this.report();
  }

  private report(): void {
    const storage = this.deps.storage();
    const state = storage.state === 'ok' ? 'ok' : 'degraded';
    const message = this.message(state, state === 'degraded' ? describeStorage(storage) : undefined, storage);
    if (state !== this.lastState) this.deps.logger.info({ state, storage }, 'service health changed');
    this.lastState = state;
    this.lastAt = Date.now();
    this.deps.publish(this.topic, JSON.stringify(message), { qos: 1, retain: true });
  }

  private message(state: ServiceHealth['state'], reason: string | undefined, s = this.deps.storage()): ServiceHealth {
    return {
      service: 'detector', instance: this.deps.instance, line: this.deps.line, state, ts: Date.now(),
      ...(reason !== undefined ? { reason } : {}),
      storage: {
        state: s.state, failing: s.failing, buffered: s.buffered, journalBytes: s.journalBytes,
        journalPoints: s.journalPoints, droppedJournalFull: s.droppedJournalFull, dropping: s.dropping,
      },
    };
  }
}

/** One line for people: why storage is degraded. */
export function describeStorage(s: StorageHealth): string {
  const parts: string[] = [];
  if (s.failing) parts.push('store writes failing');
  if (s.journalPoints > 0) parts.push(`${s.journalPoints} points in the journal waiting for the store`);
  if (!s.failing && s.journalPoints === 0) parts.push(`${s.buffered} points waiting in memory`);
  if (s.dropping) parts.push(`dropping points: journal disk budget spent (${s.droppedJournalFull} so far)`);
  return parts.join('; ');
}
