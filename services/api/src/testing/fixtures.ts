import mqtt, { type MqttClient } from 'mqtt';
import { topics, type Anomaly, type ServiceHealth, type StateMessage, type StationMeta, type StationStatus, type StationTopicKind, type WaferVerdict } from '@linewatch/protocol';

/** A line id no other test run uses, so tests can share one broker. */
export function uniqueLine(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A detector's health message (ServiceHealth), ok with empty storage unless patched. */
export function serviceHealth(line: string, instance: string, patch: Partial<ServiceHealth> = {}): ServiceHealth {
  return {
    service: 'detector',
    instance,
    line,
    state: 'ok',
    ts: Date.now(),
    storage: { state: 'ok', failing: false, buffered: 0, journalBytes: 0, journalPoints: 0, droppedJournalFull: 0 },
    ...patch,
  };
}

export const STATION_TYPES = ['load', 'clean', 'litho', 'etch', 'dep', 'cmp', 'inspect', 'unload'] as const;

export function meta(line: string, station: string, order: number, name = station): StationMeta {
  return {
    line,
    station,
    type: station.replace(/-\d+$/, ''),
    name,
    order,
    sensors: [
      { name: 'rf_power', unit: 'W', min: 0, max: 3000 },
      { name: 'chamber_pressure', unit: 'mTorr', min: 0, max: 200 },
    ],
  };
}

export function status(line: string, station: string, patch: Partial<StationStatus> = {}): StationStatus {
  const now = Date.now();
  return { line, station, health: 'OK', since: now - 60_000, ts: now, score: 0.31, threshold: 1, modelVersion: 'test@1', contributors: [], ...patch };
}

export function state(patch: Partial<StateMessage> = {}): StateMessage {
  return { state: 'PRODUCTIVE', since: Date.now() - 3_600_000, ...patch };
}

export function anomaly(line: string, station: string, ts: number, patch: Partial<Anomaly> = {}): Anomaly {
  return {
    id: `${line}/${station}/${ts}`,
    line,
    station,
    ts,
    seq: 1,
    score: 3.2,
    threshold: 1,
    t2: 40.1,
    spe: 2.2,
    modelVersion: 'test@1',
    severity: 'critical',
    contributors: [
      { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 },
      { sensor: 'chamber_pressure', value: 38.2, expected: 35.1, contribution: 0.2 },
    ],
    ...patch,
  };
}

/** A faulty wafer of etch's main_etch step, ending at `end`, unless patched. */
export function waferVerdict(line: string, station: string, wafer: string, end: number, patch: Partial<WaferVerdict> = {}): WaferVerdict {
  const step = patch.step ?? 'main_etch';
  const start = end - 60_000;
  return {
    id: `${line}/${station}/${wafer}/${step}/${start}`,
    line,
    station,
    wafer,
    lot: 'L0001',
    recipe: 'ETCH-AL-01',
    step,
    start,
    end,
    samples: 60,
    verdict: 'fault',
    score: 1.8,
    threshold: 1,
    t2: 20.5,
    spe: 1.1,
    modelVersion: 'etch-wafer@1',
    baseline: 'b1',
    contributors: [
      { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.6, stat: 'mean' },
      { sensor: 'step', value: 75, expected: 60, contribution: 0.25, stat: 'duration' },
    ],
    ...patch,
  };
}

/** Kinds the line keeps on the broker; the rest are events. */
const RETAINED: readonly StationTopicKind[] = ['meta', 'state', 'status'];

/** A publisher that remembers retained topics so a test can clear them from the shared broker afterwards. */
export class TestPublisher {
  private readonly retained = new Set<string>();
  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string): Promise<TestPublisher> {
    const client = await mqtt.connectAsync(url, { clientId: `lw-test-pub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
    return new TestPublisher(client);
  }

  async publish(line: string, station: string, kind: StationTopicKind, payload: unknown, retain = RETAINED.includes(kind)): Promise<void> {
    const topic = topics[kind](line, station);
    if (retain) this.retained.add(topic);
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain });
  }

  /** Clears the retained topics it published (an empty retained payload deletes them), then disconnects. */
  async close(clearRetained = true): Promise<void> {
    if (clearRetained) for (const topic of this.retained) await this.client.publishAsync(topic, '', { qos: 1, retain: true });
    await this.client.endAsync();
  }
}
