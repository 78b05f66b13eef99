import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type prom from 'prom-client';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@linewatch/protocol';
import type { Store } from '@linewatch/store';
import type { ApiConfig } from './config.js';
import { redactConfig } from './config.js';
import { dashboardFiles } from './dashboard-files.js';
import { errorMiddleware, notFoundRoute } from './http-error.js';
import { LineState } from './line-state.js';
import { LiveFeed } from './live-feed.js';
import { ApiMetrics } from './metrics.js';
import { RecordingLibrary } from './recordings.js';
import { ReplayControl } from './replay-control.js';
import { createReplayRoutes } from './replay-routes.js';
import { createRoutes } from './routes.js';
import { createHistoryRoutes } from './history-routes.js';
import { LineThroughput } from './line-throughput.js';
import { ReadingsFeed } from './readings-feed.js';
import { createWaferRoutes } from './wafer-routes.js';
import { createAlertRoutes } from './alerts/alert-routes.js';
import { Alerting } from './alerts/alerting.js';

export { loadApiConfig, type ApiConfig } from './config.js';
export { HttpError } from './http-error.js';

export interface Api {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
  readonly metrics: prom.Registry;
}

export interface ApiDeps {
  store: Store;
  logger: Logger;
}

/** Counts and times every request by its route pattern, never by raw path, to keep label sets small. */
function requestMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const pattern = req.route ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? 'unmatched' : 'static';
      const route = pattern.startsWith('/api') || ['/healthz', '/readyz', '/metrics'].includes(pattern) ? pattern : pattern === 'unmatched' ? pattern : 'static';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };
}

/**
 * Builds the API: line state from MQTT (the live line and the replay line), REST, replays of stored recordings,
 * the socket.io live feed and the dashboard, on one HTTP server.
 * Nothing happens until `start()`, so tests build the real thing.
 *
 * @example
 * const api = createApi(loadApiConfig(process.env), { store, logger });
 * const { url } = await api.start();
 */
export function createApi(config: ApiConfig, deps: ApiDeps): Api {
  const log = deps.logger.child({ module: 'api' });
  const metrics = new ApiMetrics();
  const lineState = new LineState({ config, logger: deps.logger, metrics });
  const library = new RecordingLibrary(config.RECORDINGS_DIR);
  const replay = new ReplayControl({ config, library, clearLine: () => lineState.clearReplayLine(), logger: deps.logger, registry: metrics.registry });

  let listeningUrl = `http://${config.HOST}:${config.PORT}`;
  const alerting = new Alerting({
    options: {
      dbPath: config.ALERTS_DB_PATH,
      webhooksFile: config.WEBHOOKS_FILE,
      publicUrl: () => config.PUBLIC_URL ?? listeningUrl,
      rules: {
        forMs: config.ALERT_FOR_MS, clearHoldMs: config.ALERT_CLEAR_HOLD_MS, clearRatio: config.ALERT_CLEAR_RATIO,
        flapEpisodes: config.ALERT_FLAP_EPISODES, flapWindowMs: config.ALERT_FLAP_WINDOW_MS,
      },
      tickMs: 1_000,
    },
    bus: lineState.bus,
    line: lineState.line,
    logger: deps.logger,
    store: deps.store,
    registry: metrics.registry,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestMetrics(metrics));
  app.use(express.json({ limit: '16kb' }));
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(createRoutes({ lineState, store: deps.store }));
  app.use(createHistoryRoutes({ lineState, store: deps.store }));
  app.use(createWaferRoutes({ lineState, store: deps.store, apiToken: config.API_TOKEN }));
  app.use(createReplayRoutes({ library, replay, apiToken: config.API_TOKEN }));
  app.use(createAlertRoutes({ alerting, apiToken: config.API_TOKEN }));
  app.use('/api', notFoundRoute);
  app.use(dashboardFiles(config.DASHBOARD_DIR));
  app.use(notFoundRoute);
  app.use(errorMiddleware(deps.logger.child({ module: 'http' })));

  const server = http.createServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(server, { serveClient: false, maxHttpBufferSize: 16 * 1024 });
  const readings = new ReadingsFeed({ config, io, metrics, logger: deps.logger });
  const throughput = new LineThroughput({ bus: lineState.bus, line: config.LINE, order: (station) => lineState.station(station)?.meta.order });
  const liveFeed = new LiveFeed({ io, lineState, replay, metrics, logger: deps.logger, alerting, readings, throughput });

  return {
    metrics: metrics.registry,
    async start() {
      // Before the broker link: the retained statuses it brings first may clear alerts left open by a restart.
      alerting.start();
      // Before the broker link too: the retained statuses say which wafer each tool holds now.
      throughput.start();
      await lineState.start();
      for (const line of [config.LINE, config.REPLAY_LINE]) {
        const stored = await deps.store.anomalies({ line, limit: config.RECENT_ANOMALIES }).catch((err: unknown) => {
          log.warn({ err, line }, 'could not load recent anomalies from the store; the list starts empty');
          return [];
        });
        lineState.seedAnomalies(stored);
      }
      await lineState.loadRecentWafers(deps.store);
      readings.start();
      liveFeed.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new Error(`cannot listen on ${config.HOST}:${config.PORT}`, { cause: err })));
        server.listen(config.PORT, config.HOST, () => resolve());
      });
      const port = (server.address() as AddressInfo).port;
      const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
      listeningUrl = url;
      log.info({ url, config: redactConfig(config), replayControl: config.API_TOKEN ? 'enabled' : 'disabled: no API_TOKEN' }, 'api listening');
      return { url, port };
    },
    async stop() {
      // A replay must not outlive the API that started it; its last status still reaches the clients.
      await replay.close();
      liveFeed.stop();
      // io.close() also closes the HTTP server; drop idle keep-alive sockets so the port frees at once.
      await new Promise<void>((resolve) => {
        io.close(() => resolve()).catch((err: unknown) => {
          log.warn({ err }, 'socket.io close failed');
          resolve();
        });
        server.closeAllConnections();
      });
      // After the sockets: their disconnects unwatch first, then the telemetry link goes.
      await readings.stop();
      throughput.stop();
      await lineState.stop();
      await alerting.stop();
      log.info('api stopped');
    },
  };
}
