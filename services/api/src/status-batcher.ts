import type { Health, StationStatus } from '@linewatch/protocol';

/**
 * Sends a line's statuses in batches: every station's latest status, at most one batch per `intervalMs` however
 * many stations and however fast they report, so a page watching 50 stations gets 4 messages a second, not 200.
 * A health change goes at once (with whatever else waits), because an operator must never wait for an alarm.
 * A status replaced before its batch went is counted (`onCoalesced`).
 */
export class StatusBatcher {
  private readonly pending = new Map<string, StationStatus>();
  private readonly lastHealth = new Map<string, Health>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (batch: StationStatus[]) => void,
    private readonly onCoalesced: () => void = () => {},
  ) {}

  push(status: StationStatus): void {
    const key = status.station;
    if (this.pending.has(key)) this.onCoalesced();
    this.pending.set(key, status);
    if (this.lastHealth.get(key) !== status.health) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Sends what waits now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const s of batch) this.lastHealth.set(s.station, s.health);
    this.send(batch);
  }

  /** Drops what waits (a stopping feed, or a replay line being cleared) and forgets the stations. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
    this.lastHealth.clear();
  }
}
