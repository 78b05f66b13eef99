import { createStore } from '@linewatch/store';
import pino from 'pino';
import { createDetector, loadDetectorConfig, type DetectorConfig } from './app.js';

/** Process entry: `tsx services/detector/src/index.ts`. */
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<void> {
  let config: DetectorConfig;
  try {
    config = loadDetectorConfig(process.env);
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(1);
  }
  logger.level = config.logLevel;
  const store = createStore(config.store, logger);
  let stopping = false;
  // A detector started while its store is down still starts: it scores, and its writes wait in the journal. The
  // store is set up (database, retention policies, continuous queries) once it answers.
  const initialized = store.init().then(
    () => true,
    (err: unknown) => {
      logger.error({ err }, 'store not reachable at start; starting anyway (writes wait in the journal), retrying its setup');
      return false;
    },
  );
  if (!(await initialized)) void retryInit(store, () => stopping);
  const detector = createDetector(config, { store, logger });

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping detector');
    // Reverse order of start: the detector flushes its buffers into the store, then the store closes.
    detector
      .stop()
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'unclean shutdown');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await detector.start();
}

/** Retries the store's setup with capped backoff until it succeeds or the detector stops. */
async function retryInit(store: { init(): Promise<void> }, stopped: () => boolean): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5))).unref());
    if (stopped()) return;
    try {
      await store.init();
      logger.info({ attempt }, 'store set up');
      return;
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message }, attempt }, 'store setup failed; retrying');
    }
  }
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'detector failed to start');
  process.exit(1);
});
