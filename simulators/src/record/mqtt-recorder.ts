import { cappedReconnect, redactUrl, topics } from '@linewatch/protocol';
import { RecordingWriter, type RecordingHeader } from '@linewatch/recording';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { checkMessage } from './check-message.js';
import { DataClock, ownTime, RECORDED_KINDS, toEntry, type StationMessage } from './entries.js';
import { InvalidTally } from './invalid-tally.js';
import { SeqWatch } from './seq-watch.js';
import type { BrokerTls } from '@linewatch/protocol/node';

export interface MqttRecorderOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** For an mqtts:// broker (CA, client certificate). */
  tls?: BrokerTls | undefined;
  /** Fixed, so that a reconnect finds its persistent session and nothing queued for it is lost. */
  clientId: string;
  /** Line id to record, or `+` for every line. */
  line: string;
  /** MQTT 3.1.1 (4) works with every broker, the embedded aedes one included; 5 ends its session on stop. */
  protocolVersion: 4 | 5;
  /** MQTT 5 only: how long the broker keeps the session (and queues for it) while the recorder is away. */
  sessionExpiryS: number;
  /** The recording file to write (`.jsonl.gz`). */
  out: string;
  maxPayloadBytes: number;
  /** Stop after this many telemetry messages (the recording then holds exactly that many). */
  maxTelemetry?: number | undefined;
  logger: Logger;
}

export interface RecorderStats {
  /** Messages delivered by the broker, valid or not. */
  received: number;
  written: { telemetry: number; state: number; meta: number; truth: number };
  invalid: InvalidTally;
  /** Empty retained payloads (a meta or state deleted); nothing to record. */
  cleared: number;
  /** Redelivered snapshots already written (QoS 1 is at least once), skipped. */
  duplicates: number;
  /** Snapshots missing by their seq (gaps not filled later): lost before they reached the recorder. */
  lost: number;
  /**
   * Snapshots that arrived after a later one of their station, and are recorded where they arrived. Mosquitto
   * does this after a reconnect: while it drains the session's backlog it sends a new message or two ahead of it.
   */
  reordered: number;
  /** Times a station's seq went back with a newer ts: its publisher restarted. */
  resets: number;
  /** Valid messages marked `replay: true`, and live ones. */
  replayed: number;
  live: number;
  /** Times intake paused (acks withheld) until the file caught up: the recorder's backpressure on the broker. */
  writerWaits: number;
  reconnects: number;
  /** Wall-clock epoch ms the first and the latest snapshot were written: the rate while data flowed. */
  firstTelemetryAt: number | null;
  lastTelemetryAt: number | null;
}

/**
 * Records a live broker to a file. It subscribes QoS 1 on a persistent session and acknowledges a message only
 * once it is written; while gzip is behind, acks are withheld, so the broker (not the recorder's heap) holds
 * the backlog, and a reconnect redelivers whatever was not acknowledged. Every message is validated; the
 * invalid ones are counted and listed, never written and never silently dropped.
 */
