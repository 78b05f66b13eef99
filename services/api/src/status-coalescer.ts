import type { StationStatus } from '@linewatch/protocol';

/**
 * Limits status updates per station to one per `intervalMs`, keeping the latest. A health change
 * always passes at once, because an operator must never wait for an alarm.
 */
export class StatusCoalescer {
  private readonly lastSent = new Map<string, { at: number; health: StationStatus['health'] }>();
  private readonly pending = new Map<string, { status: StationStatus; timer: NodeJS.Timeout }>();

  constructor(
    private readonly intervalMs: number,
    private readonly send: (status: StationStatus) => void,
    private readonly onCoalesced: () => void = () => {},
  ) {}

  push(status: StationStatus): void {
    const key = status.station;
    const last = this.lastSent.get(key);
    const now = Date.now();
    if (!last || last.health !== status.health || now - last.at >= this.intervalMs) {
      this.flushNow(key, status, now);
      return;
    }
    const waiting = this.pending.get(key);
    if (waiting) {
      this.onCoalesced();
      waiting.status = status;
      return;
    }
    const timer = setTimeout(() => {
      const entry = this.pending.get(key);
      if (entry) this.flushNow(key, entry.status, Date.now());
    }, this.intervalMs - (now - last.at));
    this.pending.set(key, { status, timer });
  }

  stop(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.lastSent.clear();
  }

  private flushNow(key: string, status: StationStatus, now: number): void {
    const waiting = this.pending.get(key);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.pending.delete(key);
      // The waiting update is superseded by this one.
      if (waiting.status !== status) this.onCoalesced();
    }
    this.lastSent.set(key, { at: now, health: status.health });
    this.send(status);
  }
}
