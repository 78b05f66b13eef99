import prom from 'prom-client';

/** The API's own Prometheus registry; never the global default, so tests and embedded runs do not collide. */
export class ApiMetrics {
  readonly registry = new prom.Registry();
  readonly httpRequests = new prom.Counter({
    name: 'linewatch_api_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new prom.Histogram({
    name: 'linewatch_api_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly socketClients = new prom.Gauge({
    name: 'linewatch_api_socket_clients',
    help: 'Connected socket.io clients',
    registers: [this.registry],
  });
  readonly messages = new prom.Counter({
    name: 'linewatch_api_mqtt_messages_total',
    help: 'MQTT messages accepted, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly rejects = new prom.Counter({
    name: 'linewatch_api_mqtt_rejects_total',
    help: 'MQTT messages rejected (bad topic, payload or schema, or a handler error), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly brokerConnected = new prom.Gauge({
    name: 'linewatch_api_broker_connected',
    help: '1 while the API is connected to the MQTT broker',
    registers: [this.registry],
  });
  readonly commands = new prom.Counter({
    name: 'linewatch_api_commands_total',
    help: 'Commands to the detector (re-baselines) by type and outcome: published (the broker confirmed) or failed',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly statusCoalesced = new prom.Counter({
    name: 'linewatch_api_status_coalesced_total',
    help: 'Station statuses replaced by a later one before their batch reached socket clients',
    registers: [this.registry],
  });
  readonly watchedStations = new prom.Gauge({
    name: 'linewatch_api_watched_stations',
    help: 'Stations whose telemetry the API takes because a socket client watches them (station view)',
    registers: [this.registry],
  });
  readonly readingsForwarded = new prom.Counter({
    name: 'linewatch_api_readings_forwarded_total',
    help: 'Readings sent to watching socket clients (once per batch, however many clients watch)',
    registers: [this.registry],
  });
  readonly readingsBatches = new prom.Counter({
    name: 'linewatch_api_readings_batches_total',
    help: 'Readings batches sent to watching socket clients',
    registers: [this.registry],
  });
  readonly readingsDropped = new prom.Counter({
    name: 'linewatch_api_readings_dropped_total',
    help: 'Readings received for a watched station but not sent: batch_full (more than a batch holds), unwatched (last watcher left)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    prom.collectDefaultMetrics({ register: this.registry, prefix: 'linewatch_api_' });
  }
}
