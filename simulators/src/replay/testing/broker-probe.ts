import { parseTopic, topics } from '@linewatch/protocol';
import mqtt, { type MqttClient } from 'mqtt';

/** One message as a test subscriber received it. */
export interface Received {
  station: string;
  kind: string;
  payload: Record<string, unknown>;
  retained: boolean;
}

/**
 * A QoS 1 subscriber for integration tests: every message of one line, in arrival order. It also clears the
 * line's retained meta and state afterwards, so a test leaves nothing behind on the shared broker.
 */
export class BrokerProbe {
  readonly received: Received[] = [];

  private constructor(
    private readonly client: MqttClient,
    readonly line: string,
  ) {}

  static async connect(url: string, line: string, clientId: string): Promise<BrokerProbe> {
    const client = await mqtt.connectAsync(url, { clientId, clean: true });
    const probe = new BrokerProbe(client, line);
    client.on('message', (topic, payload, packet) => {
      const parsed = parseTopic(topic);
      if (!parsed || payload.length === 0) return;
      probe.received.push({ station: parsed.station, kind: parsed.kind, payload: JSON.parse(payload.toString()) as Record<string, unknown>, retained: packet.retain });
    });
    await client.subscribeAsync(`linewatch/v1/${line}/#`, { qos: 1 });
    return probe;
  }

  count(kind: string): number {
    return this.received.reduce((n, r) => n + (r.kind === kind ? 1 : 0), 0);
  }

  of(kind: string): Received[] {
    return this.received.filter((r) => r.kind === kind);
  }

  /** Deletes the retained meta and state of these stations, then disconnects. */
  async close(stations: Iterable<string>): Promise<void> {
    for (const station of stations) {
      await this.client.publishAsync(topics.meta(this.line, station), '', { qos: 1, retain: true });
      await this.client.publishAsync(topics.state(this.line, station), '', { qos: 1, retain: true });
    }
    await this.client.endAsync();
  }
}
