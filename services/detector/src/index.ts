import { createStore, initStore } from '@linewatch/store';
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
  // A detector started while its store is down still starts: it scores, and its writes wait in the journal.
  const setup = await initStore(store, logger);
  let stopping = false;
  const detector = createDetector(config, { store, logger });

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    setup.stop();
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

main().catch((err: unknown) => {
  logger.fatal({ err }, 'detector failed to start');
  process.exit(1);
});
