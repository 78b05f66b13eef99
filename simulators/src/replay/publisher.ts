import { cappedReconnect, redactUrl } from '@linewatch/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { BrokerTls } from '@linewatch/protocol/node';

export interface PublishOptions {
  qos: 1;
  retain: boolean;
}

/** Where replayed messages go. The MQTT one is below; tests pass a fake. */
export interface ReplaySink {
  /**
   * Resolves true once the message is handed over, which waits while too many QoS 1 publishes are
   * unacknowledged; false when `interrupt()` or `close()` came first and it was not published.
   */
  publish(topic: string, payload: string, options: PublishOptions): Promise<boolean>;
  /** Wakes publishes waiting for the window, unpublished, and refuses further ones: a stop must not wait on a broker. */
  interrupt(): void;
  /** Waits until every publish is acknowledged or the deadline passes; resolves with those still unacknowledged. */
  flush(deadlineMs: number): Promise<number>;
  close(): Promise<void>;
  readonly stats: SinkStats;
}

export interface SinkStats {
  /** Handed to the client. */
  published: number;
  /** Acknowledged by the broker. */
  acked: number;
  /** Failed publishes (the client reported an error). */
  errors: number;
  /** Times a publish waited for the in-flight window: the broker was the limit. */
  backpressureWaits: number;
  peakInflight: number;
}

export interface MqttSinkOptions {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** For an mqtts:// broker (CA, client certificate). */
  tls?: BrokerTls | undefined;
  /** Unacknowledged QoS 1 publishes allowed at once; default 500, as the simulator runner. */
  maxInflight?: number | undefined;
  logger: Logger;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Publishes over one MQTT connection, so the broker sees the replay in recording order. At most `maxInflight`
 * QoS 1 publishes wait for their PUBACK at once: that bounds memory and makes `max` speed exactly as fast as the
 * broker takes it. mqtt.js keeps unacknowledged publishes and resends them after a reconnect.
 */
export class MqttReplaySink implements ReplaySink {
  readonly stats: SinkStats = { published: 0, acked: 0, errors: 0, backpressureWaits: 0, peakInflight: 0 };
  private inflight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private interrupted = false;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: MqttSinkOptions,
  ) {}

  static async connect(options: MqttSinkOptions): Promise<MqttReplaySink> {
    const where = redactUrl(options.url);
    let client: MqttClient;
    try {
      client = cappedReconnect(await mqtt.connectAsync(options.url, {
        clientId: options.clientId,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ...(options.username ? { username: options.username } : {}),
        ...(options.password ? { password: options.password } : {}),
        ...options.tls,
      }, false));
    } catch (err) {
      throw new Error(`replay cannot connect to ${where}`, { cause: err });
    }
    const log = options.logger;
    client.on('error', (err) => log.warn({ err: { message: err.message } }, 'mqtt error'));
    client.on('offline', () => log.warn({ url: where }, 'broker offline; unacknowledged publishes are resent on reconnect'));
    return new MqttReplaySink(client, options);
  }

  async publish(topic: string, payload: string, options: PublishOptions): Promise<boolean> {
    const limit = this.options.maxInflight ?? 500;
    if (this.inflight >= limit && !this.interrupted) {
      this.stats.backpressureWaits++;
      while (this.inflight >= limit && !this.interrupted) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    if (this.interrupted) return false;
    this.inflight++;
    this.stats.published++;
    if (this.inflight > this.stats.peakInflight) this.stats.peakInflight = this.inflight;
    this.client.publish(topic, payload, options, (err) => {
      this.inflight--;
      if (err) {
        this.stats.errors++;
        this.options.logger.warn({ err: { message: err.message }, topic }, 'publish failed');
      } else {
        this.stats.acked++;
      }
      this.slotWaiters.shift()?.();
      if (this.inflight === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
    });
    return true;
  }

  interrupt(): void {
    this.interrupted = true;
    this.slotWaiters.splice(0).forEach((wake) => wake());
  }

  async flush(deadlineMs: number): Promise<number> {
    if (this.inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
    }
    return this.inflight;
  }

  async close(): Promise<void> {
    this.interrupt();
    // Forced when publishes are still unacknowledged: flush() already waited as long as allowed.
    await this.client.endAsync(this.inflight > 0);
  }
}