export class MqttRecorder {
  readonly stats: RecorderStats = {
    received: 0, written: { telemetry: 0, state: 0, meta: 0, truth: 0 }, invalid: new InvalidTally(), cleared: 0,
    duplicates: 0, lost: 0, reordered: 0, resets: 0, replayed: 0, live: 0, writerWaits: 0, reconnects: 0,
    firstTelemetryAt: null, lastTelemetryAt: null,
  };
  /** Resolves when `maxTelemetry` snapshots are written. */
  readonly limitReached: Promise<void>;
  private reachLimit!: () => void;
  /** Resolves with the first error that stops messages being recorded (the file cannot be written): stop then. */
  readonly failed: Promise<Error>;
  private fail!: (err: Error) => void;
  private client: MqttClient | undefined;
  private writer: RecordingWriter | undefined;
  private readonly clock = new DataClock();
  private readonly seq = new SeqWatch();
  /** Messages of lines that have sent no snapshot yet, kept to be written at the line's first snapshot. */
  private readonly held = new Map<string, StationMessage[]>();
  private stopping = false;
  private limitHit = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly options: MqttRecorderOptions) {
    this.limitReached = new Promise((resolve) => (this.reachLimit = resolve));
    this.failed = new Promise((resolve) => (this.fail = resolve));
    this.log = options.logger.child({ module: 'recorder' });
  }

  /** Connects and subscribes; throws a clear Error when the broker is unreachable or refuses. */
  async start(): Promise<void> {
    const { url, clientId, protocolVersion, sessionExpiryS, line } = this.options;
    const where = redactUrl(url);
    const base: IClientOptions = {
      clientId,
      protocolVersion,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.options.username ? { username: this.options.username } : {}),
      ...(this.options.password ? { password: this.options.password } : {}),
      ...this.options.tls,
    };
    try {
      // A clean connect first discards a session an earlier (crashed) recorder left behind, with its backlog:
      // that data belongs to no recording. The real link then keeps its session across reconnects.
      const wipe = await mqtt.connectAsync(url, { ...base, clean: true, reconnectPeriod: 0 }, false);
      await wipe.endAsync();
      const client = cappedReconnect(await mqtt.connectAsync(url, {
        ...base,
        clean: false,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: sessionExpiryS } } : {}),
      }, false));
      this.client = client;
      client.handleMessage = (packet, done) => this.onPublish(packet.topic, packet.payload, done);
      client.on('connect', (connack) => {
        this.stats.reconnects++;
        this.log.info({ url: where, sessionPresent: connack.sessionPresent }, 'reconnected');
      });
      client.on('offline', () => this.log.warn({ url: where }, 'broker offline; the persistent session queues QoS 1 messages until we are back'));
      client.on('error', (err) => this.log.warn({ err: { message: err.message } }, 'mqtt error'));
      const filters = RECORDED_KINDS.map((kind) => topics.all(kind, line));
      const granted = await client.subscribeAsync(filters, { qos: 1 });
      const refused = granted.filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (refused.length > 0) throw new Error(`broker refused the subscriptions ${refused.join(', ')}`);
      this.log.info({ url: where, filters, clientId }, 'recording');
    } catch (err) {
      await this.client?.endAsync(true);
      this.client = undefined;
      throw new Error(`recorder cannot subscribe at ${where}`, { cause: err });
    }
  }

  private onPublish(topic: string, payload: Buffer | string, done: (err?: Error) => void): void {
    // Not acknowledged: the session is ended on stop, so nothing comes back for it.
    if (this.stopping) return done(new Error('recorder stopping; message left unacknowledged'));
    this.busy = this.handle(topic, typeof payload === 'string' ? Buffer.from(payload) : payload).then(
      () => done(),
      (err: unknown) => {
        const error = new Error(`recording a message of ${topic} failed`, { cause: err });
        this.log.error({ err: error }, 'recording failed');
        this.fail(error);
        // Left unacknowledged: the recording cannot go on, and a later session may still get it.
        done(error);
      },
    );
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    this.stats.received++;
    // Past the limit the recording is complete; later messages are outside it, as after a duration.
    if (this.limitHit) return;
    const checked = checkMessage(topic, payload, this.options.maxPayloadBytes);
    if (checked.status === 'invalid') return this.stats.invalid.add(topic, checked.reason);
    if (checked.status === 'cleared') {
      this.stats.cleared++;
      return;
    }
    const { message } = checked;
    if (message.kind === 'telemetry') {
      const verdict = this.seq.observe(`${message.line}/${message.station}`, message.msg.seq, message.msg.ts);
      if (verdict.duplicate) {
        this.stats.duplicates++;
        return;
      }
      this.stats.lost += verdict.missing;
      if (verdict.missing < 0) this.stats.reordered++;
      if (verdict.reset) this.stats.resets++;
    }
    if (message.msg.replay) this.stats.replayed++;
    else this.stats.live++;
    await this.record(message);
    if (this.writer?.needsDrain) {
      this.stats.writerWaits++;
      await this.writer.drain();
    }
  }

  private async record(message: StationMessage): Promise<void> {
    const { line } = message;
    if (message.kind !== 'telemetry') {
      const at = this.clock.latestOn(line);
      // Before its line's first snapshot a message has no place on the data clock yet. Its own time will not
      // do: a retained state `since` last week would stretch the recording over a week of nothing.
      if (at === undefined) this.held.set(line, [...(this.held.get(line) ?? []), message]);
      else this.write(message, at);
      return;
    }
    // The first snapshot decides what the recording is: a live line, or a replay someone else is playing.
    this.writer ??= await this.createWriter(message.msg.replay === true);
    const at = this.clock.telemetry(line, message.msg.ts);
    for (const held of this.held.get(line) ?? []) this.write(held, at);
    this.held.delete(line);
    this.write(message, at);
    const now = Date.now();
    this.stats.firstTelemetryAt ??= now;
    this.stats.lastTelemetryAt = now;
    if (this.stats.written.telemetry === this.options.maxTelemetry) {
      this.limitHit = true;
      this.reachLimit();
    }
  }

  private write(message: StationMessage, at: number): void {
    this.writer!.write(toEntry(message, at));
    this.stats.written[message.kind]++;
  }

  private createWriter(replayed: boolean): Promise<RecordingWriter> {
    return RecordingWriter.create(this.options.out, { source: { kind: replayed ? 'replay' : 'mqtt', detail: redactUrl(this.options.url) } });
  }

  /** Stops intake, ends the broker session, writes what is held and closes the file; returns its header. */
  async stop(): Promise<RecordingHeader> {
    this.stopping = true;
    const client = this.client;
    this.client = undefined;
    if (client) await this.endSession(client);
    await this.busy;
    this.writer ??= await this.createWriter(false);
    // Lines that never sent a snapshot: their messages go at their own time, else the latest data time.
    for (const messages of this.held.values()) {
      for (const m of messages) this.write(m, ownTime(m) ?? this.clock.latestAnywhere() ?? Date.now());
    }
    this.held.clear();
    return this.writer.close();
  }

  /** Unsubscribes (so the broker stops queueing for this client id) and disconnects, bounded in time. */
  private async endSession(client: MqttClient): Promise<void> {
    const { protocolVersion } = this.options;
    const bounded = <T>(work: Promise<T>, ms: number) => Promise.race([work.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    try {
      if (client.connected) await bounded(client.unsubscribeAsync(RECORDED_KINDS.map((kind) => topics.all(kind, this.options.line))), 3_000);
      const ended = await bounded(client.endAsync(false, protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}), 3_000);
      if (!ended) await client.endAsync(true);
    } catch (err) {
      this.log.warn({ err }, 'ending the broker session failed; it expires on its own');
      await client.endAsync(true).catch(() => undefined);
    }
  }
}
